package dev.logstore.connect.sink;

import dev.logstore.LogStore;
import dev.logstore.LogStoreException;
import dev.logstore.StoreLockedException;
import dev.logstore.WriterFencedException;
import dev.logstore.connect.Version;
import dev.logstore.connect.config.ArchivePaths;
import dev.logstore.connect.config.PackingSettings;
import dev.logstore.connect.config.StoreSettings;
import dev.logstore.connect.metrics.TaskMetrics;
import dev.logstore.record.Record;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.UnaryOperator;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.connect.errors.ConnectException;
import org.apache.kafka.connect.errors.DataException;
import org.apache.kafka.connect.sink.ErrantRecordReporter;
import org.apache.kafka.connect.sink.SinkRecord;
import org.apache.kafka.connect.sink.SinkTask;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Archives the records of its assigned topic partitions.
 *
 * <p>Exactly once without Kafka transactions: on {@link #open} each partition's archive says
 * where it ends and the consumer is rewound there; records the archive already holds are skipped
 * when re-delivered; {@link #preCommit} waits for the queued appends, forces the archive to disk
 * and only then reports what is on disk. Appends run on a writer thread of the task's own
 * ({@link ArchiveWriter}) while the task thread fetches the next records. A task killed at any
 * moment and restarted anywhere resumes at the archive's end: no duplicate, no gap.
 */
public final class LogStoreSinkTask extends SinkTask {

    private static final Logger log = LoggerFactory.getLogger(LogStoreSinkTask.class);

    /** Per assigned topic partition: its archive and how far this task has got with it. */
    private static final class Assigned {
        final TopicPartition topicPartition;
        final TopicPartitionArchive archive;
        /** Records below this Kafka offset are archived (or deliberately skipped). */
        long next;
        /** Offset after the last record handled, -1 before the first. */
        long handled = -1;
        /**
         * The offset the consumer was rewound to when the partition was opened, until the first
         * records arrive; -1 when there was no rewind or they have arrived.
         */
        long rewoundTo = -1;

        /**
         * Opened empty in a new generation of its store and rewound to offset 0: until records
         * arrive, Connect's position may still count the old topic's records, and is not reported.
         */
        boolean newGeneration;

        // Written by the writer thread, read by metrics.
        volatile long lastArchivedOffset = -1;
        volatile long lastArchivedTimestamp = -1;

        Assigned(TopicPartition topicPartition, TopicPartitionArchive archive) {
            this.topicPartition = topicPartition;
            this.archive = archive;
        }
    }

    /** A topic found re-created, waiting for the new generation of its store; its partitions are paused. */
    private static final class PendingGeneration {
        final ArchivedCluster.Recreated recreated;
        final Set<TopicPartition> partitions;
        long loggedAt = System.nanoTime();

        PendingGeneration(ArchivedCluster.Recreated recreated, Set<TopicPartition> partitions) {
            this.recreated = recreated;
            this.partitions = partitions;
        }
    }

    /** How long one try to start a new generation waits for writers still closing the old store. */
    private static final Duration GENERATION_WAIT = Duration.ofSeconds(2);
    /** How often put() looks for topics another task announced re-created, and tries waiting generations. */
    private static final long GENERATION_LOOK_NANOS = TimeUnit.SECONDS.toNanos(1);

    private LogStoreSinkConfig config;
    private final Map<TopicPartition, Assigned> assigned = new HashMap<>();
    private final Map<String, PendingGeneration> pendingGenerations = new java.util.TreeMap<>();
    private long generationsLookedAt;
    /** Partitions this task paused waiting for new generations (Connect keeps them paused across rebalances). */
    private final Set<TopicPartition> pausedForGenerations = new HashSet<>();
    private final Map<String, KeyHashStore> keyHashStores = new HashMap<>();
    private final Map<String, KafkaMappedStore> kafkaMappedStores = new HashMap<>();
    /** Names this task's threads apart from other tasks': "connector-id" when run by Connect. */
    private String label;
    private String connectorName;
    private final List<Future<Void>> reported = new ArrayList<>();
    private ErrantRecordReporter reporter;
    private ArchiveWriter writer;
    /** The archived cluster's admin API, when the settings name it. */
    private ArchivedCluster cluster;
    private UnaryOperator<TopicPartitionArchive> archiveWrapper = UnaryOperator.identity();
    private java.util.function.Function<Map<String, Object>, org.apache.kafka.clients.admin.Admin> admins =
            org.apache.kafka.clients.admin.Admin::create;
    /**
     * Why the task must stop, set when a commit found the archive could not be made durable or a
     * check refused a re-created topic. Connect only logs an exception from preCommit and goes on,
     * so the next call fails the task with it.
     */
    private ConnectException failed;
    private TaskMetrics metrics;
    private final AtomicLong recordsArchived = new AtomicLong();
    private final AtomicLong bytesArchived = new AtomicLong();
    private final AtomicLong recordsNotArchived = new AtomicLong();
    private final AtomicLong fsyncs = new AtomicLong();
    private final AtomicLong fsyncNanos = new AtomicLong();
    private final AtomicLong fsyncNanosMax = new AtomicLong();

    @Override
    public String version() {
        return Version.get();
    }

    @Override
    public void start(Map<String, String> props) {
        config = new LogStoreSinkConfig(props);
        try {
            reporter = context.errantRecordReporter();
        } catch (NoSuchMethodError | NoClassDefFoundError e) {
            reporter = null;
        }
        String thread = Thread.currentThread().getName();
        connectorName = props.getOrDefault("name", "sink");
        label = thread.startsWith("task-thread-") ? thread.substring("task-thread-".length())
                : props.getOrDefault("name", "sink") + "-" + thread;
        writer = new ArchiveWriter("logstore-sink-writer-" + label);
        cluster = ArchivedCluster.connect(config, connectorName, admins);
        metrics = TaskMetrics.open(context, "sink", TaskMetrics.taskTags(props.getOrDefault("name", "sink")));
        metrics.gauge("records-archived", "Records this task has archived since it started", recordsArchived::get);
        metrics.gauge("bytes-archived", "Key and value bytes this task has archived since it started",
                bytesArchived::get);
        metrics.gauge("records-not-archived", "Records handled without archiving them (tombstones ignored, records "
                + "sent to the dead letter queue)", recordsNotArchived::get);
        metrics.gauge("fsync-count", "Archive flushes at offset commits", fsyncs::get);
        metrics.gauge("fsync-time-avg-ms", "Average time of a flush at an offset commit (ms)",
                () -> fsyncs.get() == 0 ? 0.0 : fsyncNanos.get() / 1e6 / fsyncs.get());
        metrics.gauge("fsync-time-max-ms", "Longest flush at an offset commit (ms)", () -> fsyncNanosMax.get() / 1e6);
        log.info("LogStore sink task archiving into {} ({} mapping)", config.archiveRoot(),
                config.keyHashMapping() ? "key-hash" : "kafka");
    }

    /** For tests, before {@link #start}: makes the archived cluster's admin client. */
    void useAdmins(java.util.function.Function<Map<String, Object>, org.apache.kafka.clients.admin.Admin> admins) {
        this.admins = admins;
    }

    /** For tests: wraps every archive the task opens (to inject failures). */
    void wrapArchives(UnaryOperator<TopicPartitionArchive> wrapper) {
        archiveWrapper = wrapper;
    }

    @Override
    public void open(Collection<TopicPartition> partitions) {
        checkNotFailed();
        // One wait for the whole assignment: the partitions of a task that is still closing are
        // released together, and a minute per partition would hold the rebalance for long.
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(config.lockWaitMillis());
        List<TopicPartition> toOpen = new ArrayList<>();
        for (TopicPartition tp : partitions) {
            PendingGeneration pending = pendingGenerations.get(tp.topic());
            if (pending != null) {
                // Its topic waits for a new generation: opening the old store would hold the move back.
                pending.partitions.add(tp);
                pause(List.of(tp));
            } else {
                toOpen.add(tp);
            }
        }
        for (TopicPartition tp : toOpen) {
            openPartition(tp, deadline);
        }
        // Connect pauses again what a task paused before a rebalance: a partition that waited for
        // a new generation started meanwhile (by another task) is resumed here.
        List<TopicPartition> waitedBefore = toOpen.stream().filter(pausedForGenerations::contains).toList();
        if (!waitedBefore.isEmpty()) {
            resume(waitedBefore);
        }
        checkTopics(toOpen.stream().map(TopicPartition::topic).distinct().toList(), false);
        startPendingGenerations(GENERATION_WAIT);
    }

    private void pause(Collection<TopicPartition> partitions) {
        context.pause(partitions.toArray(new TopicPartition[0]));
        pausedForGenerations.addAll(partitions);
    }

    private void resume(Collection<TopicPartition> partitions) {
        context.resume(partitions.toArray(new TopicPartition[0]));
        pausedForGenerations.removeAll(partitions);
    }

    /**
     * Opens the archive of {@code tp} and rewinds the consumer to where it ends; to the topic's
     * first offset when it holds nothing yet and is a new generation of the topic's store, since
     * the consumer's position and committed offsets may still count the old topic's records.
     */
    private void openPartition(TopicPartition tp, long deadline) {
        Assigned state = new Assigned(tp, archiveWrapper.apply(openWaitingForTheLock(tp, deadline)));
        long resume = state.archive.resumeOffset();
        if (resume < 0 && StoreGenerations.isNewGeneration(ArchivePaths.storeDirectory(config.archiveRoot(),
                tp.topic()))) {
            resume = 0;
            state.newGeneration = true;
        }
        if (resume >= 0) {
            context.offset(tp, resume);
            state.next = resume;
            state.rewoundTo = resume;
            log.info("{}: archive ends at offset {}; resuming there", tp, resume);
        }
        assigned.put(tp, state);
        addPartitionMetrics(state);
    }

    /**
     * Checks {@code topics} against the archived cluster (when only {@code ifDue}, those not
     * checked for an interval, or announced re-created by another task since). A topic that was
     * deleted and re-created fails the task, or, by setting, has its partitions closed and paused
     * until a new generation of its store starts ({@link #startPendingGenerations}, called where
     * the partitions are sure to stay assigned: open and put, never a commit, which may be the
     * last before they are revoked).
     */
    private void checkTopics(Collection<String> topics, boolean ifDue) {
        if (cluster == null) {
            return;
        }
        Path root = config.archiveRoot();
        try {
            for (String topic : new java.util.TreeSet<>(topics)) {
                if (pendingGenerations.containsKey(topic)) {
                    continue;
                }
                Path dir = ArchivePaths.storeDirectory(root, topic);
                boolean announced = StoreGenerations.announcedSince(root, topic, cluster.checkedAt(topic));
                ArchivedCluster.Recreated recreated = ifDue && !announced ? cluster.checkIfDue(topic, dir)
                        : cluster.check(topic, dir);
                if (recreated == null) {
                    if (announced && cluster.described(topic)) {
                        StoreGenerations.withdrawAnnouncement(root, topic); // the store holds the topic as it is
                    }
                    continue;
                }
                if (config.recreatedTopic() == LogStoreSinkConfig.RecreatedTopic.FAIL) {
                    throw recreated.refusal(dir);
                }
                List<TopicPartition> mine = assigned.keySet().stream().filter(tp -> tp.topic().equals(topic)).toList();
                close(mine); // also closes the topic's stores, this task's last handles on them
                pause(mine);
                pendingGenerations.put(topic, new PendingGeneration(recreated, new HashSet<>(mine)));
                StoreGenerations.announce(root, topic, recreated.now().topicId());
            }
        } catch (ConnectException e) {
            failed = e;
            throw e;
        }
    }

    /**
     * Tries to start the new generation of each topic waiting for one: moves the old store aside
     * (or finds it moved by another task) and reopens this task's partitions of the topic in the
     * new store, from the topic's first offset. While other tasks still hold partitions of the old
     * store, the topic waits, paused, for the next try. Returns the partitions reopened.
     */
    private Set<TopicPartition> startPendingGenerations(Duration wait) {
        Set<TopicPartition> reopened = new HashSet<>();
        try {
            for (var it = pendingGenerations.entrySet().iterator(); it.hasNext(); ) {
                Map.Entry<String, PendingGeneration> entry = it.next();
                String topic = entry.getKey();
                PendingGeneration pending = entry.getValue();
                try {
                    StoreGenerations.startNew(config.archiveRoot(), topic, pending.recreated.kept().topicId(),
                            pending.recreated.now(), wait);
                } catch (StoreGenerations.StillHeld e) {
                    if (System.nanoTime() - pending.loggedAt >= TimeUnit.SECONDS.toNanos(30)) {
                        pending.loggedAt = System.nanoTime();
                        log.info("Topic {} was deleted and re-created; its partitions {} wait, paused, until no task "
                                + "holds partitions of its old store any more ({}). The other tasks notice when they "
                                + "next look (about a second while records flow, at most a commit interval)",
                                topic, pending.partitions, e.getMessage());
                    }
                    continue;
                }
                it.remove();
                long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(config.lockWaitMillis());
                for (TopicPartition tp : pending.partitions) {
                    openPartition(tp, deadline);
                }
                resume(pending.partitions);
                reopened.addAll(pending.partitions);
                cluster.check(topic, ArchivePaths.storeDirectory(config.archiveRoot(), topic));
            }
        } catch (ConnectException e) {
            failed = e;
            throw e;
        }
        return reopened;
    }

    private void addPartitionMetrics(Assigned state) {
        TopicPartition tp = state.topicPartition;
        metrics.gauge("last-archived-offset", "Kafka offset of the last record archived (-1 before the first)",
                tp.topic(), tp.partition(), () -> state.lastArchivedOffset);
        metrics.gauge("last-archived-record-time", "Timestamp (ms) of the last record archived (-1 before the first)",
                tp.topic(), tp.partition(), () -> state.lastArchivedTimestamp);
        metrics.gauge("archive-segments", "Segment files of the partition's archive (-1 for key-hash mapping)",
                tp.topic(), tp.partition(), () -> {
                    dev.logstore.PartitionInfo info = state.archive.info();
                    return info == null ? -1 : info.segments();
                });
        metrics.gauge("archive-bytes", "Bytes of the partition's archive (-1 for key-hash mapping)",
                tp.topic(), tp.partition(), () -> {
                    dev.logstore.PartitionInfo info = state.archive.info();
                    return info == null ? -1 : info.sizeInBytes();
                });
    }

    private void removePartitionMetrics(TopicPartition tp) {
        for (String name : new String[] {"last-archived-offset", "last-archived-record-time", "archive-segments",
                                          "archive-bytes"}) {
            metrics.remove(name, tp.topic(), tp.partition());
        }
    }

    /**
     * Opens the archive of {@code tp}, waiting while another writer still holds it: after a
     * rebalance the task that had the partition may still be closing it (a long fsync, a slow
     * stop). Tries again with growing pauses until {@code deadline} ({@code logstore.lock.wait.ms}
     * after the assignment arrived).
     */
    private TopicPartitionArchive openWaitingForTheLock(TopicPartition tp, long deadline) {
        long pause = 100;
        long nextLog = 0;
        boolean triedAFreshHandle = false;
        while (true) {
            try {
                return openArchive(tp, deadline);
            } catch (ConnectException e) {
                boolean held = e instanceof StoreGenerations.StillHeld || (e.getCause() instanceof StoreLockedException
                        && !(e.getCause() instanceof WriterFencedException));
                if (!held && e.getCause() instanceof LogStoreException && !triedAFreshHandle) {
                    // A handle opened as the store moved to a new generation finds it changed under
                    // it; openArchive dropped it, and a fresh one opens the store where it is now.
                    triedAFreshHandle = true;
                    continue;
                }
                if (!held) {
                    throw e;
                }
                long left = deadline - System.nanoTime();
                if (left <= 0 && e instanceof StoreGenerations.StillHeld) {
                    throw new ConnectException(tp + ": cannot open its archive: " + e.getMessage() + ", for longer "
                            + "than " + config.lockWaitMillis() + " ms. Restart this task (POST /connectors/<name>/"
                            + "tasks/<id>/restart) once the other task is done", e);
                }
                if (left <= 0) {
                    throw new ConnectException(tp + ": its archive is still open for writing by another writer after "
                            + config.lockWaitMillis() + " ms: " + e.getCause().getMessage() + ". Usually the task that "
                            + "had this partition before a rebalance is still stopping; if another connector archives "
                            + "the same topic into the same archive, stop it. Then restart this task "
                            + "(POST /connectors/<name>/tasks/<id>/restart). " + LogStoreSinkConfig.LOCK_WAIT_MS
                            + " sets how long to wait", e.getCause());
                }
                if (System.nanoTime() >= nextLog) {
                    log.info("{}: the archive is still held by another writer ({}); waiting up to {} ms more", tp,
                            e.getCause().getMessage(), TimeUnit.NANOSECONDS.toMillis(left));
                    nextLog = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
                }
                try {
                    Thread.sleep(Math.min(pause, TimeUnit.NANOSECONDS.toMillis(left) + 1));
                } catch (InterruptedException interrupted) {
                    Thread.currentThread().interrupt();
                    throw new ConnectException(tp + ": interrupted while waiting for its archive", interrupted);
                }
                pause = Math.min(pause * 2, 5_000);
            }
        }
    }

    private TopicPartitionArchive openArchive(TopicPartition tp, long deadline) {
        Path dir = ArchivePaths.storeDirectory(config.archiveRoot(), tp.topic());
        if (!LogStore.isStore(dir)) {
            // Not to create the store while another task moves the old generation aside and
            // starts the new one, which would then not be marked as one.
            StoreGenerations.awaitMove(config.archiveRoot(), tp.topic(), deadline);
        }
        LogStore.Builder builder = PackingSettings.applyForWriting(config,
                StoreSettings.apply(config, LogStore.builder(dir)))
                .threadName("logstore-sink-" + label + "-" + tp.topic());
        try {
            if (config.keyHashMapping()) {
                KeyHashStore store = keyHashStores.computeIfAbsent(tp.topic(), topic -> {
                    KeyHashStore opened = KeyHashStore.open(builder, config.keyHashPartitions(), dir);
                    SinkArchiveMarker.mark(dir, connectorName, topic, "key-hash");
                    return opened;
                });
                return store.archiveFor(tp.partition());
            }
            KeyHashStore.refuseUnderKafkaMapping(dir);
            KafkaMappedStore store = kafkaMappedStores.get(tp.topic());
            if (store == null) {
                store = KafkaMappedStore.open(builder, tp.partition());
                kafkaMappedStores.put(tp.topic(), store);
                SinkArchiveMarker.mark(dir, connectorName, tp.topic(), "kafka");
            }
            return store.archiveFor(tp.partition());
        } catch (LogStoreException e) {
            // A handle that took nothing goes: the store may be moving to a new generation, and the
            // next try must find it where it is then.
            keyHashStores.values().removeIf(store -> !store.inUse() && closeQuietly(store));
            kafkaMappedStores.values().removeIf(store -> !store.inUse() && closeQuietly(store));
            throw new ConnectException("Cannot open the archive of " + tp + " in " + dir + ": " + e.getMessage(), e);
        }
    }

    /**
     * At most once a second: checks now the topics another task announced re-created, and tries
     * again to start the generations this task waits for, so that neither waits for a commit.
     */
    private Set<TopicPartition> lookForGenerations() {
        if (cluster == null || System.nanoTime() - generationsLookedAt < GENERATION_LOOK_NANOS) {
            return Set.of();
        }
        try {
            List<String> announced = assigned.keySet().stream().map(TopicPartition::topic).distinct()
                    .filter(topic -> StoreGenerations.announcedSince(config.archiveRoot(), topic,
                            cluster.checkedAt(topic)))
                    .toList();
            if (!announced.isEmpty()) {
                checkTopics(announced, false);
            }
            // No wait here: a try that finds the old store still held is made again a second later.
            return pendingGenerations.isEmpty() ? Set.of() : startPendingGenerations(Duration.ZERO);
        } finally {
            generationsLookedAt = System.nanoTime();
        }
    }

    /** Fails the task once it must stop; see {@link #failed}. */
    private void checkNotFailed() {
        if (failed != null) {
            throw new ConnectException("Stopping: " + failed.getMessage(), failed);
        }
    }

    @Override
    public void put(Collection<SinkRecord> records) {
        checkNotFailed();
        // Records in this put of a partition reopened now in a new generation are the consumer's
        // before the rewind to the new topic's start: dropped, they come again from there.
        Set<TopicPartition> reopened = lookForGenerations();
        // Records come in runs of one partition: look a partition up once per run, not per record.
        Map<TopicPartition, List<SinkRecord>> byPartition = new LinkedHashMap<>();
        String runTopic = null;
        int runPartition = -1;
        List<SinkRecord> run = null;
        for (SinkRecord record : records) {
            String topic = record.originalTopic();
            int partition = record.originalKafkaPartition();
            if (run == null || partition != runPartition || !topic.equals(runTopic)) {
                runTopic = topic;
                runPartition = partition;
                run = byPartition.computeIfAbsent(new TopicPartition(topic, partition), tp -> new ArrayList<>());
            }
            run.add(record);
        }
        byPartition.forEach((tp, partitionRecords) -> {
            if (!reopened.contains(tp)) {
                archive(tp, partitionRecords);
            }
        });
    }

    /**
     * Appends {@code records} as batches of at most {@code maxBytes} of keys, values and headers
     * (a larger record alone), so that one damaged byte never costs more than that.
     */
    static void appendInBatches(TopicPartitionArchive archive, long[] kafkaOffsets, List<Record> records, int maxBytes) {
        int from = 0;
        while (from < records.size()) {
            int to = from + 1;
            long bytes = storedSize(records.get(from));
            while (to < records.size() && bytes + storedSize(records.get(to)) <= maxBytes) {
                bytes += storedSize(records.get(to));
                to++;
            }
            archive.append(from == 0 && to == records.size() ? kafkaOffsets
                    : java.util.Arrays.copyOfRange(kafkaOffsets, from, to), records.subList(from, to));
            from = to;
        }
    }

    /** What a record adds to a batch, about: its key, value and headers. */
    private static long storedSize(Record record) {
        long size = (record.key() == null ? 0 : record.key().length) + (record.value() == null ? 0 : record.value().length);
        for (dev.logstore.record.Header header : record.headers()) {
            size += header.key().length() + (header.value() == null ? 0 : header.value().length);
        }
        return size;
    }

    private void archive(TopicPartition tp, List<SinkRecord> records) {
        Assigned state = assigned.get(tp);
        if (state == null) {
            PendingGeneration pending = pendingGenerations.get(tp.topic());
            if (pending != null && pending.partitions.contains(tp)) {
                return; // fetched before the pause; delivered again from the new topic's start
            }
            throw new ConnectException("Received records of " + tp + ", which is not assigned to this task");
        }
        if (state.rewoundTo >= 0) {
            checkResumedWhereTheArchiveEnds(state, records.get(0).originalKafkaOffset());
        }
        long[] offsets = new long[records.size()];
        List<Record> converted = new ArrayList<>(records.size());
        // How far this run gets is only recorded once its records are queued for the writer: a
        // record that fails to convert part way leaves the earlier ones of the run unqueued, and
        // a commit must not report them as handled.
        long handled = state.handled;
        int notArchived = 0;
        for (SinkRecord record : records) {
            long offset = record.originalKafkaOffset();
            if (offset < state.next) {
                continue; // already archived: a re-delivery after a rewind or a retry
            }
            Record stored = convert(record);
            if (stored != null) {
                offsets[converted.size()] = offset;
                converted.add(stored);
            } else {
                notArchived++;
            }
            handled = offset + 1;
        }
        if (!converted.isEmpty()) {
            long[] kafkaOffsets = java.util.Arrays.copyOf(offsets, converted.size());
            TopicPartitionArchive archive = state.archive;
            int batchMaxBytes = config.batchMaxBytes();
            writer.submit(() -> {
                try {
                    appendInBatches(archive, kafkaOffsets, converted, batchMaxBytes);
                    long bytes = 0;
                    for (Record record : converted) {
                        bytes += (record.key() == null ? 0 : record.key().length)
                                + (record.value() == null ? 0 : record.value().length);
                    }
                    recordsArchived.addAndGet(converted.size());
                    bytesArchived.addAndGet(bytes);
                    state.lastArchivedOffset = kafkaOffsets[kafkaOffsets.length - 1];
                    state.lastArchivedTimestamp = converted.get(converted.size() - 1).timestamp();
                } catch (LogStoreException e) {
                    throw new ConnectException("Cannot archive records of " + tp + ": " + e.getMessage(), e);
                }
            });
        }
        recordsNotArchived.addAndGet(notArchived);
        state.handled = handled;
        if (handled > state.next) {
            state.next = handled;
        }
    }

    /**
     * Connect seeks the consumer to where {@code open} rewound it before it fetches, so the first
     * records of a reopened partition start there. Earlier ones mean the consumer found that
     * offset out of range and reset: the topic's log ends before its archive, because the topic
     * was deleted and created again (or lost records). Archiving on would skip the new topic's
     * records up to the archive's end and mix the rest into the old topic's archive.
     */
    private void checkResumedWhereTheArchiveEnds(Assigned state, long first) {
        long resume = state.rewoundTo;
        state.rewoundTo = -1;
        if (first < resume) {
            TopicPartition tp = state.topicPartition;
            throw new ConnectException(tp + ": the archive in "
                    + ArchivePaths.storeDirectory(config.archiveRoot(), tp.topic()) + " ends at offset " + resume
                    + ", but Kafka has no such offset any more and delivered offset " + first + " instead: the "
                    + "topic was deleted and created again, or its log lost records. Nothing of it was archived, and "
                    + "the archive is unchanged. To archive the topic as it is now: stop the connector, move that store "
                    + "directory away, reset the connector's offsets (DELETE /connectors/<name>/offsets) and resume "
                    + "it. To keep archiving into it, the topic must hold offset " + resume + ".");
        }
    }

    /** The record to archive, or null when it is skipped (by configuration, or reported as errant). */
    private Record convert(SinkRecord record) {
        if (record.value() == null) {
            switch (config.nullValues()) {
                case IGNORE:
                    return null;
                case FAIL:
                    return errant(record, new DataException("Record " + record.originalTopic() + "-"
                            + record.originalKafkaPartition() + "@" + record.originalKafkaOffset() + " has a null value "
                            + "and " + LogStoreSinkConfig.BEHAVIOR_ON_NULL_VALUES + "=fail"));
                default:
                    break;
            }
        }
        try {
            return SinkRecordConverter.toRecord(record);
        } catch (DataException e) {
            return errant(record, e);
        }
    }

    private Record errant(SinkRecord record, DataException error) {
        if (reporter == null) {
            throw error;
        }
        reported.add(reporter.report(record, error));
        return null;
    }

    @Override
    public Map<TopicPartition, OffsetAndMetadata> preCommit(Map<TopicPartition, OffsetAndMetadata> currentOffsets) {
        checkNotFailed();
        checkTopics(assigned.keySet().stream().map(TopicPartition::topic).distinct().toList(), true);
        Map<TopicPartition, OffsetAndMetadata> durable = new HashMap<>();
        try {
            if (cluster != null) {
                cluster.snapshotGroupsIfDue(assigned.keySet());
            }
            writer.drain();
            awaitReported();
            for (Assigned state : assigned.values()) {
                if (state.newGeneration && state.handled < 0) {
                    continue; // archived again from the new topic's start: nothing of it is handled yet
                }
                // Everything put() was given is archived or deliberately skipped; Connect's own
                // position also counts records a transform dropped and transaction markers.
                OffsetAndMetadata delivered = currentOffsets.get(state.topicPartition);
                long handled = Math.max(state.handled, delivered == null ? -1 : delivered.offset());
                if (handled < 0) {
                    continue;
                }
                try {
                    long started = System.nanoTime();
                    state.archive.flush();
                    long took = System.nanoTime() - started;
                    fsyncs.incrementAndGet();
                    fsyncNanos.addAndGet(took);
                    fsyncNanosMax.accumulateAndGet(took, Math::max);
                    state.archive.handledUpTo(handled);
                } catch (LogStoreException e) {
                    throw new ConnectException("Cannot flush the archive of " + state.topicPartition + ": "
                            + e.getMessage(), e);
                }
                durable.put(state.topicPartition, new OffsetAndMetadata(handled));
            }
        } catch (ConnectException e) {
            failed = new ConnectException("an earlier offset commit could not make the archive durable, and what "
                    + "the archive holds since is unknown. Fix the cause and restart the task; it resumes where the "
                    + "archive ends. The failure: " + e.getMessage(), e);
            throw e;
        }
        return durable;
    }

    private void awaitReported() {
        try {
            for (Future<Void> future : reported) {
                future.get();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ConnectException("Interrupted while waiting for the dead letter queue", e);
        } catch (ExecutionException e) {
            throw new ConnectException("Reporting a record to the dead letter queue failed: " + e.getCause(), e);
        }
        reported.clear();
    }

    @Override
    public void close(Collection<TopicPartition> partitions) {
        try {
            if (writer != null) {
                writer.drain();
            }
        } catch (ConnectException e) {
            log.warn("Archiving failed before {} were closed; reopening resumes at what each archive holds",
                    partitions, e);
        }
        for (TopicPartition tp : partitions) {
            PendingGeneration pending = pendingGenerations.get(tp.topic());
            if (pending != null && pending.partitions.remove(tp) && pending.partitions.isEmpty()) {
                pendingGenerations.remove(tp.topic()); // whichever task gets them finds the topic re-created
            }
            Assigned state = assigned.remove(tp);
            if (state != null) {
                removePartitionMetrics(tp);
                closeQuietly(state);
            }
        }
        keyHashStores.values().removeIf(store -> !store.inUse() && closeQuietly(store));
        kafkaMappedStores.values().removeIf(store -> !store.inUse() && closeQuietly(store));
        if (cluster != null) {
            cluster.release(partitions);
        }
    }

    private static boolean closeQuietly(AutoCloseable store) {
        try {
            store.close();
        } catch (Exception e) {
            log.warn("Closing a store failed; the next open recovers it", e);
        }
        return true;
    }

    private void closeQuietly(Assigned state) {
        try {
            state.archive.close();
        } catch (RuntimeException e) {
            log.warn("Closing the archive of {} failed; the next open recovers it", state.topicPartition, e);
        }
    }

    /** Releases everything the task holds, even when some of it fails to close. */
    @Override
    public void stop() {
        try {
            close(new ArrayList<>(assigned.keySet()));
            if (writer != null) {
                writer.close();
            }
        } catch (RuntimeException e) {
            log.warn("Stopping the archive writer failed; the next open recovers each archive", e);
        } finally {
            stores().forEach(LogStoreSinkTask::closeQuietly);
            keyHashStores.clear();
            kafkaMappedStores.clear();
            if (metrics != null) {
                metrics.close();
            }
            if (cluster != null) {
                cluster.close();
                cluster = null;
            }
        }
    }

    private List<AutoCloseable> stores() {
        List<AutoCloseable> stores = new ArrayList<>(keyHashStores.values());
        stores.addAll(kafkaMappedStores.values());
        return stores;
    }
}
