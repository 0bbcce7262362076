package dev.logstore.connect.it;

import static dev.logstore.connect.it.ConnectCluster.assertTopicEqualsArchive;
import static dev.logstore.connect.it.ConnectCluster.await;
import static dev.logstore.connect.it.ConnectCluster.readArchive;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.logstore.LogStore;
import dev.logstore.connect.sink.LogStoreSinkConnector;
import dev.logstore.record.Header;
import dev.logstore.record.LogRecord;
import dev.logstore.record.Record;
import java.io.RandomAccessFile;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import javax.management.MBeanServer;
import javax.management.ObjectName;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.connect.runtime.rest.entities.ConnectorStateInfo;
import org.apache.kafka.connect.runtime.rest.entities.TaskInfo;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** LogStoreSourceConnector on a real broker and a Connect worker with exactly-once source support. */
class SourceConnectorIT {

    private static ConnectCluster cluster;

    @TempDir
    static Path root;

    @BeforeAll
    static void startCluster() {
        cluster = new ConnectCluster("source-it", 1, Map.of("exactly.once.source.support", "enabled"));
    }

    @AfterAll
    static void stopCluster() {
        if (cluster != null) {
            cluster.close();
        }
    }

    private static Map<String, String> sourceConfig(String stores, int tasks) {
        Map<String, String> config = cluster.snapshotReplay(root, stores, "${topic}.replay");
        config.put("tasks.max", Integer.toString(tasks));
        config.put("target.topic.retention.ms", "-1");
        return config;
    }

    /** Writes {@code count} records into store {@code name}, spread over its partitions. */
    private static List<List<Record>> writeStore(String name, int partitions, int count) {
        List<List<Record>> written = new ArrayList<>();
        try (LogStore store = LogStore.open(root.resolve(name), partitions)) {
            for (int p = 0; p < partitions; p++) {
                written.add(new ArrayList<>());
            }
            long base = System.currentTimeMillis() - Duration.ofDays(10).toMillis();
            for (int i = 0; i < count; i++) {
                int p = i % partitions;
                Record record = new Record(i % 4 == 0 ? null : ("k" + i).getBytes(), i % 9 == 0 ? null : ("v" + i).getBytes(),
                        i % 2 == 0 ? List.of(new Header("h", ("x" + i).getBytes()), new Header("h", null)) : List.of(),
                        base + i * 10L);
                store.append(p, List.of(record));
                written.get(p).add(record);
            }
        }
        return written;
    }

    /** The connector configuration in {@code config/<file>} as a user copies it, with the given keys replaced. */
    private static Map<String, String> exampleConfig(String file, Map<String, String> replaced) throws Exception {
        com.fasterxml.jackson.databind.JsonNode json = new com.fasterxml.jackson.databind.ObjectMapper()
                .readTree(java.nio.file.Files.readString(Path.of("..", "config", file)));
        Map<String, String> config = new java.util.HashMap<>();
        json.get("config").fields().forEachRemaining(field -> config.put(field.getKey(), field.getValue().asText()));
        config.putAll(replaced);
        return config;
    }

    @Test
    void aTopicWithAbortedTransactionsIsArchivedAndReplayedAsItsCommittedRecordsOnly() throws Exception {
        String topic = "ledger-tx";
        cluster.connect.kafka().createTopic(topic, 2);
        int committed = 0;
        try (org.apache.kafka.clients.producer.KafkaProducer<byte[], byte[]> producer = cluster.connect.kafka()
                .createProducer(Map.of("transactional.id", "ledger-writer", "enable.idempotence", true))) {
            producer.initTransactions();
            for (int t = 0; t < 16; t++) {
                boolean abort = t % 4 == 3;
                producer.beginTransaction();
                for (int i = 0; i < 40; i++) {
                    int n = t * 40 + i;
                    producer.send(new org.apache.kafka.clients.producer.ProducerRecord<>(topic, n % 2, null,
                            ("k" + n % 7).getBytes(), n % 11 == 0 ? null : ((abort ? "aborted-" : "v-") + n).getBytes()));
                }
                if (abort) {
                    producer.abortTransaction();
                } else {
                    producer.commitTransaction();
                    committed += 40;
                }
            }
        }
        // The sink as config/logstore-sink.json has it: read_committed, so aborted records never arrive.
        cluster.connect.configureConnector("archive-ledger-tx", exampleConfig("logstore-sink.json", Map.of(
                "topics", topic, "logstore.dir", root.toString(), "tasks.max", "2",
                "errors.deadletterqueue.topic.replication.factor", "1")));
        List<List<ConsumerRecord<byte[], byte[]>>> inTopic = cluster.readTopic(topic, 2);
        int expected = committed;
        assertEquals(expected, inTopic.get(0).size() + inTopic.get(1).size());
        ConnectCluster.await(Duration.ofSeconds(90), "the committed records archived", () ->
                ConnectCluster.readArchive(root.resolve(topic), 0).size()
                        + ConnectCluster.readArchive(root.resolve(topic), 1).size() >= expected);
        cluster.connect.deleteConnector("archive-ledger-tx");
        for (int p = 0; p < 2; p++) {
            List<LogRecord> archived = ConnectCluster.readArchive(root.resolve(topic), p);
            ConnectCluster.assertArchiveEqualsTopic(inTopic.get(p), archived, "archive partition " + p);
            for (LogRecord record : archived) {
                assertTrue(record.value() == null || !new String(record.value()).startsWith("aborted-"),
                        "an aborted record was archived at offset " + record.offset());
            }
        }

        // Replayed with config/logstore-source.json: the replay holds the same committed records.
        cluster.connect.configureConnector("replay-ledger-tx", exampleConfig("logstore-source.json", Map.of(
                "logstore.dir", root.toString(), "logstore.stores", topic,
                "target.bootstrap.servers", cluster.connect.kafka().bootstrapServers())));
        String replay = topic + ".replay";
        ConnectCluster.await(Duration.ofSeconds(90), "the replay to hold every committed record", () ->
                cluster.recordCount(replay, 2) >= expected);
        cluster.assertCountStays(replay, 2, expected, Duration.ofSeconds(2));
        cluster.connect.deleteConnector("replay-ledger-tx");
        List<List<ConsumerRecord<byte[], byte[]>>> replayed = cluster.readTopic(replay, 2);
        for (int p = 0; p < 2; p++) {
            ConnectCluster.assertTopicEqualsArchive(replayed.get(p), ConnectCluster.readArchive(root.resolve(topic), p),
                    "replay partition " + p);
        }
    }

    @Test
    void aSinkWithoutReadCommittedIsRefusedSayingWhatToSet() {
        Map<String, String> sink = ConnectCluster.byteConverters();
        sink.put("connector.class", LogStoreSinkConnector.class.getName());
        sink.put("topics", "anything");
        sink.put("logstore.dir", root.toString());
        sink.put("name", "uncommitted-sink");
        org.apache.kafka.connect.runtime.rest.entities.ConfigInfos result = cluster.connect.validateConnectorConfig(
                LogStoreSinkConnector.class.getSimpleName(), sink);
        String errors = result.configs().stream().flatMap(info -> info.configValue().errors().stream())
                .reduce("", (a, b) -> a + b);
        assertTrue(errors.contains("consumer.override.isolation.level=read_committed"), errors);
        assertTrue(errors.contains("logstore.require.read.committed=false"), errors);
        sink.put("consumer.override.isolation.level", "read_committed");
        assertEquals(0, cluster.connect.validateConnectorConfig(LogStoreSinkConnector.class.getSimpleName(), sink)
                .errorCount());
    }

    @Test
    void archiveThenReplayIntoARenamedTopicReproducesEveryPartition() throws Exception {
        String topic = "payments";
        cluster.connect.kafka().createTopic(topic, 3);
        cluster.produceVaried(topic, 3, 0, 400);
        Map<String, String> sink = ConnectCluster.byteConverters();
        sink.put("connector.class", LogStoreSinkConnector.class.getName());
        sink.put("topics", topic);
        sink.put("logstore.dir", root.toString());
        sink.put("consumer.override.isolation.level", "read_committed");
        cluster.connect.configureConnector("archive-payments", sink);
        cluster.awaitArchived(root, topic, 3, Duration.ofSeconds(90));
        cluster.connect.deleteConnector("archive-payments");

        cluster.connect.configureConnector("replay-payments", sourceConfig(topic, 2));
        await(Duration.ofSeconds(90), "replay of payments", () -> cluster.recordCount("payments.replay", 3) == 400);
        List<List<ConsumerRecord<byte[], byte[]>>> original = cluster.readTopic(topic, 3);
        List<List<ConsumerRecord<byte[], byte[]>>> replayed = cluster.readTopic("payments.replay", 3);
        for (int p = 0; p < 3; p++) {
            assertTopicEqualsArchive(replayed.get(p), readArchive(root.resolve(topic), p), "payments.replay-" + p);
            for (int i = 0; i < original.get(p).size(); i++) {
                ConsumerRecord<byte[], byte[]> o = original.get(p).get(i);
                ConnectCluster.assertSameRecord(replayed.get(p).get(i), o.key(), o.value(), o.timestamp(),
                        toHeaders(o), "topic round trip, partition " + p);
            }
        }
        cluster.connect.deleteConnector("replay-payments");
        cluster.connect.assertions().assertConnectorDoesNotExist("replay-payments", "a finished replay can be deleted");
    }

    /**
     * The sink keeps a compacted topic's configs (given the archived cluster's admin API), and the
     * source creates the restored topic with them and the archived partition count: it is
     * compacted again, with the target.topic.* overrides on top.
     */
    @Test
    void aRestoredCompactedTopicIsCompactedAgain() throws Exception {
        String topic = "ledger";
        cluster.connect.kafka().createTopic(topic, 2, 1, Map.of("cleanup.policy", "compact",
                "min.compaction.lag.ms", "3600000"));
        try (org.apache.kafka.clients.producer.KafkaProducer<byte[], byte[]> producer =
                     cluster.connect.kafka().createProducer(Map.of())) {
            for (int i = 0; i < 60; i++) {
                producer.send(new org.apache.kafka.clients.producer.ProducerRecord<>(topic, i % 2,
                        ("account-" + i % 7).getBytes(), i % 9 == 8 ? null : ("balance-" + i).getBytes())).get();
            }
        }
        Map<String, String> sink = ConnectCluster.byteConverters();
        sink.put("connector.class", LogStoreSinkConnector.class.getName());
        sink.put("topics", topic);
        sink.put("logstore.dir", root.toString());
        sink.put("consumer.override.isolation.level", "read_committed");
        sink.put("kafka.bootstrap.servers", cluster.connect.kafka().bootstrapServers());
        cluster.connect.configureConnector("archive-ledger", sink);
        cluster.awaitArchived(root, topic, 2, Duration.ofSeconds(90));
        await(Duration.ofSeconds(30), "the ledger's configs beside its store", () -> Files.exists(
                root.resolve(topic).resolve(dev.logstore.connect.config.TopicMetadata.FILE)));
        cluster.connect.deleteConnector("archive-ledger");

        cluster.connect.configureConnector("replay-ledger", sourceConfig(topic, 1));
        await(Duration.ofSeconds(90), "replay of the ledger", () -> cluster.recordCount("ledger.replay", 2) == 60);
        try (org.apache.kafka.clients.admin.Admin admin = cluster.connect.kafka().createAdminClient()) {
            var resource = new org.apache.kafka.common.config.ConfigResource(
                    org.apache.kafka.common.config.ConfigResource.Type.TOPIC, "ledger.replay");
            var configs = admin.describeConfigs(List.of(resource)).all().get().get(resource);
            assertEquals("compact", configs.get("cleanup.policy").value(), "the restored topic is not compacted");
            assertEquals("3600000", configs.get("min.compaction.lag.ms").value());
            assertEquals("-1", configs.get("retention.ms").value(), "the target.topic.* override was not applied");
            assertEquals(2, admin.describeTopics(List.of("ledger.replay")).allTopicNames().get().get("ledger.replay")
                    .partitions().size());
        }
        List<List<ConsumerRecord<byte[], byte[]>>> replayed = cluster.readTopic("ledger.replay", 2);
        for (int p = 0; p < 2; p++) {
            assertTopicEqualsArchive(replayed.get(p), readArchive(root.resolve(topic), p), "ledger.replay-" + p);
        }
        cluster.connect.deleteConnector("replay-ledger");
    }

    private static List<Header> toHeaders(ConsumerRecord<byte[], byte[]> record) {
        List<Header> headers = new ArrayList<>();
        record.headers().forEach(h -> headers.add(new Header(h.key(), h.value())));
        return headers;
    }

    @Test
    void aReplayCanStartAtATimestampAndEndAtAnOffset() throws Exception {
        List<List<Record>> written = writeStore("clock", 1, 100);
        Map<String, String> config = sourceConfig("clock", 1);
        config.put("replay.start", "timestamp");
        config.put("replay.start.timestamp", Long.toString(written.get(0).get(20).timestamp()));
        config.put("replay.end", "offset");
        config.put("replay.end.offset", "60");
        cluster.connect.configureConnector("replay-clock", config);
        await(Duration.ofSeconds(60), "bounded replay of clock", () -> cluster.recordCount("clock.replay", 1) == 40);
        cluster.assertCountStays("clock.replay", 1, 40, Duration.ofMillis(1500));
        List<ConsumerRecord<byte[], byte[]>> replayed = cluster.readTopic("clock.replay", 1).get(0);
        assertTopicEqualsArchive(replayed, readArchive(root.resolve("clock"), 0).subList(20, 60), "clock.replay");
        assertReplayFinishedMetric("replay-clock");
        cluster.connect.deleteConnector("replay-clock");
    }

    private static void assertReplayFinishedMetric(String connector) throws Exception {
        MBeanServer server = ManagementFactory.getPlatformMBeanServer();
        await(Duration.ofSeconds(30), "replay-finished metric of " + connector, () -> {
            try {
                for (ObjectName name : server.queryNames(new ObjectName("kafka.connect:type=plugins,connector="
                        + connector + ",*"), null)) {
                    Object finished = server.getAttribute(name, "replay-finished");
                    if (finished instanceof Number n && n.intValue() == 1) {
                        return true;
                    }
                }
                return false;
            } catch (Exception e) {
                return false;
            }
        });
    }

    @Test
    void aTaskRestartedMidReplayWithExactlyOnceLeavesNoDuplicate() throws Exception {
        writeStore("stream", 2, 3000);
        Map<String, String> config = sourceConfig("stream", 1);
        config.put("rate.limit.records.per.second", "1000");
        config.put("batch.size", "100");
        cluster.connect.configureConnector("replay-stream", config);
        await(Duration.ofSeconds(30), "replay of stream to begin", () -> cluster.recordCount("stream.replay", 2) > 300);
        cluster.connect.restartConnectorAndTasks("replay-stream", false, true, false);
        await(Duration.ofSeconds(30), "replay of stream to go on", () -> cluster.recordCount("stream.replay", 2) > 1500);
        cluster.connect.restartTask("replay-stream", 0);
        await(Duration.ofSeconds(90), "replay of stream to finish", () -> cluster.recordCount("stream.replay", 2) >= 3000);
        cluster.assertCountStays("stream.replay", 2, 3000, Duration.ofMillis(1500));
        List<List<ConsumerRecord<byte[], byte[]>>> replayed = cluster.readTopic("stream.replay", 2);
        for (int p = 0; p < 2; p++) {
            assertTopicEqualsArchive(replayed.get(p), readArchive(root.resolve("stream"), p), "stream.replay-" + p);
        }
        cluster.connect.deleteConnector("replay-stream");
    }

    @Test
    void offsetsResetOrAlteredThroughConnectMoveTheReplay() throws Exception {
        writeStore("moves", 1, 100);
        cluster.connect.configureConnector("replay-moves", sourceConfig("moves", 1));
        await(Duration.ofSeconds(60), "replay of moves", () -> cluster.recordCount("moves.replay", 1) == 100);
        cluster.assertCountStays("moves.replay", 1, 100, Duration.ofMillis(1500));

        // Set the position back to offset 90, writing the partition in the other key order: Connect
        // rewrites it in its own order, which is the one the task commits under.
        cluster.connect.stopConnector("replay-moves");
        cluster.connect.assertions().assertConnectorIsStopped("replay-moves", "stopped to move its offsets");
        java.util.LinkedHashMap<String, Object> storeFirst = new java.util.LinkedHashMap<>();
        storeFirst.put("store", "moves");
        storeFirst.put("partition", 0);
        cluster.connect.alterConnectorOffsets("replay-moves", new org.apache.kafka.connect.runtime.rest.entities
                .ConnectorOffsets(List.of(new org.apache.kafka.connect.runtime.rest.entities.ConnectorOffset(
                        storeFirst, Map.of("offset", 90)))));
        cluster.connect.resumeConnector("replay-moves");
        await(Duration.ofSeconds(60), "replay from offset 90", () -> cluster.recordCount("moves.replay", 1) == 110);
        cluster.assertCountStays("moves.replay", 1, 110, Duration.ofMillis(1500));
        List<LogRecord> archive = readArchive(root.resolve("moves"), 0);
        List<ConsumerRecord<byte[], byte[]>> replayed = cluster.readTopic("moves.replay", 1).get(0);
        assertTopicEqualsArchive(replayed.subList(100, 110), archive.subList(90, 100), "moves.replay after the alteration");

        // A reset replays the whole plan again.
        cluster.connect.stopConnector("replay-moves");
        cluster.connect.assertions().assertConnectorIsStopped("replay-moves", "stopped to reset its offsets");
        cluster.connect.resetConnectorOffsets("replay-moves");
        cluster.connect.resumeConnector("replay-moves");
        await(Duration.ofSeconds(60), "replay after the reset", () -> cluster.recordCount("moves.replay", 1) == 210);
        cluster.assertCountStays("moves.replay", 1, 210, Duration.ofMillis(1500));
        replayed = cluster.readTopic("moves.replay", 1).get(0);
        assertTopicEqualsArchive(replayed.subList(110, 210), archive, "moves.replay after the reset");

        // What the task committed since is found again after a restart.
        cluster.connect.restartConnectorAndTasks("replay-moves", false, true, false);
        cluster.connect.assertions().assertConnectorAndExactlyNumTasksAreRunning("replay-moves", 1, "restarted");
        cluster.assertCountStays("moves.replay", 1, 210, Duration.ofMillis(3000));
        cluster.connect.deleteConnector("replay-moves");
    }

    @Test
    void twoTasksShareFourPartitions() throws Exception {
        writeStore("quad", 4, 400);
        cluster.connect.configureConnector("replay-quad", sourceConfig("quad", 2));
        cluster.connect.assertions().assertConnectorAndExactlyNumTasksAreRunning("replay-quad", 2, "two tasks");
        Set<String> assigned = new HashSet<>();
        for (TaskInfo task : cluster.connect.taskConfigs("replay-quad")) {
            String assignment = task.config().get("task.assignment");
            assertEquals(2, assignment.split(",").length, "each task replays two partitions: " + assignment);
            for (String unit : assignment.split(",")) {
                assigned.add(unit.substring(0, unit.indexOf(':', unit.indexOf(':') + 1)));
            }
        }
        assertEquals(Set.of("quad:0", "quad:1", "quad:2", "quad:3"), assigned);
        await(Duration.ofSeconds(60), "replay of quad", () -> cluster.recordCount("quad.replay", 4) == 400);
        List<List<ConsumerRecord<byte[], byte[]>>> replayed = cluster.readTopic("quad.replay", 4);
        for (int p = 0; p < 4; p++) {
            assertTopicEqualsArchive(replayed.get(p), readArchive(root.resolve("quad"), p), "quad.replay-" + p);
        }
        cluster.connect.deleteConnector("replay-quad");
    }

    @Test
    void aFollowingReplayPicksUpStoresThatAppearLaterAndRecordsAppendedLater() throws Exception {
        Map<String, String> config = sourceConfig("", 2);
        config.remove("logstore.stores");
        config.put("logstore.stores.regex", "late-.*");
        config.put("replay.end", "follow");
        config.put("store.discovery.interval.ms", "500");
        cluster.connect.configureConnector("replay-late", config);
        cluster.connect.assertions().assertConnectorAndExactlyNumTasksAreRunning("replay-late", 0,
                "no store matches yet, so no task");
        writeStore("late-a", 2, 40);
        await(Duration.ofSeconds(60), "the new store to be replayed", () -> cluster.recordCount("late-a.replay", 2) == 40);
        try (LogStore store = LogStore.open(root.resolve("late-a"), 2)) {
            for (int i = 0; i < 10; i++) {
                store.append(i % 2, List.of(Record.of(null, ("later-" + i).getBytes(), System.currentTimeMillis())));
            }
        }
        await(Duration.ofSeconds(60), "records appended later to be followed", () -> cluster.recordCount("late-a.replay", 2) == 50);
        List<List<ConsumerRecord<byte[], byte[]>>> replayed = cluster.readTopic("late-a.replay", 2);
        for (int p = 0; p < 2; p++) {
            assertTopicEqualsArchive(replayed.get(p), readArchive(root.resolve("late-a"), p), "late-a.replay-" + p);
        }
        cluster.connect.deleteConnector("replay-late");
    }

    @Test
    void aTargetTopicWithTooFewPartitionsIsAClearError() throws Exception {
        writeStore("wide", 3, 30);
        cluster.connect.kafka().createTopic("wide.replay", 1);
        cluster.connect.configureConnector("replay-wide", sourceConfig("wide", 1));
        await(Duration.ofSeconds(30), "connector to fail", () -> {
            ConnectorStateInfo status = cluster.connect.connectorStatus("replay-wide");
            return "FAILED".equals(status.connector().state());
        });
        String trace = cluster.connect.connectorStatus("replay-wide").connector().trace();
        assertTrue(trace.contains("wide.replay has 1 partitions, but partition.mapping=preserve needs 3"), trace);
        cluster.connect.deleteConnector("replay-wide");
    }

    @Test
    void corruptArchiveDataFailsTheTaskNamingFileAndPositionAndIsNeverEmitted() throws Exception {
        writeStore("damaged", 1, 50);
        Path segment = root.resolve("damaged").resolve("partition-0").resolve("00000000000000000000.log");
        long flipAt;
        try (RandomAccessFile file = new RandomAccessFile(segment.toFile(), "rw")) {
            flipAt = file.length() / 2;
            file.seek(flipAt);
            int b = file.read();
            file.seek(flipAt);
            file.write(b ^ 0x01);
        }
        cluster.connect.configureConnector("replay-damaged", sourceConfig("damaged", 1));
        await(Duration.ofSeconds(30), "task to fail", () -> {
            ConnectorStateInfo status = cluster.connect.connectorStatus("replay-damaged");
            return !status.tasks().isEmpty() && "FAILED".equals(status.tasks().get(0).state());
        });
        String trace = cluster.connect.connectorStatus("replay-damaged").tasks().get(0).trace();
        assertTrue(trace.contains(segment.toString()), trace);
        assertTrue(trace.contains("Corrupt batch in " + segment + " at byte"), trace);
        List<ConsumerRecord<byte[], byte[]>> replayed = cluster.readTopic("damaged.replay", 1).get(0);
        List<LogRecord> archive = new ArrayList<>();
        try (LogStore store = LogStore.builder(root.resolve("damaged")).readOnly().open();
             dev.logstore.LogReader reader = store.reader(0)) {
            dev.logstore.CorruptLogException end = org.junit.jupiter.api.Assertions.assertThrows(
                    dev.logstore.CorruptLogException.class, () -> {
                        List<LogRecord> batch;
                        while (!(batch = reader.poll(1, 1 << 20)).isEmpty()) {
                            archive.addAll(batch);
                        }
                    });
            assertEquals(segment, end.file());
        }
        assertTrue(archive.size() > 10, "the intact prefix stays readable");
        assertTrue(replayed.size() <= archive.size(), "only records before the damage were emitted");
        assertTopicEqualsArchive(replayed, archive.subList(0, replayed.size()), "damaged.replay");
        cluster.connect.deleteConnector("replay-damaged");
    }
}
