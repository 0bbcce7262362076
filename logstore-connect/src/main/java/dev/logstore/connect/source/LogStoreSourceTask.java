package dev.logstore.connect.source;

import dev.logstore.LogReader;
import dev.logstore.LogStore;
import dev.logstore.LogStoreException;
import dev.logstore.connect.Version;
import dev.logstore.connect.config.ArchivePaths;
import dev.logstore.connect.config.PackingSettings;
import dev.logstore.connect.metrics.TaskMetrics;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.connect.errors.ConnectException;
import org.apache.kafka.connect.source.SourceRecord;
import org.apache.kafka.connect.source.SourceTask;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Replays its assigned store partitions. The source offset of each record is the next archive
 * offset, so a restarted task resumes exactly after the last committed record; with the worker's
 * exactly-once source support those offsets commit in the same transaction as the records.
 */
public final class LogStoreSourceTask extends SourceTask {

    private static final Logger log = LoggerFactory.getLogger(LogStoreSourceTask.class);

    private final Object lock = new Object();
    private final Map<String, LogStore> stores = new HashMap<>();
    private final List<PartitionReplay> replays = new ArrayList<>();
    private LogStoreSourceConfig config;
    private TaskMetrics metrics;
    private volatile long replayedTotal;
    private volatile boolean allFinished;
    private int batchSize;
    private int maxBytes;
    private long pollTimeoutMs;
    private double rateLimit;
    private long nextPermitNanos;
    private int cursor;
    private boolean announcedFinish;
    private volatile boolean stopping;
    private RemovedRecords removed;

    /** The longest a poll waits (for records, a rate limit, a finished replay), so Connect can commit and stop. */
    private static final long MAX_WAIT_MS = 1_000;

    @Override
    public String version() {
        return Version.get();
    }

    @Override
    public void start(Map<String, String> props) {
        config = new LogStoreSourceConfig(props);
        batchSize = config.getInt(LogStoreSourceConfig.BATCH_SIZE);
        maxBytes = config.getInt(LogStoreSourceConfig.BATCH_MAX_BYTES);
        pollTimeoutMs = config.getLong(LogStoreSourceConfig.POLL_TIMEOUT_MS);
        rateLimit = config.getDouble(LogStoreSourceConfig.RATE_LIMIT);
        removed = new RemovedRecords(config.skipRemovedRecords());
        Map<StorePartition, ReplayPlan.Range> plan =
                ReplayPlan.decode(props.getOrDefault(LogStoreSourceConfig.TASK_ASSIGNMENT, ""));
        List<StorePartition> units = List.copyOf(plan.keySet());
        Map<StorePartition, Map<String, Object>> committed = CommittedOffsets.find(context.offsetStorageReader(), units,
                ReplayPlan.units(props.get(LogStoreSourceConfig.TASK_OFFSETS_ALTERED)));
        try {
            for (StorePartition unit : units) {
                replays.add(openReplay(unit, plan.get(unit), committed.get(unit)));
            }
        } catch (RuntimeException e) {
            closeAll();
            throw e instanceof ConnectException ? e : new ConnectException("Cannot start the replay: " + e.getMessage(), e);
        }
        metrics = TaskMetrics.open(context, "source", TaskMetrics.taskTags(props.getOrDefault("name", "source")));
        metrics.gauge("records-replayed", "Records this task has replayed since it started", () -> replayedTotal);
        metrics.gauge("bytes-replayed", "Key and value bytes this task has replayed since it started",
                () -> replays.stream().mapToLong(PartitionReplay::bytesReplayed).sum());
        metrics.gauge("records-skipped", "Offsets skipped because archive retention removed them before they were "
                + "replayed (" + LogStoreSourceConfig.ON_REMOVED_RECORDS + "=skip)", removed::skipped);
        metrics.gauge("replay-finished", "1 when every partition of a bounded replay reached its end, else 0",
                () -> allFinished ? 1 : 0);
        for (PartitionReplay replay : replays) {
            StorePartition unit = replay.unit();
            LogStore store = stores.get(unit.store());
            metrics.gauge("replay-position", "The next archive offset to replay", unit.store(), unit.partition(),
                    replay::position);
            metrics.gauge("remaining-records", "Archive offsets left to replay: to the planned end, or while "
                    + "following to the archive's end (an upper bound on the records: offsets may have gaps)",
                    unit.store(), unit.partition(), () -> replay.remaining(store));
        }
        log.info("LogStore source task replaying {} from {}", units, config.archiveRoot());
    }

    private PartitionReplay openReplay(StorePartition unit, ReplayPlan.Range range, Map<String, Object> committed) {
        LogStore store = stores.computeIfAbsent(unit.store(), name ->
                PackingSettings.applyForReading(config,
                        LogStore.builder(ArchivePaths.storeDirectory(config.archiveRoot(), name)).readOnly()).open());
        LogReader reader = store.reader(unit.partition());
        Object committedOffset = committed == null ? null : committed.get(PartitionReplay.OFFSET_KEY);
        if (committedOffset instanceof Number position) {
            seekAtLeastStart(reader, unit, position.longValue());
            log.info("{}: resuming at committed offset {}; the replay ends before {}", unit, position,
                    range.end() == Long.MAX_VALUE ? "nothing (following)" : range.end());
        } else {
            seekAtLeastStart(reader, unit, range.start());
        }
        return new PartitionReplay(unit, reader, range.end(), config.targetTopic(unit.store()), config.mapping(),
                store.partitionCount(), removed);
    }

    private void seekAtLeastStart(LogReader reader, StorePartition unit, long offset) {
        reader.seekToStart();
        long start = reader.position();
        if (offset < start) {
            removed.onRemoved(unit, offset, start);
        } else {
            reader.seek(offset);
        }
    }

    @Override
    public List<SourceRecord> poll() throws InterruptedException {
        if (!awaitPermit()) {
            return null;
        }
        List<SourceRecord> out = new ArrayList<>();
        synchronized (lock) {
            if (stopping) {
                return null;
            }
            try {
                int budget = rateLimit > 0 ? (int) Math.max(1, Math.min(batchSize, Math.ceil(rateLimit / 10))) : batchSize;
                for (int i = 0; i < replays.size() && out.size() < budget; i++) {
                    replays.get((cursor + i) % replays.size()).poll(budget - out.size(), maxBytes, out);
                }
                cursor++;
                replayedTotal += out.size();
                allFinished = finished();
                if (out.isEmpty()) {
                    idle();
                    return null;
                }
            } catch (LogStoreException e) {
                throw new ConnectException("Replay failed: " + e.getMessage(), e);
            }
        }
        spendPermits(out.size());
        return out;
    }

    /** Nothing to emit: announce a finished replay once, then wait without spinning. */
    private void idle() throws InterruptedException {
        if (finished()) {
            if (!announcedFinish) {
                announcedFinish = true;
                log.info("LogStore replay finished: {} records from {} replayed; the connector can be deleted",
                        replayedTotal, replays.stream().map(PartitionReplay::unit).toList());
            }
            TimeUnit.MILLISECONDS.sleep(Math.min(pollTimeoutMs, MAX_WAIT_MS));
            return;
        }
        for (PartitionReplay replay : replays) {
            if (!replay.finished()) {
                replay.awaitData(Math.min(pollTimeoutMs, MAX_WAIT_MS));
                return;
            }
        }
    }

    /**
     * With a rate limit: waits for the next permit, but at most {@link #MAX_WAIT_MS}; false when it
     * is not due yet (the poll then returns nothing, and Connect may commit or stop meanwhile).
     */
    private boolean awaitPermit() throws InterruptedException {
        if (rateLimit <= 0) {
            return true;
        }
        long wait = nextPermitNanos - System.nanoTime();
        if (wait > 0) {
            TimeUnit.NANOSECONDS.sleep(Math.min(wait, TimeUnit.MILLISECONDS.toNanos(MAX_WAIT_MS)));
        }
        return nextPermitNanos - System.nanoTime() <= 0;
    }

    /** Records emitted use up permits: the next poll waits until they are earned. */
    private void spendPermits(int records) {
        if (rateLimit > 0) {
            nextPermitNanos = Math.max(System.nanoTime(), nextPermitNanos) + (long) (records * 1e9 / rateLimit);
        }
    }

    /** True when every assigned partition reached the end of a bounded replay (called under the lock). */
    private boolean finished() {
        return !replays.isEmpty() && replays.stream().allMatch(PartitionReplay::finished);
    }

    @Override
    public void stop() {
        stopping = true;
        try {
            synchronized (lock) {
                closeAll();
            }
        } finally {
            if (metrics != null) {
                metrics.close();
            }
        }
    }

    /** Closes every reader and store, going on past any that fails to close. */
    private void closeAll() {
        List<AutoCloseable> open = new ArrayList<>(replays);
        open.addAll(stores.values());
        replays.clear();
        stores.clear();
        for (AutoCloseable resource : open) {
            try {
                resource.close();
            } catch (Exception e) {
                log.warn("Closing {} failed", resource, e);
            }
        }
    }
}
