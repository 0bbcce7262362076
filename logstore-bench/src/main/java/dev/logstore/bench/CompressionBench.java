package dev.logstore.bench;

import dev.logstore.Durability;
import dev.logstore.KeyProvider;
import dev.logstore.Keys;
import dev.logstore.LogReader;
import dev.logstore.LogStore;
import dev.logstore.record.Codec;
import dev.logstore.record.Record;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.stream.Stream;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.record.TimestampType;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.MemoryRecordsBuilder;
import org.apache.kafka.common.record.internal.RecordBatch;
import org.apache.kafka.common.utils.BufferSupplier;
import org.apache.kafka.common.utils.CloseableIterator;

/**
 * Compression and encryption at rest, against Kafka on the same records in the same run:
 * <ul>
 *   <li>size: an archive written as the sink writes (one batch per partition per {@code put()}, up
 *       to 500 records) against the broker's log of the same records produced with the same
 *       codec. A broker stores the producer's batches as they are (topic
 *       {@code compression.type=producer}, the default), so its log is the producer's batches
 *       end to end: they are built here as the producer builds them ({@code batch.size} 16 KiB,
 *       the producer's compression ratio estimate, Kafka's default levels);</li>
 *   <li>appends: MiB/s of records (uncompressed) appended to a store in the page cache, against
 *       Kafka's {@code MemoryRecordsBuilder} compressing the same records into memory;</li>
 *   <li>reads: MiB/s of records read and decoded back from the store, against Kafka decompressing
 *       and iterating its batches held in memory;</li>
 *   <li>encryption: the same appends and reads with AES-256-GCM, as a ratio to without.</li>
 * </ul>
 */
final class CompressionBench {

    /** Records per stored batch: the sink's batches come from a consumer's poll of up to 500. */
    private static final int BATCH_RECORDS = 500;
    /** The producer's default {@code batch.size}. */
    private static final int PRODUCER_BATCH_SIZE = 16_384;

    private final Path dir;
    private final long totalBytes;
    private final int rounds;
    private final Report report;

    CompressionBench(Path dir, long totalBytes, int rounds, Report report) {
        this.dir = dir;
        this.totalBytes = totalBytes;
        this.rounds = rounds;
        this.report = report;
    }

    void run() throws Exception {
        List<String> sizes = new ArrayList<>();
        List<String> speeds = new ArrayList<>();
        List<String> encryption = new ArrayList<>();
        for (String data : List.of("JSON orders", "random bytes")) {
            List<Record> records = data.startsWith("JSON") ? orders(totalBytes) : noise(totalBytes);
            long recordBytes = records.stream().mapToLong(CompressionBench::payload).sum();
            for (Codec codec : List.of(Codec.ZSTD, Codec.LZ4)) {
                Compression kafka = codec == Codec.ZSTD ? Compression.zstd().build() : Compression.lz4().build();
                List<MemoryRecords> brokerLog = produce(records, kafka);
                long brokerBytes = brokerLog.stream().mapToLong(MemoryRecords::sizeInBytes).sum();
                Path store = dir.resolve("compression");
                // Rounds alternate between Kafka and LogStore, so that neither gets the quieter moments.
                double[] appends = bestOfPair(() -> produce(records, kafka), () -> write(store, records, codec, null),
                        recordBytes);
                double kafkaAppend = appends[0];
                double append = appends[1];
                long archiveBytes = logBytes(store);
                double[] reads = bestOfPair(() -> consume(brokerLog), () -> read(store, null), recordBytes);
                double kafkaRead = reads[0];
                double read = reads[1];
                sizes.add(String.format(Locale.ROOT, "| %s | %s | %.2f | %.2f | %.2f | %s |", data, codec.configName(),
                        recordBytes / 1048576.0, brokerBytes / 1048576.0, archiveBytes / 1048576.0,
                        String.format(Locale.ROOT, "%.3fx", (double) archiveBytes / brokerBytes)));
                speeds.add("| " + data + " | " + codec.configName() + " | " + Report.mb(kafkaAppend) + " | "
                        + Report.mb(append) + " | " + Report.ratio(append, kafkaAppend) + " | "
                        + Report.mb(kafkaRead) + " | " + Report.mb(read) + " | " + Report.ratio(read, kafkaRead) + " |");
                KeyProvider keys = Keys.of("bench", new byte[32]);
                Path encrypted = dir.resolve("encrypted");
                double[] encryptedAppends = bestOfPair(() -> write(store, records, codec, null),
                        () -> write(encrypted, records, codec, keys), recordBytes);
                double plainAppend = encryptedAppends[0];
                double encryptedAppend = encryptedAppends[1];
                double[] encryptedReads = bestOfPair(() -> read(store, null), () -> read(encrypted, keys), recordBytes);
                double plainRead = encryptedReads[0];
                double encryptedRead = encryptedReads[1];
                encryption.add("| " + data + " | " + codec.configName() + " | " + Report.mb(plainAppend) + " | "
                        + Report.mb(encryptedAppend) + " | " + Report.ratio(encryptedAppend, plainAppend) + " | "
                        + Report.mb(plainRead) + " | " + Report.mb(encryptedRead) + " | "
                        + Report.ratio(encryptedRead, plainRead) + " |");
                Dirs.deleteTree(store);
                Dirs.deleteTree(encrypted);
            }
        }
        report.section("Archive size against the broker's log of the same records",
                "| Records | Codec | Records MiB | Broker log MiB | Archive MiB | Archive / broker |", sizes,
                "The broker's log is the producer's batches as the broker stores them (batch.size 16 KiB, linger "
                        + "until full, Kafka's default levels: zstd 3, lz4's fast compressor); the archive holds "
                        + BATCH_RECORDS + " records per batch, as the sink stores a poll. At most 1.00x: the archive "
                        + "is no larger than the topic.");
        report.section("Compressed appends and reads against Kafka's codecs",
                "| Records | Codec | Kafka builds MiB/s | LogStore appends MiB/s | Ratio | Kafka decodes MiB/s "
                        + "| LogStore reads MiB/s | Ratio |", speeds,
                "MiB/s of records (keys, values, headers) before compression, best of " + rounds + " rounds taken in "
                        + "turn with Kafka's. Kafka: "
                        + "MemoryRecordsBuilder compressing producer batches into memory, then iterating them "
                        + "(decompressing, every key and value read). LogStore: appends of " + BATCH_RECORDS
                        + "-record batches to a store on disk (page cache, no fsync), then a LogReader reading "
                        + "every record back through the files.");
        report.section("Encryption overhead (AES-256-GCM)",
                "| Records | Codec | Appends MiB/s | Encrypted | Ratio | Reads MiB/s | Encrypted | Ratio |",
                encryption, "Same store, records and codec, with and without encryption, best of " + rounds
                        + " rounds each.");
    }

    private interface Run {
        void run() throws Exception;
    }

    /** The best MiB/s of each of two runs over {@code rounds} rounds, alternating between them. */
    private double[] bestOfPair(Run first, Run second, long bytes) throws Exception {
        double[] best = new double[2];
        for (int round = 0; round < rounds; round++) {
            Run[] runs = {first, second};
            for (int i = 0; i < 2; i++) {
                long start = System.nanoTime();
                runs[i].run();
                best[i] = Math.max(best[i], bytes / ((System.nanoTime() - start) / 1e9));
            }
        }
        return best;
    }

    private static long payload(Record record) {
        long bytes = (record.key() == null ? 0 : record.key().length) + (record.value() == null ? 0 : record.value().length);
        for (dev.logstore.record.Header header : record.headers()) {
            bytes += header.key().length() + (header.value() == null ? 0 : header.value().length);
        }
        return bytes;
    }

    /** JSON-like orders: repeated field names, a few enumerations, varying numbers and ids; about 400 bytes each. */
    static List<Record> orders(long totalBytes) {
        Random random = new Random(42);
        String[] statuses = {"CREATED", "PAID", "PACKED", "SHIPPED", "DELIVERED", "RETURNED"};
        String[] cities = {"Berlin", "Paris", "Madrid", "Rome", "Vienna", "Warsaw", "Lisbon", "Dublin"};
        List<Record> records = new ArrayList<>();
        long bytes = 0;
        for (int i = 0; bytes < totalBytes; i++) {
            StringBuilder items = new StringBuilder();
            int count = 1 + random.nextInt(4);
            for (int n = 0; n < count; n++) {
                items.append(n == 0 ? "" : ",").append("{\"sku\":\"SKU-").append(10_000 + random.nextInt(90_000))
                        .append("\",\"quantity\":").append(1 + random.nextInt(5)).append(",\"unitPrice\":")
                        .append(random.nextInt(20_000) / 100.0).append('}');
            }
            String value = "{\"orderId\":\"" + new java.util.UUID(random.nextLong(), random.nextLong())
                    + "\",\"customerId\":" + random.nextInt(1_000_000) + ",\"status\":\""
                    + statuses[random.nextInt(statuses.length)] + "\",\"createdAt\":" + (1_700_000_000_000L + i * 37L)
                    + ",\"shipping\":{\"city\":\"" + cities[random.nextInt(cities.length)] + "\",\"postcode\":\""
                    + (10_000 + random.nextInt(90_000)) + "\",\"express\":" + random.nextBoolean() + "},\"items\":["
                    + items + "],\"currency\":\"EUR\",\"channel\":\"web\"}";
            byte[] key = ("customer-" + random.nextInt(1_000_000)).getBytes(StandardCharsets.UTF_8);
            Record record = new Record(key, value.getBytes(StandardCharsets.UTF_8),
                    List.of(new dev.logstore.record.Header("source", "checkout".getBytes(StandardCharsets.UTF_8))),
                    1_700_000_000_000L + i * 37L);
            records.add(record);
            bytes += payload(record);
        }
        return records;
    }

    /** Random 1 KiB values: nothing to compress, the worst case. */
    static List<Record> noise(long totalBytes) {
        Random random = new Random(7);
        List<Record> records = new ArrayList<>();
        for (long bytes = 0; bytes < totalBytes; bytes += 1024 + 8) {
            byte[] value = new byte[1024];
            random.nextBytes(value);
            records.add(Record.of(String.format("key-%04d", records.size() % 10_000).getBytes(StandardCharsets.UTF_8),
                    value, 1_700_000_000_000L + records.size()));
        }
        return records;
    }

    private static org.apache.kafka.common.header.Header[] kafkaHeaders(Record record) {
        org.apache.kafka.common.header.Header[] headers = new org.apache.kafka.common.header.Header[record.headers().size()];
        for (int i = 0; i < headers.length; i++) {
            dev.logstore.record.Header h = record.headers().get(i);
            headers[i] = new org.apache.kafka.common.header.internals.RecordHeader(h.key(), h.value());
        }
        return headers;
    }

    /**
     * The records as the producer batches them: a builder of {@code batch.size} whose fullness
     * follows the producer's estimate of the compression ratio, learnt batch by batch as its
     * {@code CompressionRatioEstimator} does.
     */
    private static List<MemoryRecords> produce(List<Record> records, Compression compression) {
        List<MemoryRecords> batches = new ArrayList<>();
        float estimate = 1.0f;
        MemoryRecordsBuilder builder = null;
        for (Record record : records) {
            org.apache.kafka.common.header.Header[] headers = kafkaHeaders(record);
            if (builder != null && !builder.hasRoomFor(record.timestamp(), record.key(), record.value(), headers)) {
                estimate = closeBatch(builder, batches, estimate);
                builder = null;
            }
            if (builder == null) {
                builder = MemoryRecords.builder(ByteBuffer.allocate(PRODUCER_BATCH_SIZE), compression,
                        TimestampType.CREATE_TIME, 0L);
                builder.setEstimatedCompressionRatio(estimate);
            }
            builder.append(record.timestamp(), record.key(), record.value(), headers);
        }
        if (builder != null) {
            closeBatch(builder, batches, estimate);
        }
        return batches;
    }

    private static float closeBatch(MemoryRecordsBuilder builder, List<MemoryRecords> batches, float estimate) {
        MemoryRecords built = builder.build();
        batches.add(built);
        float observed = (float) builder.compressionRatio();
        // The producer's CompressionRatioEstimator: up fast when worse, down slowly when better.
        return observed > estimate ? Math.max(estimate + 0.05f, observed) : Math.max(estimate - 0.005f, observed);
    }

    private static long consume(List<MemoryRecords> batches) {
        long bytes = 0;
        for (MemoryRecords records : batches) {
            for (RecordBatch batch : records.batches()) {
                batch.ensureValid();
                try (CloseableIterator<org.apache.kafka.common.record.internal.Record> it =
                             batch.streamingIterator(BufferSupplier.NO_CACHING)) {
                    while (it.hasNext()) {
                        org.apache.kafka.common.record.internal.Record record = it.next();
                        bytes += sum(record.key()) + sum(record.value());
                    }
                }
            }
        }
        return bytes;
    }

    private static long sum(ByteBuffer bytes) {
        long sum = 0;
        if (bytes != null) {
            for (int i = bytes.position(); i < bytes.limit(); i++) {
                sum += bytes.get(i);
            }
        }
        return sum;
    }

    private static void write(Path store, List<Record> records, Codec codec, KeyProvider keys)
            throws java.io.IOException {
        Dirs.deleteTree(store);
        LogStore.Builder builder = LogStore.builder(store).partitions(1).durability(Durability.onFlush())
                .compression(codec);
        if (keys != null) {
            builder.encryption(keys, "bench");
        }
        try (LogStore s = builder.open()) {
            for (int i = 0; i < records.size(); i += BATCH_RECORDS) {
                s.append(0, records.subList(i, Math.min(records.size(), i + BATCH_RECORDS)));
            }
        }
    }

    private static long read(Path store, KeyProvider keys) {
        LogStore.Builder builder = LogStore.builder(store).readOnly();
        long[] bytes = {0};
        try (LogStore s = (keys == null ? builder : builder.keys(keys)).open(); LogReader reader = s.reader(0)) {
            while (reader.poll(view -> bytes[0] += sum(view.key()) + sum(view.value()), 10_000, 1 << 20) > 0) {
                // every record's key and value are read, as on Kafka's side
            }
        }
        return bytes[0];
    }

    private static long logBytes(Path store) throws java.io.IOException {
        try (Stream<Path> files = Files.walk(store)) {
            return files.filter(f -> f.toString().endsWith(".log")).mapToLong(f -> f.toFile().length()).sum();
        }
    }
}
