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
import java.util.function.Supplier;
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
    private static final long STALL_NANOS = Duration.ofMinutes(1).toNanos();

    public static void main(String[] args) throws Exception {
        System.setProperty("log4j2.configurationFile", "classpath:logstore-bench-log4j2.xml");
        long records = 1_000_000;
        int valueBytes = 1024;
        Path out = Path.of("logstore-bench/results/connectors.md");
        boolean sizesOnly = false;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--records" -> records = Long.parseLong(args[++i]);
                case "--value-bytes" -> valueBytes = Integer.parseInt(args[++i]);
                case "--out" -> out = Path.of(args[++i]);
                case "--sizes-only" -> sizesOnly = true;
                default -> throw new IllegalArgumentException("unknown option " + args[i]
                        + "; options: --records, --value-bytes, --sizes-only, --out");
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
                "bin/bench connectors --records " + records + " --value-bytes " + valueBytes
                        + (sizesOnly ? " --sizes-only" : ""));
        if (sizesOnly) {
            out = Path.of("logstore-bench/target/connectors-sizes.md");
        }
        try {
            archiveSizes(cluster, work, report);
            if (sizesOnly) {
                return;
            }
            cluster.kafka().createTopic(TOPIC, PARTITIONS);
            byte[][] values = values(valueBytes);
            Run produce = rawProduce(cluster, TOPIC, records, values);
            // Every sink-side measurement runs twice, interleaved, and the second run counts: the first
            // one of each pays for compiling the consumer and Connect's sink pipeline, which on two
            // cores takes CPU from whatever runs first.
            rawConsume(cluster, records, "raw-consumer-warm-up");
            logStoreSink(cluster, "bench-sink-warm-up", work.resolve("archive-warm-up"), records);
            long archiveSize = archiveBytes(work.resolve("archive-warm-up"));
            fileStreamSink(cluster, "bench-file-sink-warm-up", work.resolve("file-sink-warm-up.txt"), records,
                    valueBytes);
            CpuUse consumeCpu = CpuUse.start();
            Run consume = rawConsume(cluster, records, "raw-consumer");
            String consumeCpuText = consumeCpu.stop();
            String[] sinkCpuText = {""};
            CpuUse sinkCpu = CpuUse.start();
            Run sink = timedLogStoreSink(cluster, "bench-sink", work.resolve("archive"), records, archiveSize,
                    () -> sinkCpuText[0] = sinkCpu.stop());
            Run disk = rawDiskWrite(work.resolve("disk-baseline"), archiveBytes(work.resolve("archive")), records);
            Run fileSink = fileStreamSink(cluster, "bench-file-sink", work.resolve("file-sink.txt"), records,
                    valueBytes);
            Run source = logStoreSource(cluster, work.resolve("archive"), records);
            cluster.kafka().createTopic("bench.raw", PARTITIONS);
            Run rawProduceAgain = rawProduce(cluster, "bench.raw", records, values);
            String consumer = "raw KafkaConsumer reading the topic";
            String fileStream = "FileStreamSinkConnector writing the values";
            String rawDisk = "raw FileChannel writing the archive's bytes to the same disk, fsync every "
                    + FLUSH_INTERVAL_MS / 1000 + " s";
            String producer = "raw KafkaProducer, acks=all";
            String archiving = "LogStoreSinkConnector: archive";
            String replaying = "LogStoreSourceConnector: replay";
            List<String> rows = List.of(
                    row(archiving, sink.rate(), consumer, consume.rate(), valueBytes),
                    row(archiving, sink.rate(), fileStream, fileSink.rate(), valueBytes),
                    row(archiving, sink.rate(), rawDisk, disk.rate(), valueBytes),
                    row(replaying, source.rate(), producer, rawProduceAgain.rate(), valueBytes));
            List<String> flowing = List.of(
                    flowingRow(archiving, sink, consumer, consume),
                    flowingRow(archiving, sink, fileStream, fileSink),
                    flowingRow(archiving, sink, rawDisk, disk),
                    flowingRow(replaying, source, producer, rawProduceAgain));
            String title = records + " records of " + valueBytes + " B in " + PARTITIONS + " partitions, one task";
            report.section(title,
                    "| LogStore | records/s | MiB/s | Baseline | records/s | Ratio |", rows,
                    "The connectors' rates include starting the connector and its task. The consumer and both sinks "
                            + "each ran twice, interleaved; the table has their second runs. The raw disk write puts as "
                            + "many bytes as the archive holds on the filesystem the archive is on, in 1 MiB writes, "
                            + "forcing them as often as the worker commits the sink's offsets (which is when the sink "
                            + "forces its archive): it is the most the disk gives a writer that must keep up. The raw "
                            + "producer was also "
                            + "measured before anything else ran (" + String.format(Locale.ROOT, "%.0f", produce.rate())
                            + " records/s, to fill the topic); the table uses its second run, made right after the "
                            + "replay on the same warm broker.");
            report.section(title + ", once records flow",
                    "| LogStore | until the first record, s | records/s after it | Baseline | until the first record, s "
                            + "| records/s after it | Ratio |", flowing,
                    "The same runs, timed from the moment the first records were seen (looked for every 20 ms): what "
                            + "is left is the rate once the consumer group, the connector and its task are running. "
                            + "The raw clients and the disk write start at once.");
            report.section("Where the CPU goes", "| Run | CPU use in this JVM (broker, worker and clients all run in it) |",
                    List.of("| raw KafkaConsumer reading the topic | " + consumeCpuText + " |",
                            "| LogStoreSinkConnector: archive | " + sinkCpuText[0] + " |"),
                    "CPU time per thread over each run (thread numbers folded into N; threads under 1 % of the wall "
                            + "time left out). The task thread runs Connect's consumer and converters and hands "
                            + "batches to the writer thread, which encodes them and writes the "
                            + (archiveSize >> 20) + " MiB archive: nearly all of its time is the kernel's, copying "
                            + "into the page cache.");
        } finally {
            cluster.stop();
            Dirs.deleteTree(work);
            report.write(out);
        }
        System.out.println("results written to " + out);
    }

    private static String flowingRow(String name, Run run, String baseline, Run base) {
        return String.format(Locale.ROOT, "| %s | %.2f | %.0f | %s | %.2f | %.0f | %s |", name, run.startupSeconds(),
                run.flowingRate(), baseline, base.startupSeconds(), base.flowingRate(),
                Report.ratio(run.flowingRate(), base.flowingRate()));
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

    private static Run rawProduce(EmbeddedConnectCluster cluster, String topic, long records, byte[][] values)
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
        return Run.immediate(records, start, System.nanoTime());
    }

    private static Run rawConsume(EmbeddedConnectCluster cluster, long records, String group) {
        Map<String, Object> props = new HashMap<>();
        props.put("group.id", group);
        props.put("auto.offset.reset", "earliest");
        long start = System.nanoTime();
        long seen = 0;
        long first = 0;
        long firstCount = 0;
        try (KafkaConsumer<byte[], byte[]> consumer = cluster.kafka().createConsumerAndSubscribeTo(props, TOPIC)) {
            while (seen < records) {
                ConsumerRecords<byte[], byte[]> batch = consumer.poll(Duration.ofMillis(500));
                seen += batch.count();
                if (first == 0 && seen > 0) {
                    first = System.nanoTime();
                    firstCount = seen;
                }
            }
        }
        return new Run(records, start, first, firstCount, System.nanoTime());
    }

    /**
     * The archive of a topic against the broker's own log of it, for each codec: JSON orders
     * produced by a KafkaProducer compressing with the codec (its default batching), archived by
     * the sink compressing with the same codec; the broker's log size is what the broker reports
     * for the topic's partitions (Admin describeLogDirs).
     */
    private static void archiveSizes(EmbeddedConnectCluster cluster, Path work, Report report) throws Exception {
        List<dev.logstore.record.Record> orders = CompressionBench.orders(48L << 20);
        List<String> rows = new ArrayList<>();
        for (String codec : List.of("zstd", "lz4", "none")) {
            String topic = "orders-" + codec;
            cluster.kafka().createTopic(topic, PARTITIONS);
            try (KafkaProducer<byte[], byte[]> producer = cluster.kafka().createProducer(Map.of("acks", "all",
                    "compression.type", codec))) {
                for (int i = 0; i < orders.size(); i++) {
                    dev.logstore.record.Record order = orders.get(i);
                    ProducerRecord<byte[], byte[]> record = new ProducerRecord<>(topic, i % PARTITIONS,
                            order.timestamp(), order.key(), order.value());
                    order.headers().forEach(h -> record.headers().add(h.key(), h.value()));
                    producer.send(record);
                }
                producer.flush();
            }
            Path archive = work.resolve("sizes-" + codec);
            Map<String, String> config = connector("dev.logstore.connect.sink.LogStoreSinkConnector");
            config.put("topics", topic);
            config.put("logstore.dir", archive.toString());
            config.put("consumer.override.isolation.level", "read_committed");
            config.put("logstore.compression.type", codec);
            cluster.configureConnector("sizes-" + codec, config);
            long start = System.nanoTime();
            awaitCount(start, orders.size(), () -> {
                Path store = archive.resolve(topic);
                if (!Files.exists(store.resolve("logstore.properties"))) {
                    return 0;
                }
                try (LogStore follower = LogStore.builder(store).readOnly().open()) {
                    long total = 0;
                    for (int p = 0; p < follower.partitionCount(); p++) {
                        total += follower.nextOffset(p);
                    }
                    return total;
                }
            });
            cluster.deleteConnector("sizes-" + codec);
            long broker = brokerLogBytes(cluster, topic);
            long archived = archiveBytes(archive);
            long recordBytes = 0;
            try (LogStore store = LogStore.builder(archive.resolve(topic)).readOnly().open()) {
                for (int p = 0; p < PARTITIONS; p++) {
                    recordBytes += store.storedBytes(p).recordBytes();
                }
            }
            rows.add(String.format(Locale.ROOT, "| %s | %d | %.2f | %.2f | %.2f | %.3fx |", codec, orders.size(),
                    recordBytes / 1048576.0, broker / 1048576.0, archived / 1048576.0, (double) archived / broker));
        }
        report.section("Archive size against the broker's log of the same topic",
                "| Codec (producer and sink) | Records | Records MiB | Broker log MiB | Archive MiB | Archive / broker |",
                rows, "JSON orders (about 400 bytes each, repeated field names), produced by a KafkaProducer with "
                        + "compression.type set to the codec and its default batching (batch.size 16 KiB, linger.ms 5), "
                        + "into a topic of " + PARTITIONS + " partitions (topic compression.type=producer: the broker "
                        + "keeps the producer's batches). The broker's size is what it reports for the topic's log "
                        + "(Admin describeLogDirs: its segments); the archive's is its segment files, written by "
                        + "LogStoreSinkConnector with logstore.compression.type set to the same codec.");
    }

    /** The bytes the broker's log of {@code topic} takes, as the broker reports them. */
    private static long brokerLogBytes(EmbeddedConnectCluster cluster, String topic) throws Exception {
        try (org.apache.kafka.clients.admin.Admin admin = cluster.kafka().createAdminClient()) {
            List<Integer> brokers = admin.describeCluster().nodes().get().stream()
                    .map(org.apache.kafka.common.Node::id).toList();
            long bytes = 0;
            for (var byBroker : admin.describeLogDirs(brokers).allDescriptions().get().values()) {
                for (var dir : byBroker.values()) {
                    for (var replica : dir.replicaInfos().entrySet()) {
                        if (replica.getKey().topic().equals(topic)) {
                            bytes += replica.getValue().size();
                        }
                    }
                }
            }
            return bytes;
        }
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

    /** Starts a LogStore sink archiving the topic into {@code archive}; returns when it was asked to start. */
    private static long startSink(EmbeddedConnectCluster cluster, String name, Path archive) {
        Map<String, String> config = connector("dev.logstore.connect.sink.LogStoreSinkConnector");
        config.put("topics", TOPIC);
        config.put("logstore.dir", archive.toString());
        config.put("consumer.override.isolation.level", "read_committed");
        long start = System.nanoTime();
        cluster.configureConnector(name, config);
        return start;
    }

    private static Run logStoreSink(EmbeddedConnectCluster cluster, String name, Path archive, long records)
            throws Exception {
        long start = startSink(cluster, name, archive);
        // Progress is read through one read-only handle that follows the archive: each look reads
        // only what was appended since the last one (reopening would rescan the active segment).
        LogStore[] follower = {null};
        Run run;
        try {
            run = awaitCount(start, records, () -> {
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
            }, () -> diagnoseFollower(follower[0], archive.resolve(TOPIC)));
        } finally {
            if (follower[0] != null) {
                follower[0].close();
            }
        }
        cluster.deleteConnector(name);
        return run;
    }

    /** Where the follower stands against a fresh read-only open of the same archive. */
    private static String diagnoseFollower(LogStore follower, Path store) {
        StringBuilder text = new StringBuilder("(follower at");
        for (int p = 0; follower != null && p < follower.partitionCount(); p++) {
            text.append(' ').append(follower.nextOffset(p)).append(" of ").append(follower.partitionInfo(p));
        }
        try (LogStore fresh = LogStore.builder(store).readOnly().open()) {
            text.append("; a fresh open sees");
            for (int p = 0; p < fresh.partitionCount(); p++) {
                text.append(' ').append(fresh.nextOffset(p)).append(" of ").append(fresh.partitionInfo(p));
            }
        } catch (RuntimeException e) {
            text.append("; a fresh open fails: ").append(e);
        }
        return text.append(')').toString();
    }

    /**
     * The sink archiving the same records again, into an archive that ends up byte for byte the
     * size of the first run's ({@code archiveSize}: same records, offsets and timestamps). Progress
     * is the segment files' size, which costs the harness nothing; following the archive would
     * check every batch's CRC on the two cores the sink runs on. The count is checked at the end,
     * after {@code timed} has run.
     */
    private static Run timedLogStoreSink(EmbeddedConnectCluster cluster, String name, Path archive, long records,
                                         long archiveSize, Runnable timed) throws Exception {
        long start = startSink(cluster, name, archive);
        Run run = awaitCount(start, records, () -> {
            try {
                return Files.exists(archive) ? archiveBytes(archive) * records / archiveSize : 0;
            } catch (IOException | java.io.UncheckedIOException e) {
                return 0; // a file appeared or went while listing: look again
            }
        });
        timed.run();
        try (LogStore store = LogStore.builder(archive.resolve(TOPIC)).readOnly().open()) {
            long total = 0;
            for (int p = 0; p < store.partitionCount(); p++) {
                total += store.nextOffset(p);
            }
            if (total != records) {
                throw new IllegalStateException("the archive reached " + archiveSize + " bytes with " + total
                        + " records instead of " + records);
            }
        }
        cluster.deleteConnector(name);
        return run;
    }

    private static long archiveBytes(Path archive) throws IOException {
        try (Stream<Path> files = Files.walk(archive)) {
            return files.filter(f -> f.toString().endsWith(".log")).mapToLong(f -> f.toFile().length()).sum();
        }
    }

    /** Records per second if writing {@code bytes} for {@code records} records went as fast as the disk takes them. */
    private static Run rawDiskWrite(Path file, long bytes, long records) throws IOException {
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
        Run run = Run.immediate(records, start, System.nanoTime());
        Files.delete(file);
        return run;
    }

    private static Run fileStreamSink(EmbeddedConnectCluster cluster, String name, Path file, long records,
                                         int valueBytes) throws Exception {
        Map<String, String> config = connector("org.apache.kafka.connect.file.FileStreamSinkConnector");
        config.put("value.converter", "org.apache.kafka.connect.storage.StringConverter");
        config.put("topics", TOPIC);
        config.put("file", file.toString());
        long start = System.nanoTime();
        cluster.configureConnector(name, config);
        // Each value is written as one line.
        Run run = awaitCount(start, records, () -> Files.exists(file) ? file.toFile().length() / (valueBytes + 1) : 0);
        cluster.deleteConnector(name);
        return run;
    }

    private static Run logStoreSource(EmbeddedConnectCluster cluster, Path archive, long records) throws Exception {
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
        List<TopicPartition> replayed = new ArrayList<>();
        for (int p = 0; p < PARTITIONS; p++) {
            replayed.add(new TopicPartition(TOPIC + ".replay", p));
        }
        Run run;
        // One consumer asks for the end offsets each time: creating a client per look would load the broker.
        try (KafkaConsumer<byte[], byte[]> offsets = cluster.kafka().createConsumer(Map.of())) {
            run = awaitCount(start, records, () -> {
                try {
                    return offsets.endOffsets(replayed, Duration.ofMillis(100)).values().stream().mapToLong(Long::longValue).sum();
                } catch (RuntimeException notYet) {
                    return 0; // the topic is not there yet
                }
            });
        }
        cluster.deleteConnector("bench-source");
        return run;
    }

    /**
     * Waits until {@code count} reaches {@code target}, looking every 20 ms, and times it from
     * {@code start}; also notes when records were first seen, for the rate once they flow.
     */
    private static Run awaitCount(long start, long target, LongSupplier count) throws InterruptedException {
        return awaitCount(start, target, count, () -> "");
    }

    /** As above; gives up when the count stands still for a minute, with what {@code diagnose} says. */
    private static Run awaitCount(long start, long target, LongSupplier count, Supplier<String> diagnose)
            throws InterruptedException {
        long first = 0;
        long firstCount = 0;
        long last = -1;
        long lastChange = System.nanoTime();
        long now;
        while ((now = count.getAsLong()) < target) {
            long time = System.nanoTime();
            if (first == 0 && now > 0) {
                first = time;
                firstCount = now;
            }
            if (now != last) {
                last = now;
                lastChange = time;
            } else if (time - lastChange > STALL_NANOS) {
                throw new IllegalStateException("no progress for " + STALL_NANOS / 1_000_000_000 + " s at " + now
                        + " of " + target + " " + diagnose.get());
            }
            Thread.sleep(20);
        }
        long end = System.nanoTime();
        return first == 0 ? new Run(target, start, end, 0, end) : new Run(target, start, first, firstCount, end);
    }

    /**
     * One timed run: {@code records} in all from {@code start} to {@code end}, of which
     * {@code firstCount} were already there when records were first seen, at {@code first}.
     */
    record Run(long records, long start, long first, long firstCount, long end) {

        /** A run that starts producing at once: nothing to wait for before the first record. */
        static Run immediate(long records, long start, long end) {
            return new Run(records, start, start, 0, end);
        }

        /** Records per second from the start, startup included. */
        double rate() {
            return records / ((end - start) / 1e9);
        }

        /** Records per second from when the first ones were seen: the rate once records flow. */
        double flowingRate() {
            return end == first ? rate() : (records - firstCount) / ((end - first) / 1e9);
        }

        /** Seconds from the start until records were first seen. */
        double startupSeconds() {
            return (first - start) / 1e9;
        }
    }
}
