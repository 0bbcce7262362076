package dev.logstore.connect.sink;

import dev.logstore.Durability;
import dev.logstore.LogStore;
import dev.logstore.LogStoreException;
import dev.logstore.record.Record;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ConsumerGroupListing;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Snapshots of the committed offsets of the consumer groups that read the archived topics, kept
 * with each topic's archive in a store of its own, {@code <store>/consumer-groups}: its partition
 * p holds, for topic partition p, one record per change of a group's committed offset (key: the
 * group id; value: the offset in decimal, or null once the group has none; timestamp: when it was
 * seen). The state at any time T is, per group and partition, the newest record at or before T,
 * so a restore can pick the offsets of any moment (`logstore groups plan --at`). Each task writes
 * the partitions it archives; what cannot be taken (another task still holds it after a
 * rebalance) is tried again at the next snapshot.
 */
final class GroupSnapshots implements AutoCloseable {

    /** The directory of the snapshots' store inside a topic's store. */
    static final String DIRECTORY = "consumer-groups";

    private static final Logger log = LoggerFactory.getLogger(GroupSnapshots.class);
    private static final long TIMEOUT_SECONDS = 30;

    private final Admin admin;
    private final Path root;
    private final String ownGroup;
    private final Map<String, LogStore> stores = new HashMap<>();
    /** The newest offset written per topic partition and group, so only changes are written. */
    private final Map<TopicPartition, Map<String, Long>> written = new HashMap<>();

    private final java.util.function.UnaryOperator<LogStore.Builder> settings;

    /**
     * @param settings applied to the snapshots' store as to the archive (compression, encryption:
     *                 group names and offsets are kept as the records are)
     */
    GroupSnapshots(Admin admin, Path root, String ownGroup, java.util.function.UnaryOperator<LogStore.Builder> settings) {
        this.admin = admin;
        this.root = root;
        this.ownGroup = ownGroup;
        this.settings = settings;
    }

    /** Takes one snapshot of the groups' offsets on {@code assigned}; failures are logged, never thrown. */
    void snapshot(Collection<TopicPartition> assigned) {
        if (assigned.isEmpty()) {
            return;
        }
        Map<TopicPartition, Map<String, Long>> now = new HashMap<>();
        assigned.forEach(tp -> now.put(tp, new HashMap<>()));
        Set<String> unknown = new HashSet<>(); // groups whose offsets could not be read this time: left as they were
        Collection<ConsumerGroupListing> groups;
        try {
            groups = admin.listConsumerGroups().all().get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return;
        } catch (Exception e) {
            log.warn("Cannot list the consumer groups on the archived cluster ({}): tried again at the next snapshot",
                    e.getMessage());
            return;
        }
        for (ConsumerGroupListing group : groups) {
            if (group.groupId().equals(ownGroup)) {
                continue; // the sink's own progress is the archive itself
            }
            Map<TopicPartition, OffsetAndMetadata> offsets;
            try {
                offsets = admin.listConsumerGroupOffsets(group.groupId()).partitionsToOffsetAndMetadata()
                        .get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            } catch (Exception e) {
                // One group (not authorized, deleted meanwhile, a slow coordinator) holds no other back.
                log.debug("Cannot read the offsets of group {}: {}", group.groupId(), e.getMessage());
                unknown.add(group.groupId());
                continue;
            }
            offsets.forEach((tp, offset) -> {
                Map<String, Long> byGroup = now.get(tp);
                if (byGroup != null && offset != null) {
                    byGroup.put(group.groupId(), offset.offset());
                }
            });
        }
        long time = System.currentTimeMillis();
        Set<LogStore> touched = new HashSet<>();
        for (Map.Entry<TopicPartition, Map<String, Long>> entry : now.entrySet()) {
            TopicPartition tp = entry.getKey();
            Map<String, Long> before;
            try {
                before = written(tp);
            } catch (LogStoreException | IllegalArgumentException e) {
                log.warn("{}: cannot read the consumer groups' offsets kept so far ({}): tried again at the next "
                        + "snapshot", tp, e.getMessage());
                continue;
            }
            unknown.forEach(group -> {
                if (before.containsKey(group)) {
                    entry.getValue().putIfAbsent(group, before.get(group));
                }
            });
            List<Record> changes = new ArrayList<>();
            entry.getValue().forEach((group, offset) -> {
                if (!offset.equals(before.get(group))) {
                    changes.add(Record.of(group.getBytes(StandardCharsets.UTF_8),
                            Long.toString(offset).getBytes(StandardCharsets.UTF_8), time));
                }
            });
            before.keySet().stream().filter(group -> !entry.getValue().containsKey(group))
                    .forEach(gone -> changes.add(Record.of(gone.getBytes(StandardCharsets.UTF_8), null, time)));
            if (changes.isEmpty()) {
                continue;
            }
            try {
                LogStore store = store(tp);
                store.append(tp.partition(), changes);
                touched.add(store);
                written.put(tp, new HashMap<>(entry.getValue()));
            } catch (LogStoreException | IllegalArgumentException e) {
                log.warn("{}: cannot write the consumer groups' offsets ({}): tried again at the next snapshot", tp,
                        e.getMessage());
            }
        }
        for (LogStore store : touched) {
            try {
                store.flush();
            } catch (LogStoreException e) {
                log.warn("Cannot flush the consumer groups' offsets: {}", e.getMessage());
            }
        }
    }

    /**
     * The newest offset kept per group for {@code tp}: read back from the snapshots' partition
     * when this task takes it (after a restart or a rebalance), so that a group gone meanwhile is
     * marked gone.
     */
    private Map<String, Long> written(TopicPartition tp) {
        Map<String, Long> kept = written.get(tp);
        if (kept != null) {
            return kept;
        }
        LogStore store = store(tp);
        kept = new HashMap<>();
        try (dev.logstore.LogReader reader = store.reader(tp.partition())) {
            List<dev.logstore.record.LogRecord> records;
            while (!(records = reader.poll(10_000, 1 << 20)).isEmpty()) {
                for (dev.logstore.record.LogRecord record : records) {
                    String group = new String(record.key(), StandardCharsets.UTF_8);
                    if (record.value() == null) {
                        kept.remove(group);
                    } else {
                        kept.put(group, Long.parseLong(new String(record.value(), StandardCharsets.UTF_8)));
                    }
                }
            }
        }
        written.put(tp, kept);
        return kept;
    }

    private LogStore store(TopicPartition tp) {
        LogStore store = stores.get(tp.topic());
        if (store == null) {
            Path dir = dev.logstore.connect.config.ArchivePaths.storeDirectory(root, tp.topic()).resolve(DIRECTORY);
            store = settings.apply(LogStore.builder(dir)).partitions(tp.partition() + 1).growPartitions()
                    .ownedPartitions(Set.of()).durability(Durability.onFlush())
                    .threadName("logstore-groups-" + tp.topic()).open();
            stores.put(tp.topic(), store);
        }
        store.own(tp.partition()); // grows the store when the topic gained partitions; nothing if owned already
        return store;
    }

    /**
     * Gives back the partitions of {@code revoked}, so that the task they move to can take them; a
     * topic's store is closed with its last partition, so no handle outlives what it owns (the
     * store may move to a new generation once nobody owns any of it).
     */
    void release(Collection<TopicPartition> revoked) {
        for (TopicPartition tp : revoked) {
            written.remove(tp);
            LogStore store = stores.get(tp.topic());
            if (store == null) {
                continue;
            }
            try {
                store.disown(tp.partition());
            } catch (LogStoreException e) {
                log.debug("{}: releasing the consumer groups' partition: {}", tp, e.getMessage());
            }
            if (written.keySet().stream().noneMatch(other -> other.topic().equals(tp.topic()))) {
                stores.remove(tp.topic());
                try {
                    store.close();
                } catch (LogStoreException e) {
                    log.warn("Closing the consumer groups' store of {}: {}", tp.topic(), e.getMessage());
                }
            }
        }
    }

    @Override
    public void close() {
        for (LogStore store : stores.values()) {
            try {
                store.close();
            } catch (LogStoreException e) {
                log.warn("Closing the consumer groups' store: {}", e.getMessage());
            }
        }
        stores.clear();
    }
}
