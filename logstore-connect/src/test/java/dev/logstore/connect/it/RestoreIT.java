package dev.logstore.connect.it;

import static dev.logstore.connect.it.ConnectCluster.await;
import static dev.logstore.connect.it.ConnectCluster.readArchive;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.logstore.LogStore;
import dev.logstore.cli.LogStoreCli;
import dev.logstore.connect.sink.LogStoreSinkConnector;
import dev.logstore.record.LogRecord;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A complete restore: a group has consumed part of a compacted topic with aborted transactions;
 * the topic is archived (with its configs and the group's offsets), replayed into a renamed topic,
 * and {@code logstore groups apply} moves the group there, so that a consumer of the group on the
 * restored topic receives exactly the records after those it had processed.
 */
class RestoreIT {

    private static ConnectCluster cluster;

    @TempDir
    static Path root;

    @BeforeAll
    static void startCluster() {
        cluster = new ConnectCluster("restore-it", 1, Map.of("exactly.once.source.support", "enabled"));
    }

    @AfterAll
    static void stopCluster() {
        if (cluster != null) {
            cluster.close();
        }
    }

    /** A sink archiving {@code topic}; with {@code keepMetadata}, also its topic's metadata and group snapshots every second. */
    private static Map<String, String> sinkConfig(String topic, boolean keepMetadata) {
        Map<String, String> sink = ConnectCluster.byteConverters();
        sink.put("connector.class", LogStoreSinkConnector.class.getName());
        sink.put("topics", topic);
        sink.put("logstore.dir", root.toString());
        sink.put("consumer.override.isolation.level", "read_committed");
        if (keepMetadata) {
            sink.put("kafka.bootstrap.servers", cluster.connect.kafka().bootstrapServers());
            sink.put("kafka.groups.interval.ms", "1000");
        }
        return sink;
    }

    /** A source replaying the store of {@code topic} into {@code <topic>.restored}, exactly once, to its snapshot end. */
    private static Map<String, String> restoreConfig(String topic) {
        return cluster.snapshotReplay(root, topic, "${topic}.restored");
    }

    private static String[] cli(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = LogStoreCli.run(new PrintWriter(out, true), new PrintWriter(err, true), args);
        return new String[] {Integer.toString(code), out.toString(), err.toString()};
    }

    @Test
    void aGroupMovedOntoTheRestoredTopicReceivesExactlyTheRecordsItHadNotProcessed() throws Exception {
        String topic = "accounts";
        String bootstrap = cluster.connect.kafka().bootstrapServers();
        cluster.connect.kafka().createTopic(topic, 1, 1, Map.of("cleanup.policy", "compact", "segment.ms", "100",
                "min.cleanable.dirty.ratio", "0.01", "min.compaction.lag.ms", "0"));
        try (KafkaProducer<byte[], byte[]> producer = cluster.connect.kafka().createProducer(Map.of())) {
            // Offsets 0-29 of keys of their own (kept), 30-59 ten keys written three times: compaction
            // leaves 50-59, the newest of each, so 30-49 become a gap.
            for (int i = 0; i < 60; i++) {
                byte[] key = (i < 30 ? "opening-" + i : "account-" + i % 10).getBytes();
                producer.send(new ProducerRecord<>(topic, 0, key, i % 13 == 12 ? null : ("balance-" + i).getBytes()))
                        .get();
            }
            Thread.sleep(300); // the next record rolls the segment: the records above can be compacted
            producer.send(new ProducerRecord<>(topic, 0, "account-x".getBytes(), "roll".getBytes())).get();
        }
        try (KafkaProducer<byte[], byte[]> transactional = cluster.connect.kafka().createProducer(Map.of(
                "transactional.id", "restore-it", "enable.idempotence", true))) {
            transactional.initTransactions();
            transactional.beginTransaction();
            for (int i = 0; i < 5; i++) {
                transactional.send(new ProducerRecord<>(topic, 0, ("aborted-" + i).getBytes(), "x".getBytes()));
            }
            transactional.flush(); // written to the log, then aborted: a gap of five offsets and a marker
            transactional.abortTransaction();
            transactional.beginTransaction();
            for (int i = 0; i < 20; i++) {
                transactional.send(new ProducerRecord<>(topic, 0, ("later-" + i).getBytes(),
                        ("later-" + i).getBytes()));
            }
            transactional.commitTransaction();
        }
        await(Duration.ofSeconds(60), "the log cleaner to compact the first segment", () ->
                readAll(topic, null, bootstrap).stream().noneMatch(r -> r.offset() == 35));
        List<ConsumerRecord<byte[], byte[]>> committed = readAll(topic, null, bootstrap);

        // The group had processed up to offset 35, which compaction has since removed: it resumes
        // at the first record after it, offset 50.
        long stoppedAt = 35;
        try (Admin admin = cluster.connect.kafka().createAdminClient()) {
            admin.alterConsumerGroupOffsets("billing", Map.of(new TopicPartition(topic, 0),
                    new OffsetAndMetadata(stoppedAt))).all().get();
        }

        Map<String, String> sink = sinkConfig(topic, true);
        cluster.connect.configureConnector("archive-accounts", sink);
        long topicEnd = cluster.endOffset(topic, 0);
        await(Duration.ofSeconds(90), "the archive to reach the topic's end", () ->
                ConnectCluster.archivedNextOffset(root.resolve(topic), 0) >= committed.get(committed.size() - 1).offset() + 1);
        await(Duration.ofSeconds(60), "a snapshot of the group's offset", () -> {
            Path snapshots = root.resolve(topic).resolve("consumer-groups");
            if (!LogStore.isStore(snapshots)) {
                return false;
            }
            try (LogStore store = LogStore.builder(snapshots).readOnly().open()) {
                return store.nextOffset(0) > 0;
            }
        });
        cluster.connect.deleteConnector("archive-accounts");
        // The cleaner may have compacted more meanwhile: the archive holds what the topic held when archived.
        List<LogRecord> archived = readArchive(root.resolve(topic), 0);
        assertTrue(archived.size() <= committed.size() && !archived.isEmpty(), archived.size() + " archived");
        assertTrue(archived.stream().noneMatch(r -> new String(r.key()).startsWith("aborted-")),
                "records of the aborted transaction were archived");
        List<Long> offsets = archived.stream().map(LogRecord::offset).toList();
        assertTrue(offsets.contains(29L) && offsets.contains(50L) && !offsets.contains(35L) && !offsets.contains(61L)
                && offsets.contains(67L), "the archive lacks the gaps of compaction and of the aborted transaction: "
                + offsets);

        Map<String, String> source = restoreConfig(topic);
        source.put("target.topic.retention.ms", "-1");
        cluster.connect.configureConnector("restore-accounts", source);
        await(Duration.ofSeconds(90), "the restore", () -> cluster.recordCount(topic + ".restored", 1) == archived.size());
        cluster.connect.deleteConnector("restore-accounts");

        String[] plan = cli("groups", "plan", root.resolve(topic).toString(), "--target-topic", topic + ".restored",
                "--bootstrap-server", bootstrap);
        assertEquals("0", plan[0], plan[1] + plan[2]);
        assertTrue(plan[1].contains("billing"), plan[1]);
        for (int run = 0; run < 2; run++) { // idempotent: the second run commits the same offsets
            String[] apply = cli("groups", "apply", root.resolve(topic).toString(), "--target-topic",
                    topic + ".restored", "--bootstrap-server", bootstrap);
            assertEquals("0", apply[0], apply[1] + apply[2]);
            assertTrue(apply[1].contains("moved group billing"), apply[1]);
        }

        // The archived records the group had not processed, in order: what it must receive now.
        List<LogRecord> expected = archived.stream().filter(r -> r.offset() >= stoppedAt).toList();
        assertEquals(50, expected.get(0).offset());
        List<ConsumerRecord<byte[], byte[]>> received = readAll(topic + ".restored", "billing", bootstrap);
        assertEquals(expected.size(), received.size(), "records received after the move");
        for (int i = 0; i < expected.size(); i++) {
            assertArrayEquals(expected.get(i).key(), received.get(i).key(), "key of record " + i);
            assertArrayEquals(expected.get(i).value(), received.get(i).value(), "value of record " + i);
            assertEquals(expected.get(i).timestamp(), received.get(i).timestamp());
        }
        assertTrue(topicEnd > committed.get(committed.size() - 1).offset(), "the topic has markers and gaps");

        String[] report = cli("report", root.resolve(topic).toString(), "--bootstrap-server", bootstrap);
        assertEquals("0", report[0], "nothing was lost: " + report[1] + report[2]);
        assertTrue(report[1].contains("accounts-0 offsets 30 to 49: compaction or an aborted transaction"), report[1]);
        assertTrue(report[1].contains("accounts-0 offsets 61 to 66: compaction or an aborted transaction"), report[1]);
    }

    /**
     * report labels the offsets retention deleted before the sink archived them as lost (exit 1),
     * and the records produced since as not yet archived.
     */
    @Test
    void reportLabelsRecordsDeletedBeforeArchivingAsLostAndNewOnesAsNotYetArchived() throws Exception {
        String topic = "audit";
        String bootstrap = cluster.connect.kafka().bootstrapServers();
        cluster.connect.kafka().createTopic(topic, 1);
        try (KafkaProducer<byte[], byte[]> producer = cluster.connect.kafka().createProducer(Map.of())) {
            for (int i = 0; i < 30; i++) {
                producer.send(new ProducerRecord<>(topic, 0, null, ("entry-" + i).getBytes())).get();
            }
        }
        try (Admin admin = cluster.connect.kafka().createAdminClient()) { // as retention would
            admin.deleteRecords(Map.of(new TopicPartition(topic, 0),
                    org.apache.kafka.clients.admin.RecordsToDelete.beforeOffset(10))).all().get();
        }
        Map<String, String> sink = sinkConfig(topic, false);
        cluster.connect.configureConnector("archive-audit", sink);
        await(Duration.ofSeconds(90), "the archive of audit", () ->
                ConnectCluster.archivedNextOffset(root.resolve(topic), 0) == 30);
        cluster.connect.deleteConnector("archive-audit");
        try (KafkaProducer<byte[], byte[]> producer = cluster.connect.kafka().createProducer(Map.of())) {
            for (int i = 30; i < 35; i++) {
                producer.send(new ProducerRecord<>(topic, 0, null, ("entry-" + i).getBytes())).get();
            }
        }
        String[] report = cli("report", root.resolve(topic).toString(), "--bootstrap-server", bootstrap);
        assertEquals("1", report[0], report[1] + report[2]);
        assertTrue(report[1].contains("audit-0 offsets 0 to 9: deleted before archiving"), report[1]);
        assertTrue(report[1].contains("audit-0 offsets 30 to 34: not yet archived: 5 committed record(s)"), report[1]);
        assertTrue(report[2].contains("1 range(s) of records were lost"), report[2]);
    }

    /**
     * A topic of LogAppendTime (copied to the restored topic, whose broker restamps every record):
     * the group is still moved, aligned by key and value; and a target topic that does not exist
     * is said so, and not created by asking.
     */
    @Test
    void groupsOfALogAppendTimeTopicAreMovedAndAMissingTargetIsNotCreated() throws Exception {
        String topic = "stamped";
        String bootstrap = cluster.connect.kafka().bootstrapServers();
        cluster.connect.kafka().createTopic(topic, 1, 1, Map.of("message.timestamp.type", "LogAppendTime"));
        try (KafkaProducer<byte[], byte[]> producer = cluster.connect.kafka().createProducer(Map.of())) {
            for (int i = 0; i < 20; i++) {
                producer.send(new ProducerRecord<>(topic, 0, ("k" + i).getBytes(), ("v" + i).getBytes())).get();
            }
        }
        try (Admin admin = cluster.connect.kafka().createAdminClient()) {
            admin.alterConsumerGroupOffsets("stamped-readers", Map.of(new TopicPartition(topic, 0),
                    new OffsetAndMetadata(10))).all().get();
        }
        Map<String, String> sink = sinkConfig(topic, true);
        cluster.connect.configureConnector("archive-stamped", sink);
        await(Duration.ofSeconds(90), "the archive", () -> ConnectCluster.archivedNextOffset(root.resolve(topic), 0) == 20);
        await(Duration.ofSeconds(60), "a snapshot", () -> LogStore.isStore(root.resolve(topic).resolve("consumer-groups")));
        cluster.connect.deleteConnector("archive-stamped");

        String[] missing = cli("groups", "plan", root.resolve(topic).toString(), "--target-topic", topic + ".restord",
                "--bootstrap-server", bootstrap);
        assertEquals("2", missing[0], missing[1]);
        assertTrue(missing[2].contains("does not exist"), missing[2]);
        try (Admin admin = cluster.connect.kafka().createAdminClient()) {
            assertTrue(!admin.listTopics().names().get().contains(topic + ".restord"), "plan created the topic");
        }

        Map<String, String> source = restoreConfig(topic);
        cluster.connect.configureConnector("restore-stamped", source);
        await(Duration.ofSeconds(90), "the restore", () -> cluster.recordCount(topic + ".restored", 1) == 20);
        cluster.connect.deleteConnector("restore-stamped");
        String[] plan = cli("groups", "plan", root.resolve(topic).toString(), "--target-topic", topic + ".restored",
                "--bootstrap-server", bootstrap);
        assertEquals("0", plan[0], plan[1] + plan[2]);
        assertTrue(plan[1].matches("(?s).*stamped-readers\\s+0\\s+10\\s+10.*"), plan[1]);
    }

    /** Every committed record of partition 0, from the group's committed offset (or the start without a group). */
    private static List<ConsumerRecord<byte[], byte[]>> readAll(String topic, String group, String bootstrap) {
        Map<String, Object> props = new java.util.HashMap<>();
        props.put("bootstrap.servers", bootstrap);
        props.put("isolation.level", "read_committed");
        props.put("enable.auto.commit", "false");
        props.put("group.id", group == null ? "restore-it-reader-" + System.nanoTime() : group);
        props.put("auto.offset.reset", group == null ? "earliest" : "none");
        List<ConsumerRecord<byte[], byte[]>> records = new ArrayList<>();
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(props,
                new org.apache.kafka.common.serialization.ByteArrayDeserializer(),
                new org.apache.kafka.common.serialization.ByteArrayDeserializer())) {
            TopicPartition tp = new TopicPartition(topic, 0);
            if (group == null) {
                consumer.assign(List.of(tp));
            } else {
                consumer.subscribe(List.of(topic));
            }
            long end = consumer.endOffsets(List.of(tp)).get(tp);
            long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            while (System.nanoTime() < deadline) {
                consumer.poll(Duration.ofMillis(200)).forEach(records::add);
                if (!consumer.assignment().isEmpty() && consumer.position(tp) >= end) {
                    break;
                }
            }
        }
        return records;
    }
}
