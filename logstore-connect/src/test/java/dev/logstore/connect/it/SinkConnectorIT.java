package dev.logstore.connect.it;

import static dev.logstore.connect.it.ConnectCluster.assertArchiveEqualsTopic;
import static dev.logstore.connect.it.ConnectCluster.await;
import static dev.logstore.connect.it.ConnectCluster.readArchive;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.logstore.connect.sink.LogStoreSinkConnector;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.connect.runtime.rest.entities.ConfigInfo;
import org.apache.kafka.connect.runtime.rest.entities.ConfigInfos;
import org.apache.kafka.connect.runtime.rest.errors.ConnectRestException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** LogStoreSinkConnector on a real broker and Connect worker. */
class SinkConnectorIT {

    private static ConnectCluster cluster;

    @TempDir
    static Path root;

    @BeforeAll
    static void startCluster() {
        cluster = new ConnectCluster("sink-it", 1, Map.of());
    }

    @AfterAll
    static void stopCluster() {
        if (cluster != null) {
            cluster.close();
        }
    }

    private static Map<String, String> sinkConfig(String topics, int tasks) {
        Map<String, String> config = ConnectCluster.byteConverters();
        config.put("connector.class", LogStoreSinkConnector.class.getName());
        config.put("tasks.max", Integer.toString(tasks));
        config.put("topics", topics);
        config.put("logstore.dir", root.toString());
        config.put("consumer.override.isolation.level", "read_committed");
        return config;
    }

    /** Deletes {@code topic}, waits until it is gone and creates it again, empty, with a new id. */
    private static void recreate(String topic, int partitions) throws InterruptedException {
        cluster.connect.kafka().deleteTopic(topic);
        await(Duration.ofSeconds(60), "the topic to be gone", () -> {
            try (org.apache.kafka.clients.admin.Admin admin = cluster.connect.kafka().createAdminClient()) {
                return !admin.listTopics().names().get().contains(topic);
            } catch (Exception e) {
                return false;
            }
        });
        cluster.connect.kafka().createTopic(topic, partitions);
    }

    private static void awaitArchived(String topic, int partitions) throws InterruptedException {
        cluster.awaitArchived(root, topic, partitions, Duration.ofSeconds(90));
    }

    private static void assertArchiveEqualsTopic(String topic, int partitions) {
        List<List<ConsumerRecord<byte[], byte[]>>> records = cluster.readTopic(topic, partitions);
        for (int p = 0; p < partitions; p++) {
            ConnectCluster.assertArchiveEqualsTopic(records.get(p), readArchive(root.resolve(topic), p),
                    topic + "-" + p);
        }
    }

    @Test
    void archivesEveryPartitionByteForByte() throws Exception {
        String topic = "orders";
        cluster.connect.kafka().createTopic(topic, 3);
        cluster.produceVaried(topic, 3, 0, 600);
        cluster.connect.configureConnector("archive-orders", sinkConfig(topic, 1));
        cluster.connect.assertions().assertConnectorAndExactlyNumTasksAreRunning("archive-orders", 1, "sink not running");
        awaitArchived(topic, 3);
        assertArchiveEqualsTopic(topic, 3);
        // Marked as the topic's archive, so that the CLI does not append to it.
        String marker = java.nio.file.Files.readString(root.resolve(topic).resolve("sink-archive.properties"));
        assertTrue(marker.contains("connector=archive-orders") && marker.contains("topic=orders"), marker);

        // More records after the first catch-up are appended behind them.
        cluster.produceVaried(topic, 3, 600, 150);
        awaitArchived(topic, 3);
        assertArchiveEqualsTopic(topic, 3);

        // The task's metrics, as the worker publishes them (plugin metrics, in JMX).
        javax.management.MBeanServer server = java.lang.management.ManagementFactory.getPlatformMBeanServer();
        await(Duration.ofSeconds(30), "the sink's metrics", () -> {
            try {
                long archived = 0;
                for (javax.management.ObjectName name : server.queryNames(new javax.management.ObjectName(
                        "kafka.connect:type=plugins,connector=archive-orders,*"), null)) {
                    if (name.getKeyProperty("partition") == null) {
                        archived += ((Number) server.getAttribute(name, "records-archived")).longValue();
                        assertTrue(((Number) server.getAttribute(name, "fsync-count")).longValue() > 0);
                    } else if (name.getKeyProperty("partition").equals("0")) {
                        assertEquals(cluster.endOffset(topic, 0) - 1,
                                ((Number) server.getAttribute(name, "last-archived-offset")).longValue());
                    }
                }
                return archived == 750;
            } catch (javax.management.JMException e) {
                return false;
            }
        });
        cluster.connect.deleteConnector("archive-orders");
    }

    @Test
    void restartsAndRebalancesMidStreamLeaveNoDuplicateAndNoGap() throws Exception {
        String topic = "events";
        cluster.connect.kafka().createTopic(topic, 3);
        cluster.connect.configureConnector("archive-events", sinkConfig(topic, 2));
        cluster.connect.assertions().assertConnectorAndExactlyNumTasksAreRunning("archive-events", 2, "sink not running");
        ExecutorService producer = Executors.newSingleThreadExecutor();
        try {
            Future<?> producing = producer.submit(() -> {
                for (int round = 0; round < 20; round++) {
                    cluster.produceVaried(topic, 3, round * 100, 100);
                    Thread.sleep(100);
                }
                return null;
            });
            Thread.sleep(600);
            cluster.connect.restartConnectorAndTasks("archive-events", false, true, false);
            Thread.sleep(600);
            cluster.connect.stopConnector("archive-events");
            cluster.connect.assertions().assertConnectorIsStopped("archive-events", "sink did not stop");
            cluster.connect.resumeConnector("archive-events");
            Thread.sleep(600);
            // A new task count rebalances the partitions over three tasks.
            Map<String, String> three = sinkConfig(topic, 3);
            cluster.connect.configureConnector("archive-events", three);
            cluster.connect.assertions().assertConnectorAndExactlyNumTasksAreRunning("archive-events", 3,
                    "sink did not rebalance to three tasks");
            producing.get(120, TimeUnit.SECONDS);
        } finally {
            producer.shutdownNow();
        }
        awaitArchived(topic, 3);
        assertArchiveEqualsTopic(topic, 3);
        cluster.connect.deleteConnector("archive-events");
    }

    @Test
    void aSecondConnectorOnTheSameArchiveIsRefusedAndNeverInterleaves() throws Exception {
        String topic = "shared";
        cluster.connect.kafka().createTopic(topic, 1);
        cluster.produceVaried(topic, 1, 0, 100);
        cluster.connect.configureConnector("archive-shared", sinkConfig(topic, 1));
        awaitArchived(topic, 1);
        Map<String, String> again = sinkConfig(topic, 1);
        again.put("logstore.lock.wait.ms", "1500");
        cluster.connect.configureConnector("archive-shared-again", again);
        await(Duration.ofSeconds(60), "the second connector's task to fail", () -> {
            var status = cluster.connect.connectorStatus("archive-shared-again");
            return !status.tasks().isEmpty() && "FAILED".equals(status.tasks().get(0).state());
        });
        String trace = cluster.connect.connectorStatus("archive-shared-again").tasks().get(0).trace();
        assertTrue(trace.contains("is already open for writing"), trace);
        assertTrue(trace.contains("still open for writing by another writer after 1500 ms"), trace);
        cluster.produceVaried(topic, 1, 100, 100);
        awaitArchived(topic, 1);
        assertArchiveEqualsTopic(topic, 1);
        cluster.connect.deleteConnector("archive-shared-again");
        cluster.connect.deleteConnector("archive-shared");
    }

    @Test
    void invalidConfigurationsAreRejectedNamingTheKey() {
        Map<String, String> config = sinkConfig("bad", 2);
        config.put("logstore.dir", "relative/dir");
        config.put("logstore.fsync.policy", "sometimes");
        config.put("logstore.segment.bytes", "12");
        config.put("logstore.partition.mapping", "key-hash");
        config.put("behavior.on.null.values", "drop");
        config.put("name", "bad-sink");
        ConfigInfos result = cluster.connect.validateConnectorConfig(LogStoreSinkConnector.class.getSimpleName(), config);
        Map<String, List<String>> errors = result.configs().stream()
                .filter(info -> !info.configValue().errors().isEmpty())
                .collect(Collectors.toMap(info -> info.configValue().name(), info -> info.configValue().errors()));
        assertEquals(Set.of("logstore.dir", "logstore.fsync.policy", "logstore.segment.bytes",
                "logstore.partition.mapping", "behavior.on.null.values"), errors.keySet(), errors.toString());
        assertTrue(errors.get("logstore.dir").get(0).contains("absolute path"), errors.toString());
        assertTrue(errors.get("logstore.partition.mapping").get(0).contains("tasks.max=1"), errors.toString());
        assertFalse(Files.exists(Path.of("relative")), "validation creates nothing");
        for (ConfigInfo info : result.configs()) {
            if (info.configValue().name().equals("logstore.dir")) {
                assertEquals("relative/dir", info.configValue().value());
            }
        }
    }

    @Test
    void alteredOffsetsMustAgreeWithTheArchive() throws Exception {
        String topic = "ledger";
        cluster.connect.kafka().createTopic(topic, 1);
        cluster.produceVaried(topic, 1, 0, 50);
        cluster.connect.configureConnector("archive-ledger", sinkConfig(topic, 1));
        awaitArchived(topic, 1);
        cluster.connect.stopConnector("archive-ledger");
        cluster.connect.assertions().assertConnectorIsStopped("archive-ledger", "sink did not stop");

        TopicPartition tp = new TopicPartition(topic, 0);
        ConnectRestException refused = assertThrows(ConnectRestException.class,
                () -> cluster.connect.alterSinkConnectorOffset("archive-ledger", tp, 10L));
        assertTrue(refused.getMessage().contains("ends at offset 50"), refused.getMessage());
        cluster.connect.alterSinkConnectorOffset("archive-ledger", tp, 50L);
        cluster.connect.resetConnectorOffsets("archive-ledger");

        // After a reset the archive still decides: nothing is archived twice.
        cluster.connect.resumeConnector("archive-ledger");
        cluster.produceVaried(topic, 1, 50, 10);
        awaitArchived(topic, 1);
        assertArchiveEqualsTopic(topic, 1);
        cluster.connect.deleteConnector("archive-ledger");
    }

    /**
     * With the archived cluster's admin API, a store keeps its topic's id, partition count and
     * configs; with {@code kafka.topic.recreated=fail} a topic deleted and re-created under the
     * same name is refused by its id, saying what to do, and nothing of it lands in the old topic's
     * archive.
     */
    @Test
    void theTopicsIdAndConfigsAreKeptAndARecreatedTopicIsRefusedByItsId() throws Exception {
        String topic = "kept";
        cluster.connect.kafka().createTopic(topic, 2, 1, Map.of("retention.ms", "86400000",
                "max.message.bytes", "200000"));
        cluster.produceVaried(topic, 2, 0, 50);
        Map<String, String> sink = sinkConfig(topic, 1);
        sink.put("kafka.bootstrap.servers", cluster.connect.kafka().bootstrapServers());
        sink.put("kafka.topic.recreated", "fail");
        cluster.connect.configureConnector("archive-kept", sink);
        awaitArchived(topic, 2);
        Path store = root.resolve(topic);
        String id;
        try (org.apache.kafka.clients.admin.Admin admin = cluster.connect.kafka().createAdminClient()) {
            id = admin.describeTopics(List.of(topic)).allTopicNames().get().get(topic).topicId().toString();
        }
        await(Duration.ofSeconds(30), "the topic's metadata beside its store",
                () -> Files.exists(store.resolve(dev.logstore.connect.config.TopicMetadata.FILE)));
        dev.logstore.connect.config.TopicMetadata kept = dev.logstore.connect.config.TopicMetadata.read(store);
        assertEquals(id, kept.topicId());
        assertEquals(2, kept.partitions());
        assertEquals(Map.of("retention.ms", "86400000", "max.message.bytes", "200000"), kept.configs());
        cluster.connect.deleteConnector("archive-kept");

        long archived = ConnectCluster.archivedNextOffset(store, 0) + ConnectCluster.archivedNextOffset(store, 1);
        recreate(topic, 2);
        cluster.produceVaried(topic, 2, 0, 80); // more records than the old topic held: offsets cannot tell
        cluster.connect.configureConnector("archive-kept-again", sink);
        await(Duration.ofSeconds(60), "the task to refuse the re-created topic", () -> {
            var status = cluster.connect.connectorStatus("archive-kept-again");
            return !status.tasks().isEmpty() && "FAILED".equals(status.tasks().get(0).state());
        });
        String trace = cluster.connect.connectorStatus("archive-kept-again").tasks().get(0).trace();
        assertTrue(trace.contains("deleted and re-created") && trace.contains(id), trace);
        assertEquals(archived, ConnectCluster.archivedNextOffset(store, 0) + ConnectCluster.archivedNextOffset(store, 1),
                "records of the re-created topic reached the old topic's archive");
        assertEquals(id, dev.logstore.connect.config.TopicMetadata.read(store).topicId());
        cluster.connect.deleteConnector("archive-kept-again");
    }

    /**
     * A topic deleted and re-created under the same name while the connector runs (two tasks)
     * starts a new generation of its store: the old topic's archive moves aside, whole, to
     * {@code <topic>.<old id>}, and the new topic is archived from its first offset, byte for byte,
     * into a new store under the topic's name that names the previous generation.
     */
    @Test
    void aRecreatedTopicStartsANewGenerationOfItsStoreWhileTheConnectorRuns() throws Exception {
        String topic = "generations";
        cluster.connect.kafka().createTopic(topic, 2, 1, Map.of("max.message.bytes", "300000"));
        cluster.produceVaried(topic, 2, 0, 60);
        List<List<ConsumerRecord<byte[], byte[]>>> oldRecords = cluster.readTopic(topic, 2);
        Map<String, String> sink = sinkConfig(topic, 2);
        sink.put("kafka.bootstrap.servers", cluster.connect.kafka().bootstrapServers());
        sink.put("kafka.metadata.interval.ms", "1000");
        sink.put("kafka.groups.interval.ms", "1000");
        cluster.connect.configureConnector("archive-generations", sink);
        awaitArchived(topic, 2);
        Path store = root.resolve(topic);
        await(Duration.ofSeconds(30), "the topic's metadata beside its store",
                () -> Files.exists(store.resolve(dev.logstore.connect.config.TopicMetadata.FILE)));
        String oldId = dev.logstore.connect.config.TopicMetadata.read(store).topicId();

        recreate(topic, 2);
        cluster.produceVaried(topic, 2, 1000, 100); // more records than the old topic held: offsets cannot tell
        String newId;
        try (org.apache.kafka.clients.admin.Admin admin = cluster.connect.kafka().createAdminClient()) {
            newId = admin.describeTopics(List.of(topic)).allTopicNames().get().get(topic).topicId().toString();
        }
        Path previous = root.resolve(topic + "." + oldId);
        await(Duration.ofSeconds(90), "the old generation to move aside and the new topic to be archived", () -> {
            if (!Files.isDirectory(previous)) {
                return false;
            }
            for (int p = 0; p < 2; p++) {
                if (ConnectCluster.archivedNextOffset(store, p) < cluster.endOffset(topic, p)) {
                    return false;
                }
            }
            return true;
        });
        List<List<ConsumerRecord<byte[], byte[]>>> newRecords = cluster.readTopic(topic, 2);
        for (int p = 0; p < 2; p++) {
            List<dev.logstore.record.LogRecord> kept = readArchive(previous, p);
            ConnectCluster.assertArchiveEqualsTopic(oldRecords.get(p),
                    kept.subList(0, Math.min(kept.size(), oldRecords.get(p).size())), "old generation " + p);
            ConnectCluster.assertArchiveEqualsTopic(newRecords.get(p), readArchive(store, p), "new generation " + p);
        }
        dev.logstore.connect.config.TopicMetadata now = dev.logstore.connect.config.TopicMetadata.read(store);
        assertEquals(newId, now.topicId());
        assertEquals(topic + "." + oldId, now.previousGeneration());
        assertEquals(oldId, dev.logstore.connect.config.TopicMetadata.read(previous).topicId());
        var status = cluster.connect.connectorStatus("archive-generations");
        assertTrue(status.tasks().stream().allMatch(t -> "RUNNING".equals(t.state())), status.toString());
        cluster.connect.deleteConnector("archive-generations");

        // report compares the new generation with the topic, and does not compare the old one with it.
        java.io.StringWriter out = new java.io.StringWriter();
        int code = dev.logstore.cli.LogStoreCli.run(new java.io.PrintWriter(out, true),
                new java.io.PrintWriter(new java.io.StringWriter(), true), "report", previous.toString(),
                "--bootstrap-server", cluster.connect.kafka().bootstrapServers());
        assertEquals(0, code, out.toString());
        assertTrue(out.toString().contains("which was deleted") && out.toString().contains(newId)
                && out.toString().contains("not compared"), out.toString());
        out.getBuffer().setLength(0);
        code = dev.logstore.cli.LogStoreCli.run(new java.io.PrintWriter(out, true),
                new java.io.PrintWriter(new java.io.StringWriter(), true), "report", store.toString(),
                "--bootstrap-server", cluster.connect.kafka().bootstrapServers());
        assertEquals(0, code, out.toString());
        assertFalse(out.toString().contains("not compared"), out.toString());
    }
}
