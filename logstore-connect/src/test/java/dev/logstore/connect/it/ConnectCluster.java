package dev.logstore.connect.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.logstore.LogReader;
import dev.logstore.LogStore;
import dev.logstore.record.Header;
import dev.logstore.record.LogRecord;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.Future;
import java.util.function.BooleanSupplier;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.connect.util.clusters.EmbeddedConnectCluster;

/**
 * A real broker and Connect worker in this JVM (Kafka's {@code EmbeddedConnectCluster}), with the
 * helpers the connector tests share: producing varied records, reading a topic or an archive
 * partition whole, and comparing the two byte for byte.
 */
public final class ConnectCluster implements AutoCloseable {

    public static final String BYTES = "org.apache.kafka.connect.converters.ByteArrayConverter";

    public final EmbeddedConnectCluster connect;

    public ConnectCluster(String name, int workers, Map<String, String> extraWorkerProps) {
        Map<String, String> workerProps = new HashMap<>();
        workerProps.put("offset.flush.interval.ms", "500");
        workerProps.put("scheduled.rebalance.max.delay.ms", "3000");
        workerProps.put("key.converter", BYTES);
        workerProps.put("value.converter", BYTES);
        workerProps.put("header.converter", BYTES);
        workerProps.putAll(extraWorkerProps);
        Properties brokerProps = new Properties();
        brokerProps.put("log.retention.ms", "-1");
        brokerProps.put("auto.create.topics.enable", "false");
        // Compacted topics get their gaps within a test's time.
        brokerProps.put("log.cleaner.backoff.ms", "500");
        // One broker: the transaction log (exactly-once source) must fit on it.
        brokerProps.put("transaction.state.log.replication.factor", "1");
        brokerProps.put("transaction.state.log.min.isr", "1");
        connect = new EmbeddedConnectCluster.Builder().name(name).numWorkers(workers).numBrokers(1)
                .workerProps(workerProps).brokerProps(brokerProps).build();
        connect.start();
    }

    /** Connector settings every LogStore test connector uses: byte converters for key, value and headers. */
    public static Map<String, String> byteConverters() {
        Map<String, String> config = new HashMap<>();
        config.put("key.converter", BYTES);
        config.put("value.converter", BYTES);
        config.put("header.converter", BYTES);
        return config;
    }

    /**
     * A source connector replaying {@code stores} of the archive {@code root} into topics named by
     * {@code topicFormat} on this cluster, exactly once, up to each store's end when it starts.
     */
    public Map<String, String> snapshotReplay(Path root, String stores, String topicFormat) {
        Map<String, String> config = byteConverters();
        config.put("connector.class", dev.logstore.connect.source.LogStoreSourceConnector.class.getName());
        config.put("logstore.dir", root.toString());
        config.put("logstore.stores", stores);
        config.put("topic.format", topicFormat);
        config.put("replay.end", "snapshot");
        config.put("exactly.once.support", "required");
        config.put("target.bootstrap.servers", connect.kafka().bootstrapServers());
        return config;
    }

    /**
     * Produces {@code count} varied records to {@code topic}: keys, null keys, null values (tombstones),
     * empty values, repeated and null headers, and timestamps from a month ago to now.
     */
    public void produceVaried(String topic, int partitions, int first, int count) throws Exception {
        long now = System.currentTimeMillis();
        List<Future<RecordMetadata>> sent = new ArrayList<>();
        try (KafkaProducer<byte[], byte[]> producer = connect.kafka().createProducer(Map.of("linger.ms", 5, "acks", "all",
                "enable.idempotence", false, "max.in.flight.requests.per.connection", 1))) {
            for (int i = first; i < first + count; i++) {
                byte[] key = i % 5 == 0 ? null : ("key-" + (i % 17)).getBytes();
                byte[] value = i % 11 == 0 ? null : i % 13 == 0 ? new byte[0] : ("value-" + i + "-" + "x".repeat(i % 50)).getBytes();
                RecordHeaders headers = new RecordHeaders();
                if (i % 3 == 0) {
                    headers.add("trace", ("t" + i).getBytes());
                    headers.add("trace", null);
                    headers.add("bin", new byte[] {0, (byte) 0xff, (byte) i});
                }
                long timestamp = now - Duration.ofDays(30).toMillis() + i * 1000L;
                sent.add(producer.send(new ProducerRecord<>(topic, i % partitions, timestamp, key, value, headers)));
            }
            producer.flush();
        }
        for (Future<RecordMetadata> future : sent) {
            future.get(30, java.util.concurrent.TimeUnit.SECONDS);
        }
    }

    /** Every record of every partition of {@code topic}, by partition, read committed. */
    public List<List<ConsumerRecord<byte[], byte[]>>> readTopic(String topic, int partitions) {
        Map<String, Object> props = new HashMap<>();
        props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        props.put(ConsumerConfig.ALLOW_AUTO_CREATE_TOPICS_CONFIG, false);
        props.put(ConsumerConfig.GROUP_ID_CONFIG, "reader-" + System.nanoTime());
        List<List<ConsumerRecord<byte[], byte[]>>> result = new ArrayList<>();
        try (KafkaConsumer<byte[], byte[]> consumer = connect.kafka().createConsumer(props)) {
            for (int p = 0; p < partitions; p++) {
                TopicPartition tp = new TopicPartition(topic, p);
                consumer.assign(List.of(tp));
                consumer.seekToBeginning(List.of(tp));
                long end = consumer.endOffsets(List.of(tp)).get(tp);
                List<ConsumerRecord<byte[], byte[]>> records = new ArrayList<>();
                long deadline = System.currentTimeMillis() + 60_000;
                while (consumer.position(tp) < end && System.currentTimeMillis() < deadline) {
                    consumer.poll(Duration.ofMillis(200)).records(tp).forEach(records::add);
                }
                result.add(records);
            }
        }
        return result;
    }

    /** The end offset of a topic partition. */
    public long endOffset(String topic, int partition) {
        try {
            return connect.kafka().endOffset(new TopicPartition(topic, partition));
        } catch (Exception e) {
            throw new AssertionError("cannot read the end offset of " + topic + "-" + partition, e);
        }
    }

    /** Every record of one archive partition. */
    public static List<LogRecord> readArchive(Path storeDir, int partition) {
        return readArchive(storeDir, partition, null);
    }

    /** Every record of one archive partition, decrypted with {@code keys} (null: none). */
    public static List<LogRecord> readArchive(Path storeDir, int partition, dev.logstore.KeyProvider keys) {
        List<LogRecord> all = new ArrayList<>();
        LogStore.Builder builder = LogStore.builder(storeDir).readOnly();
        try (LogStore store = (keys == null ? builder : builder.keys(keys)).open();
             LogReader reader = store.reader(partition)) {
            List<LogRecord> batch;
            while (!(batch = reader.poll(10_000, 4 << 20)).isEmpty()) {
                all.addAll(batch);
            }
        }
        return all;
    }

    /** The archive's next offset of a partition, or 0 when it does not exist yet. */
    public static long archivedNextOffset(Path storeDir, int partition) {
        if (!Files.exists(storeDir.resolve("logstore.properties"))) {
            return 0;
        }
        try (LogStore store = LogStore.builder(storeDir).readOnly().open()) {
            return partition < store.partitionCount() ? store.nextOffset(partition) : 0;
        }
    }

    /** Asserts that an archive partition holds exactly the topic partition's records, offsets included. */
    public static void assertArchiveEqualsTopic(List<ConsumerRecord<byte[], byte[]>> topic, List<LogRecord> archive,
                                         String what) {
        assertEquals(topic.size(), archive.size(), what + ": record count");
        for (int i = 0; i < topic.size(); i++) {
            ConsumerRecord<byte[], byte[]> expected = topic.get(i);
            LogRecord actual = archive.get(i);
            String at = what + " offset " + expected.offset();
            assertEquals(expected.offset(), actual.offset(), at);
            assertSameRecord(expected, actual.key(), actual.value(), actual.timestamp(), actual.headers(), at);
        }
    }

    /**
     * Asserts that a topic partition holds exactly the archive's records in order; offsets may
     * differ (a transactional replay interleaves commit markers).
     */
    public static void assertTopicEqualsArchive(List<ConsumerRecord<byte[], byte[]>> topic, List<LogRecord> archive,
                                                String what) {
        assertEquals(archive.size(), topic.size(), what + ": record count");
        for (int i = 0; i < archive.size(); i++) {
            LogRecord expected = archive.get(i);
            assertSameRecord(topic.get(i), expected.key(), expected.value(), expected.timestamp(), expected.headers(),
                    what + " archive offset " + expected.offset());
        }
    }

    public static void assertSameRecord(ConsumerRecord<byte[], byte[]> expected, byte[] key, byte[] value, long timestamp,
                                 List<Header> headers, String at) {
        assertArrayEquals(expected.key(), key, at + ": key");
        assertArrayEquals(expected.value(), value, at + ": value");
        assertEquals(expected.timestamp(), timestamp, at + ": timestamp");
        Iterator<org.apache.kafka.common.header.Header> expectedHeaders = expected.headers().iterator();
        for (Header header : headers) {
            org.apache.kafka.common.header.Header e = expectedHeaders.next();
            assertEquals(e.key(), header.key(), at + ": header key");
            assertArrayEquals(e.value(), header.value(), at + ": header " + e.key());
        }
        assertEquals(false, expectedHeaders.hasNext(), at + ": header count");
    }

    /** How many committed records {@code topic} holds in all its partitions. */
    public int recordCount(String topic, int partitions) {
        return readTopic(topic, partitions).stream().mapToInt(List::size).sum();
    }

    /**
     * Waits up to {@code timeout} until the store of {@code topic} under {@code root} has archived
     * every partition up to the topic's end offsets (as they are when called).
     */
    public void awaitArchived(Path root, String topic, int partitions, Duration timeout) throws InterruptedException {
        long[] ends = new long[partitions];
        for (int p = 0; p < partitions; p++) {
            ends[p] = endOffset(topic, p);
        }
        await(timeout, "archive of " + topic + " to reach end offsets " + java.util.Arrays.toString(ends), () -> {
            for (int p = 0; p < partitions; p++) {
                if (archivedNextOffset(root.resolve(topic), p) < ends[p]) {
                    return false;
                }
            }
            return true;
        });
    }

    /**
     * Asserts that a topic's committed record count stays at {@code expected} for {@code period}:
     * a duplicate that a restart or failover lets through late would push it higher.
     */
    public void assertCountStays(String topic, int partitions, int expected, Duration period) throws InterruptedException {
        long end = System.nanoTime() + period.toNanos();
        do {
            assertEquals(expected, recordCount(topic, partitions), topic + " must hold exactly " + expected + " records");
            Thread.sleep(250);
        } while (System.nanoTime() < end);
    }

    /** Waits up to {@code timeout} for {@code condition}, failing with {@code message}. */
    public static void await(Duration timeout, String message, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        RuntimeException last = null;
        while (true) {
            try {
                if (condition.getAsBoolean()) {
                    return;
                }
            } catch (RuntimeException e) {
                last = e; // e.g. a status the worker does not have yet
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("Timed out after " + timeout + ": " + message, last);
            }
            Thread.sleep(200);
        }
    }

    @Override
    public void close() {
        connect.stop();
    }
}
