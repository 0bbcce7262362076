package dev.logstore.dist;

import static dev.logstore.connect.it.ConnectCluster.await;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.logstore.connect.it.ConnectCluster;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.utils.Exit;
import org.apache.kafka.common.utils.Utils;
import org.apache.kafka.connect.cli.ConnectStandalone;
import org.apache.kafka.connect.runtime.Connect;
import org.apache.kafka.connect.runtime.standalone.StandaloneHerder;
import org.apache.kafka.connect.util.clusters.EmbeddedKafkaCluster;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The README's "Archive and replay a topic of your own cluster", followed as written: the files in
 * {@code config/} with exactly the edits the README asks for (brokers, {@code plugin.path} set to
 * the packaged plugin, the topic, the store to replay, and another absolute archive path in the
 * places the README names), run by Kafka's own standalone worker (what {@code connect-standalone.sh}
 * runs) against a real broker. The one change the README does not ask for: the worker's REST
 * listener takes a free port instead of 8083, as a test must not depend on a fixed port.
 */
class StandaloneQuickStartIT {

    private static final String TOPIC = "orders";
    private static final int PARTITIONS = 3;
    private static final int RECORDS = 300;

    @TempDir
    static Path work;

    private static EmbeddedKafkaCluster kafka;

    @BeforeAll
    static void startBroker() {
        // The standalone worker calls Exit on a failed start: make that an exception, not a dead JVM.
        Exit.setExitProcedure((code, message) -> {
            throw new IllegalStateException("the worker exited with " + code + ": " + message);
        });
        kafka = new EmbeddedKafkaCluster(1, new Properties());
        kafka.start();
    }

    @AfterAll
    static void stopBroker() {
        if (kafka != null) {
            kafka.stop();
        }
        Exit.resetExitProcedure();
    }

    /** A copy of {@code config/<name>} with the given keys set, as a user edits it. */
    private static Path edited(String name, Map<String, String> edits) throws IOException {
        List<String> lines = new ArrayList<>();
        Map<String, String> left = new HashMap<>(edits);
        for (String line : Files.readAllLines(Path.of("..", "config", name))) {
            int eq = line.indexOf('=');
            String key = eq > 0 && !line.startsWith("#") ? line.substring(0, eq).trim() : null;
            if (key != null && left.containsKey(key)) {
                lines.add(key + "=" + left.remove(key));
            } else {
                lines.add(line);
            }
        }
        assertTrue(left.isEmpty(), "config/" + name + " has no line for " + left.keySet() + ", which the README says "
                + "to set");
        Path copy = work.resolve(name);
        Files.write(copy, lines);
        return copy;
    }

    /** Runs Kafka's standalone worker with {@code workerFile} and one connector file, as connect-standalone.sh does. */
    private static Connect<StandaloneHerder> standalone(Path workerFile, Path connectorFile) throws IOException {
        ConnectStandalone cli = new ConnectStandalone(workerFile.toString(), connectorFile.toString());
        Connect<StandaloneHerder> connect = cli.startConnect(Utils.propsToStringMap(Utils.loadProps(
                workerFile.toString())));
        cli.processExtraArgs(connect, new String[] {connectorFile.toString()});
        return connect;
    }

    private static void stop(Connect<StandaloneHerder> connect) {
        connect.stop();
        connect.awaitStop();
    }

    @Test
    void theReadmesStandaloneQuickStartArchivesAndReplaysATopicAsWritten() throws Exception {
        String bootstrap = kafka.bootstrapServers();
        kafka.createTopic(TOPIC, PARTITIONS);
        List<ProducerRecord<byte[], byte[]>> produced = produce();

        // Step 2: an archive directory (another absolute path, in the three places the README names).
        Path archive = Files.createDirectories(work.resolve("var-lib-logstore"));
        Path plugins = Path.of("target", "plugins").toAbsolutePath();
        assertTrue(Files.isDirectory(plugins), "the package must be built first: " + plugins);
        // Step 3: brokers and plugin.path in the worker file, the topic in the sink's.
        Path worker = edited("connect-standalone.properties", Map.of(
                "bootstrap.servers", bootstrap,
                "plugin.path", plugins.toString(),
                "offset.storage.file.filename", archive.resolve(".connect-standalone.offsets").toString(),
                "listeners", "http://127.0.0.1:0"));
        Path sink = edited("logstore-sink.properties", Map.of("topics", TOPIC, "logstore.dir", archive.toString()));
        // Step 5's edits: the store to replay, and the brokers that receive the replay.
        Path source = edited("logstore-source.properties", Map.of("logstore.stores", TOPIC,
                "logstore.dir", archive.toString(), "target.bootstrap.servers", bootstrap));

        // Step 4: archive, until the archive holds the whole topic, then stop the worker.
        Connect<StandaloneHerder> archiving = standalone(worker, sink);
        try {
            await(Duration.ofSeconds(60), "the sink archives the topic", () -> archived(archive) == RECORDS);
        } finally {
            stop(archiving);
        }

        // Step 5: replay into orders.replay.
        Connect<StandaloneHerder> replaying = standalone(worker, source);
        try {
            await(Duration.ofSeconds(60), "the source replays the archive",
                    () -> count(TOPIC + ".replay") == RECORDS);
        } finally {
            stop(replaying);
        }
        assertSameRecords(produced, read(TOPIC + ".replay"));

        // A restart of the replay worker resumes from its offsets file: nothing is replayed twice.
        Connect<StandaloneHerder> restarted = standalone(worker, source);
        try {
            // Nothing must happen: give the task time to start, find its offsets and commit once.
            Thread.sleep(TimeUnit.SECONDS.toMillis(12));
        } finally {
            stop(restarted);
        }
        assertEquals(RECORDS, count(TOPIC + ".replay"), "a restarted replay replays nothing again");
    }

    private static List<ProducerRecord<byte[], byte[]>> produce() throws Exception {
        List<ProducerRecord<byte[], byte[]>> records = new ArrayList<>();
        List<Future<RecordMetadata>> sent = new ArrayList<>();
        Map<String, Object> props = Map.of("acks", "all", "enable.idempotence", false,
                "max.in.flight.requests.per.connection", 1);
        try (KafkaProducer<byte[], byte[]> producer = kafka.createProducer(props)) {
            for (int i = 0; i < RECORDS; i++) {
                byte[] key = i % 7 == 0 ? null : ("customer-" + (i % 23)).getBytes();
                byte[] value = i % 50 == 49 ? null : ("{\"order\":" + i + "}").getBytes();
                ProducerRecord<byte[], byte[]> record = new ProducerRecord<>(TOPIC, i % PARTITIONS,
                        1_700_000_000_000L + i, key, value);
                if (i % 3 == 0) {
                    record.headers().add("trace", ("t" + i).getBytes());
                }
                records.add(record);
                sent.add(producer.send(record));
            }
        }
        for (Future<RecordMetadata> future : sent) {
            future.get(30, TimeUnit.SECONDS);
        }
        return records;
    }

    private static long archived(Path archive) {
        Path store = archive.resolve(TOPIC);
        if (!Files.isDirectory(store)) {
            return 0;
        }
        long total = 0;
        for (int p = 0; p < PARTITIONS; p++) {
            total += ConnectCluster.readArchive(store, p).size();
        }
        return total;
    }

    private static long count(String topic) {
        return read(topic).values().stream().mapToLong(List::size).sum();
    }

    /** Every record of {@code topic}, by partition, read committed (empty when the topic does not exist yet). */
    private static Map<Integer, List<ConsumerRecord<byte[], byte[]>>> read(String topic) {
        Map<Integer, List<ConsumerRecord<byte[], byte[]>>> result = new HashMap<>();
        Map<String, Object> props = new HashMap<>();
        props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        props.put(ConsumerConfig.ALLOW_AUTO_CREATE_TOPICS_CONFIG, false);
        props.put(ConsumerConfig.GROUP_ID_CONFIG, "reader-" + System.nanoTime());
        try (KafkaConsumer<byte[], byte[]> consumer = kafka.createConsumer(props)) {
            if (!consumer.listTopics().containsKey(topic)) {
                return result;
            }
            for (int p = 0; p < consumer.partitionsFor(topic).size(); p++) {
                TopicPartition tp = new TopicPartition(topic, p);
                consumer.assign(List.of(tp));
                consumer.seekToBeginning(List.of(tp));
                long end = consumer.endOffsets(List.of(tp)).get(tp);
                List<ConsumerRecord<byte[], byte[]>> records = new ArrayList<>();
                long deadline = System.currentTimeMillis() + 30_000;
                while (consumer.position(tp) < end && System.currentTimeMillis() < deadline) {
                    consumer.poll(Duration.ofMillis(200)).records(tp).forEach(records::add);
                }
                result.put(p, records);
            }
        }
        return result;
    }

    private static void assertSameRecords(List<ProducerRecord<byte[], byte[]>> produced,
                                          Map<Integer, List<ConsumerRecord<byte[], byte[]>>> replayed) {
        assertEquals(PARTITIONS, replayed.size(), "the replay topic has the archive's partition count");
        for (int p = 0; p < PARTITIONS; p++) {
            int partition = p;
            List<ProducerRecord<byte[], byte[]>> expected = produced.stream().filter(r -> r.partition() == partition)
                    .toList();
            List<ConsumerRecord<byte[], byte[]>> got = replayed.get(p);
            assertEquals(expected.size(), got.size(), "records of partition " + p);
            for (int i = 0; i < expected.size(); i++) {
                assertArrayEquals(expected.get(i).key(), got.get(i).key(), "key " + i + " of partition " + p);
                assertArrayEquals(expected.get(i).value(), got.get(i).value(), "value " + i + " of partition " + p);
                assertEquals(expected.get(i).timestamp(), got.get(i).timestamp());
                assertEquals(expected.get(i).headers(), got.get(i).headers());
            }
        }
    }
}
