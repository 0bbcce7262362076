package dev.logstore.cli;

import dev.logstore.KeyProvider;
import dev.logstore.LogReader;
import dev.logstore.LogStore;
import dev.logstore.record.LogRecord;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * Where each consumer group of an archived topic stands on the topic it was restored into.
 *
 * <p>The group's committed offset on the archived topic comes from the sink's snapshots ({@code
 * <store>/consumer-groups}: per partition, one record per change, key the group, value the
 * offset), as they stood at a chosen time. Its offset on the target is that of the first archived
 * record at or after it, found by aligning the target partition with the archive: a replay writes
 * the archive's records in order, exactly once, so the n-th record the target partition holds
 * (reading committed records only, which skips transaction markers) is the n-th archived record
 * from the archive's start. Every record paired so is checked (key, value, timestamp): a target
 * that does not start with the archive's records is refused rather than guessed at.
 */
final class GroupTranslation {

    /** How long one request to the cluster may take: an unreachable cluster is said so, not waited for. */
    static final java.time.Duration TIMEOUT = java.time.Duration.ofSeconds(15);


    /** The sink's snapshots' store, inside the archived topic's store. */
    static final String SNAPSHOTS = "consumer-groups";

    /** One group's place on one partition: on the archived topic, and on the target (-1 when not replayed yet). */
    record Position(String group, int partition, long archived, long target, String note) {
    }

    private GroupTranslation() {
    }

    /** The committed offsets per group and partition, as the snapshots stood at {@code at} (ms). */
    static Map<String, Map<Integer, Long>> snapshot(Path store, long at, Set<String> only, KeyProvider keys) {
        Map<String, Map<Integer, Long>> groups = new TreeMap<>();
        LogStore.Builder builder = LogStore.builder(store.resolve(SNAPSHOTS)).readOnly();
        try (LogStore snapshots = (keys == null ? builder : builder.keys(keys)).open()) {
            for (int p = 0; p < snapshots.partitionCount(); p++) {
                Map<String, Long> state = new TreeMap<>();
                try (LogReader reader = snapshots.reader(p)) {
                    List<LogRecord> records;
                    while (!(records = reader.poll(10_000, 1 << 20)).isEmpty()) {
                        for (LogRecord record : records) {
                            if (record.timestamp() > at) {
                                continue;
                            }
                            String group = new String(record.key(), StandardCharsets.UTF_8);
                            if (record.value() == null) {
                                state.remove(group);
                            } else {
                                state.put(group, Long.parseLong(new String(record.value(), StandardCharsets.UTF_8)));
                            }
                        }
                    }
                }
                int partition = p;
                state.forEach((group, offset) -> {
                    if (only.isEmpty() || only.contains(group)) {
                        groups.computeIfAbsent(group, g -> new TreeMap<>()).put(partition, offset);
                    }
                });
            }
        }
        return groups;
    }

    /** Translates every group's offsets to {@code target}, reading the archive and the target partitions once each. */
    static List<Position> translate(LogStore archive, Map<String, Map<Integer, Long>> groups, String target,
                                    Map<String, Object> clientConfig) {
        Map<Integer, TreeSet<Long>> needed = new TreeMap<>();
        groups.values().forEach(byPartition -> byPartition.forEach((p, offset) ->
                needed.computeIfAbsent(p, k -> new TreeSet<>()).add(offset)));
        Map<Integer, Map<Long, long[]>> mapped = new TreeMap<>();
        Map<String, Object> config = new java.util.HashMap<>(clientConfig);
        config.put("isolation.level", "read_committed");
        config.put("enable.auto.commit", "false");
        config.put("max.poll.records", "5000");
        config.put("allow.auto.create.topics", "false"); // a plan changes nothing, not even by a typo
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(config, new ByteArrayDeserializer(),
                new ByteArrayDeserializer())) {
            for (Map.Entry<Integer, TreeSet<Long>> entry : needed.entrySet()) {
                if (entry.getKey() >= archive.partitionCount()) {
                    throw new IllegalArgumentException("the snapshots name partition " + entry.getKey() + ", which "
                            + "the archive does not have");
                }
                mapped.put(entry.getKey(), align(archive, entry.getKey(), entry.getValue(), consumer,
                        new TopicPartition(target, entry.getKey())));
            }
        }
        List<Position> positions = new ArrayList<>();
        groups.forEach((group, byPartition) -> byPartition.forEach((p, offset) -> {
            long[] found = mapped.get(p).get(offset);
            positions.add(new Position(group, p, offset, found[0], found[0] < 0 ? "not replayed yet"
                    : found[1] == 0 ? "" : "past the archive's end"));
        }));
        return positions;
    }

    /**
     * Target offsets of {@code offsets} on one partition: {target offset, 0}, or {offset after the
     * last replayed record, 1} past the archive's end, or {-1, 0} when the replay has not got there.
     */
    private static Map<Long, long[]> align(LogStore archive, int partition, TreeSet<Long> offsets,
                                           KafkaConsumer<byte[], byte[]> consumer, TopicPartition tp) {
        List<org.apache.kafka.common.PartitionInfo> partitions = consumer.partitionsFor(tp.topic(), TIMEOUT);
        if (partitions == null || partitions.isEmpty()) {
            throw new IllegalArgumentException("the target topic " + tp.topic() + " does not exist: replay the archive "
                    + "into it first (or check its name)");
        }
        consumer.assign(List.of(tp));
        Map<TopicPartition, Long> ends = consumer.endOffsets(List.of(tp), TIMEOUT);
        if (ends.get(tp) == null) {
            throw new IllegalArgumentException("the target topic " + tp.topic() + " has no partition " + partition);
        }
        long targetEnd = ends.get(tp);
        consumer.seekToBeginning(List.of(tp));
        Deque<ConsumerRecord<byte[], byte[]>> pending = new ArrayDeque<>();
        Map<Long, long[]> result = new TreeMap<>();
        long lastTarget = -1;
        long nextTarget = consumer.position(tp, TIMEOUT);
        try (LogReader reader = archive.reader(partition)) {
            Deque<LogRecord> archived = new ArrayDeque<>();
            for (long offset : offsets) {
                while (true) {
                    if (archived.isEmpty()) {
                        archived.addAll(reader.poll(5000, 4 << 20));
                    }
                    LogRecord next = archived.peek();
                    if (next == null) {
                        // Past every archived record: the group has read all of them, so it starts
                        // after the last one replayed.
                        result.put(offset, new long[] {lastTarget >= 0 ? lastTarget + 1 : nextTarget, 1});
                        break;
                    }
                    ConsumerRecord<byte[], byte[]> paired = nextTarget(consumer, tp, pending, targetEnd);
                    if (paired == null) {
                        result.put(offset, new long[] {-1, 0}); // not replayed yet, or still being replayed
                        break;
                    }
                    check(next, paired, tp);
                    if (next.offset() >= offset) {
                        pending.push(paired); // this pair is the answer; the next offset may want it too
                        result.put(offset, new long[] {paired.offset(), 0});
                        break;
                    }
                    archived.poll();
                    lastTarget = paired.offset();
                }
            }
        }
        return result;
    }

    private static ConsumerRecord<byte[], byte[]> nextTarget(KafkaConsumer<byte[], byte[]> consumer, TopicPartition tp,
                                                             Deque<ConsumerRecord<byte[], byte[]>> pending,
                                                             long targetEnd) {
        while (pending.isEmpty()) {
            if (consumer.position(tp, TIMEOUT) >= targetEnd) {
                return null;
            }
            consumer.poll(Duration.ofMillis(500)).records(tp).forEach(pending::add);
        }
        return pending.poll();
    }

    private static void check(LogRecord archived, ConsumerRecord<byte[], byte[]> target, TopicPartition tp) {
        // A topic of LogAppendTime stamps records when they arrive: only a CreateTime timestamp is the archive's.
        boolean stamped = target.timestampType() == org.apache.kafka.common.record.TimestampType.LOG_APPEND_TIME;
        if (!Arrays.equals(archived.key(), target.key()) || !Arrays.equals(archived.value(), target.value())
                || (!stamped && archived.timestamp() != target.timestamp())) {
            throw new IllegalArgumentException(tp + " does not hold the archive's records in order from its start: "
                    + "archived offset " + archived.offset() + " and target offset " + target.offset() + " differ (key, "
                    + "value or timestamp). Groups can be moved only onto a topic that a replay from the archive's "
                    + "start filled (replay.start=earliest into an empty topic)");
        }
    }
}
