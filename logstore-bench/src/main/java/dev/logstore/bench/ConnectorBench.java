package dev.logstore.bench;

import dev.logstore.LogStore;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.Random;
import java.util.concurrent.Future;
import java.util.function.LongSupplier;
import java.util.stream.Stream;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.connect.util.clusters.EmbeddedConnectCluster;

/**
 * The connectors against raw clients on one embedded broker and worker: the sink's archive rate
 * against a raw KafkaConsumer reading the same topic (the ceiling) and against Kafka's
 * FileStreamSinkConnector; the source's replay rate against a raw KafkaProducer sending the same
 * records with the same acks.
 *
 * <pre>bin/bench connectors [--records 1000000] [--value-bytes 1024]</pre>
 */
public final class ConnectorBench {

    private static final String BYTES = "org.apache.kafka.connect.converters.ByteArrayConverter";
    private static final String TOPIC = "bench";
    private static final int PARTITIONS = 3;
    private static final long FLUSH_INTERVAL_MS = 5000;

    public static void main(String[] args) throws Exception {
        System.setProperty("log4j2.configurationFile", "classpath:logstore-bench-log4j2.xml");
        long records = 1_000_000;
        int valueBytes = 1024;
        Path out = Path.of("logstore-bench/results/connectors.md");
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--records" -> records = Long.parseLong(args[++i]);
                case "--value-bytes" -> valueBytes = Integer.parseInt(args[++i]);
                case "--out" -> out = Path.of(args[++i]);
                default -> throw new IllegalArgumentException("unknown option " + args[i]
                        + "; options: --records, --value-bytes, --out");
            }
        }
        Path work = Files.createTempDirectory("logstore-connector-bench");
        Properties broker = new Properties();
        broker.put("log.retention.ms", "-1");
        EmbeddedConnectCluster cluster = new EmbeddedConnectCluster.Builder().name("bench").numWorkers(1)
                .brokerProps(broker)
                .workerProps(new HashMap<>(Map.of("offset.flush.interval.ms", Long.toString(FLUSH_INTERVAL_MS))))
                .build();
        cluster.start();
        Report report = new Report("LogStore connector benchmark results",
                "bin/bench connectors --records " + records + " --value-bytes " + valueBytes);
        try {
            cluster.kafka().createTopic(TOPIC, PARTITIONS);
            byte[][] values = values(valueBytes);
            double produce = rawProduce(cluster, TOPIC, records, values);
            // Every sink-side measurement runs twice, interleaved, and the second run counts: the first
            // one of each pays for compiling the consumer and Connect's sink pipeline, which on two
            // cores takes CPU from whatever runs first.
            rawConsume(cluster, records, "raw-consumer-warm-up");
            logStoreSink(cluster, "bench-sink-warm-up", work.resolve("archive-warm-up"), records);
            fileStreamSink(cluster, "bench-file-sink-warm-up", work.resolve("file-sink-warm-up.txt"), records,
                    valueBytes);
            double consume = rawConsume(cluster, records, "raw-consumer");
            double sink = logStoreSink(cluster, "bench-sink", work.resolve("archive"), records);
            double disk = rawDiskWrite(work.resolve("disk-baseline"), archiveBytes(work.resolve("archive")), records);
            double fileSink = fileStreamSink(cluster, "bench-file-sink", work.resolve("file-sink.txt"), records,
                    valueBytes);
            double source = logStoreSource(cluster, work.resolve("archive"), records);
            cluster.kafka().createTopic("bench.raw", PARTITIONS);
            double rawProduceAgain = rawProduce(cluster, "bench.raw", records, values);
            List<String> rows = List.of(
                    row("LogStoreSinkConnector: archive", sink, "raw KafkaConsumer reading the topic", consume, valueBytes),
                    row("LogStoreSinkConnector: archive", sink, "FileStreamSinkConnector writing the values", fileSink,
                            valueBytes),
                    row("LogStoreSinkConnector: archive", sink, "raw FileChannel writing the archive's bytes to the same "
                            + "disk, fsync every " + FLUSH_INTERVAL_MS / 1000 + " s", disk, valueBytes),
                    row("LogStoreSourceConnector: replay", source, "raw KafkaProducer, acks=all", rawProduceAgain,
                            valueBytes));
            report.section(records + " records of " + valueBytes + " B in " + PARTITIONS + " partitions, one task",
                    "| LogStore | records/s | MiB/s | Baseline | records/s | Ratio |", rows,
                    "The connectors' rates include starting the connector and its task. The consumer and both sinks "
                            + "each ran twice, interleaved; the table has their second runs. The raw disk write puts as "
                            + "many bytes as the archive holds on the filesystem the archive is on, in 1 MiB writes, "
                            + "forcing them as often as the worker commits the sink's offsets (which is when the sink "
                            + "forces its archive): it is the most the disk gives a writer that must keep up. The raw "
                            + "producer was also "
                            + "measured before anything else ran (" + String.format(Locale.ROOT, "%.0f", produce)
                            + " records/s, to fill the topic); the table uses its second run, made right after the "
                            + "replay on the same warm broker.");
        } finally {
            cluster.stop();
        }
        report.write(out);
        System.out.println("results written to " + out);
    }

    private static String row(String name, double rate, String baseline, double baseRate, int valueBytes) {
        return String.format(Locale.ROOT, "| %s | %.0f | %.1f | %s | %.0f | %s |", name, rate,
                rate * valueBytes / (1 << 20), baseline, baseRate, Report.ratio(rate, baseRate));
    }

    private static byte[][] values(int size) {
        Random random = new Random(1);
        byte[][] values = new byte[64][size];
        for (byte[] value : values) {
            for (int i = 0; i < size; i++) {
                value[i] = (byte) ('a' + random.nextInt(26)); // text, so FileStreamSink can write it too
            }
        }
        return values;
    }

    private static double rawProduce(EmbeddedConnectCluster cluster, String topic, long records, byte[][] values)
            throws Exception {
        long start = System.nanoTime();
        try (KafkaProducer<byte[], byte[]> producer = cluster.kafka().createProducer(Map.of("acks", "all"))) {
            Future<RecordMetadata> last = null;
            for (long i = 0; i < records; i++) {
                last = producer.send(new ProducerRecord<>(topic, (int) (i % PARTITIONS), null,
                        ("key-" + i).getBytes(), values[(int) (i % values.length)]));
            }
            producer.flush();
            last.get();
        }
        return records / ((System.nanoTime() - start) / 1e9);
    }

    private static double rawConsume(EmbeddedConnectCluster cluster, long records, String group) {
        Map<String, Object> props = new HashMap<>();
        props.put("group.id", group);
        props.put("auto.offset.reset", "earliest");
        long start = System.nanoTime();
        long seen = 0;
        try (KafkaConsumer<byte[], byte[]> consumer = cluster.kafka().createConsumerAndSubscribeTo(props, TOPIC)) {
            while (seen < records) {
                ConsumerRecords<byte[], byte[]> batch = consumer.poll(Duration.ofMillis(500));
                seen += batch.count();
            }
        }
        return records / ((System.nanoTime() - start) / 1e9);
    }

    private static Map<String, String> connector(String type) {
        Map<String, String> config = new HashMap<>();
        config.put("connector.class", type);
        config.put("tasks.max", "1");
        config.put("key.converter", BYTES);
        config.put("value.converter", BYTES);
        config.put("header.converter", BYTES);
        return config;
    }

    private static double logStoreSink(EmbeddedConnectCluster cluster, String name, Path archive, long records)
            throws Exception {
        Map<String, String> config = connector("dev.logstore.connect.sink.LogStoreSinkConnector");
        config.put("topics", TOPIC);
        config.put("logstore.dir", archive.toString());
        long start = System.nanoTime();
        cluster.configureConnector(name, config);
        // Progress is read through one read-only handle that follows the archive: each look reads
        // only what was appended since the last one (reopening would rescan the active segment).
        LogStore[] follower = {null};
        try {
            awaitCount(records, () -> {
                Path store = archive.resolve(TOPIC);
                if (follower[0] == null) {
                    if (!Files.exists(store.resolve("logstore.properties"))) {
                        return 0;
                    }
                    follower[0] = LogStore.builder(store).readOnly().open();
                }
                long total = 0;
                for (int p = 0; p < follower[0].partitionCount(); p++) {
                    total += follower[0].nextOffset(p);
                }
                return total;
            });
        } finally {
            if (follower[0] != null) {
                follower[0].close();
            }
        }
        double rate = records / ((System.nanoTime() - start) / 1e9);
        cluster.deleteConnector(name);
        return rate;
    }

    private static long archiveBytes(Path archive) throws IOException {
        try (Stream<Path> files = Files.walk(archive)) {
            return files.filter(f -> f.toString().endsWith(".log")).mapToLong(f -> f.toFile().length()).sum();
        }
    }

    /** Records per second if writing {@code bytes} for {@code records} records went as fast as the disk takes them. */
    private static double rawDiskWrite(Path file, long bytes, long records) throws IOException {
        ByteBuffer chunk = ByteBuffer.allocateDirect(1 << 20);
        new Random(2).ints(chunk.capacity(), 'a', 'z' + 1).forEach(b -> chunk.put((byte) b));
        long start = System.nanoTime();
        long lastForce = start;
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            long written = 0;
            while (written < bytes) {
                chunk.clear().limit((int) Math.min(chunk.capacity(), bytes - written));
                while (chunk.hasRemaining()) {
                    written += channel.write(chunk, written);
                }
                if (System.nanoTime() - lastForce > FLUSH_INTERVAL_MS * 1_000_000) {
                    channel.force(false);
                    lastForce = System.nanoTime();
                }
            }
        }
        double rate = records / ((System.nanoTime() - start) / 1e9);
        Files.delete(file);
        return rate;
    }

    private static double fileStreamSink(EmbeddedConnectCluster cluster, String name, Path file, long records,
                                         int valueBytes) throws Exception {
        Map<String, String> config = connector("org.apache.kafka.connect.file.FileStreamSinkConnector");
        config.put("value.converter", "org.apache.kafka.connect.storage.StringConverter");
        config.put("topics", TOPIC);
        config.put("file", file.toString());
        long expectedBytes = records * (valueBytes + 1);
        long start = System.nanoTime();
        cluster.configureConnector(name, config);
        awaitCount(expectedBytes, () -> Files.exists(file) ? file.toFile().length() : 0);
        double rate = records / ((System.nanoTime() - start) / 1e9);
        cluster.deleteConnector(name);
        return rate;
    }

    private static double logStoreSource(EmbeddedConnectCluster cluster, Path archive, long records) throws Exception {
        Map<String, String> config = connector("dev.logstore.connect.source.LogStoreSourceConnector");
        config.put("logstore.dir", archive.toString());
        config.put("logstore.stores", TOPIC);
        config.put("topic.format", "${topic}.replay");
        config.put("replay.end", "snapshot");
        config.put("batch.size", "10000");
        config.put("target.bootstrap.servers", cluster.kafka().bootstrapServers());
        // The worker's producer favours latency; a bulk replay wants larger batches (KIP-458 overrides).
        config.put("producer.override.linger.ms", "20");
        config.put("producer.override.batch.size", "1048576");
        long start = System.nanoTime();
        cluster.configureConnector("bench-source", config);
        awaitCount(records, () -> {
            long total = 0;
            for (int p = 0; p < PARTITIONS; p++) {
                try {
                    total += cluster.kafka().endOffset(new TopicPartition(TOPIC + ".replay", p));
                } catch (Exception notYet) {
                    return 0;
                }
            }
            return total;
        });
        double rate = records / ((System.nanoTime() - start) / 1e9);
        cluster.deleteConnector("bench-source");
        return rate;
    }

    private static void awaitCount(long target, LongSupplier count) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofMinutes(30).toNanos();
        while (count.getAsLong() < target) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("gave up after 30 minutes at " + count.getAsLong() + " of " + target);
            }
            Thread.sleep(100);
        }
    }
}
