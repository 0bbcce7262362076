package dev.logstore;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.logstore.record.BatchFormat;
import dev.logstore.record.BatchHeader;
import dev.logstore.record.Codec;
import dev.logstore.record.Header;
import dev.logstore.record.LogRecord;
import dev.logstore.record.Record;
import dev.logstore.record.RecordDecoder;
import dev.logstore.verify.StoreVerifier;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Compressed and encrypted batches: every codec reads back exactly through every read path, a
 * store's codec and key change over its life, and an encrypted store keeps its records from
 * anyone without the key while its headers stay readable.
 */
class PackedBatchesTest {

    private static final byte[] KEY_1 = key(1);
    private static final byte[] KEY_2 = key(2);

    @TempDir
    Path dir;

    private static byte[] key(int seed) {
        byte[] key = new byte[32];
        new Random(seed).nextBytes(key);
        return key;
    }

    /** JSON-like orders with repeated field names, tombstones, null keys and headers: compressible. */
    static List<Record> orders(int from, int count) {
        List<Record> records = new ArrayList<>();
        for (int i = from; i < from + count; i++) {
            byte[] key = i % 7 == 0 ? null : ("customer-" + i % 100).getBytes(StandardCharsets.UTF_8);
            byte[] value = i % 13 == 12 ? null : ("{\"orderId\":" + i + ",\"customer\":\"customer-" + i % 100
                    + "\",\"status\":\"SHIPPED\",\"items\":[{\"sku\":\"SKU-" + i % 37 + "\",\"quantity\":" + i % 5
                    + "}],\"currency\":\"EUR\"}").getBytes(StandardCharsets.UTF_8);
            List<Header> headers = i % 3 == 0 ? List.of(new Header("trace", ("t" + i).getBytes(StandardCharsets.UTF_8)),
                    new Header("none", null)) : List.of();
            records.add(new Record(key, value, headers, 1_700_000_000_000L + i));
        }
        return records;
    }

    private static void assertRecords(List<Record> expected, long firstOffset, List<LogRecord> actual) {
        assertEquals(expected.size(), actual.size(), "record count");
        for (int i = 0; i < expected.size(); i++) {
            Record e = expected.get(i);
            LogRecord a = actual.get(i);
            assertEquals(firstOffset + i, a.offset());
            assertEquals(e.timestamp(), a.timestamp());
            assertArrayEquals(e.key(), a.key(), "key of record " + i);
            assertArrayEquals(e.value(), a.value(), "value of record " + i);
            assertEquals(e.headers(), a.headers(), "headers of record " + i);
        }
    }

    private static long logBytes(Path store) throws IOException {
        try (Stream<Path> files = Files.walk(store)) {
            return files.filter(f -> f.toString().endsWith(".log")).mapToLong(f -> f.toFile().length()).sum();
        }
    }

    /** Every batch header of a store's partition 0, in file order. */
    private static List<BatchHeader> headers(Path store) throws IOException {
        List<BatchHeader> headers = new ArrayList<>();
        List<Path> logs;
        try (Stream<Path> files = Files.list(store.resolve("partition-0"))) {
            logs = files.filter(f -> f.toString().endsWith(".log")).sorted().toList();
        }
        for (Path log : logs) {
            ByteBuffer bytes = ByteBuffer.wrap(Files.readAllBytes(log));
            int position = 0;
            while (position < bytes.limit()) {
                BatchHeader header = BatchHeader.read(bytes, position);
                headers.add(header);
                position += header.sizeInBytes();
            }
        }
        return headers;
    }

    @ParameterizedTest
    @EnumSource(Codec.class)
    void everyCodecReadsBackExactlyThroughEveryReadPath(Codec codec) throws IOException {
        Path store = dir.resolve(codec.configName());
        List<Record> all = new ArrayList<>();
        try (LogStore s = LogStore.builder(store).partitions(1).segmentBytes(64 * 1024).compression(codec).open()) {
            for (int b = 0; b < 40; b++) {
                List<Record> batch = orders(b * 50, 50);
                s.append(0, batch);
                all.addAll(batch);
            }
            assertRecords(all, 0, TestRecords.readAll(s, 0));
            // A few records at a time: a poll stops inside a packed batch and the next goes on from there.
            List<LogRecord> small = new ArrayList<>();
            try (LogReader reader = s.reader(0)) {
                List<LogRecord> got;
                while (!(got = reader.poll(7, 1 << 20)).isEmpty()) {
                    small.addAll(got);
                }
            }
            assertRecords(all, 0, small);
            // Raw batches read into a buffer decode too; a seek lands inside a packed batch.
            ByteBuffer buffer = ByteBuffer.allocate(1 << 20);
            s.read(0, 125, buffer);
            buffer.flip();
            List<LogRecord> decoded = RecordDecoder.decode(buffer);
            assertEquals(100, decoded.get(0).offset(), "the batch holding offset 125 starts at 100");
            try (LogReader reader = s.reader(0).seek(1234)) {
                assertEquals(1234, reader.poll(1, 1 << 20).get(0).offset());
            }
            try (LogReader reader = s.reader(0).seekToTimestamp(1_700_000_000_000L + 1500)) {
                assertEquals(1500, reader.poll(1, 1 << 20).get(0).offset());
            }
        }
        try (LogStore reopened = LogStore.builder(store).readOnly().open()) {
            assertRecords(all, 0, TestRecords.readAll(reopened, 0));
        }
        for (BatchHeader header : headers(store)) {
            assertEquals(BatchFormat.MAGIC, header.magic());
            assertEquals(codec, header.codec(), "every batch names the codec it was written with");
        }
        if (codec != Codec.NONE) {
            Path plain = dir.resolve("plain");
            try (LogStore s = LogStore.builder(plain).partitions(1).open()) {
                s.append(0, all);
            }
            assertTrue(logBytes(store) * 2 < logBytes(plain), codec + " stored " + logBytes(store)
                    + " bytes of JSON that take " + logBytes(plain) + " plain");
        }
        assertTrue(new StoreVerifier(n -> { }).verify(store).isEmpty(), "verify found damage in a sound store");
    }

    @Test
    void incompressibleRecordsAreStoredAsTheyAre() throws IOException {
        Random random = new Random(7);
        List<Record> noise = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            byte[] value = new byte[4096];
            random.nextBytes(value);
            noise.add(Record.of(null, value, i));
        }
        Path store = dir.resolve("noise");
        try (LogStore s = LogStore.builder(store).partitions(1).compression(Codec.ZSTD, 19).open()) {
            s.append(0, noise);
            assertRecords(noise, 0, TestRecords.readAll(s, 0));
        }
        List<BatchHeader> headers = headers(store);
        assertEquals(1, headers.size());
        assertTrue(headers.get(0).plain(), "a batch zstd could not shrink was stored compressed");
    }

    @Test
    void theCodecAndTheKeyChangeOverAStoresLifeAndEveryMixReads() throws IOException {
        Path store = dir.resolve("mixed");
        KeyProvider both = Keys.of(java.util.Map.of("k1", new javax.crypto.spec.SecretKeySpec(KEY_1, "AES"),
                "k2", new javax.crypto.spec.SecretKeySpec(KEY_2, "AES")));
        List<Record> all = new ArrayList<>();
        LogStore.Builder[] lives = {
            LogStore.builder(store).partitions(1),
            LogStore.builder(store).compression(Codec.LZ4),
            LogStore.builder(store).compression(Codec.ZSTD).encryption(both, "k1"),
            LogStore.builder(store).compression(Codec.NONE).encryption(both, "k2"),
            LogStore.builder(store).compression(Codec.ZSTD, 9).keys(both),
        };
        for (LogStore.Builder life : lives) {
            try (LogStore s = life.open()) {
                List<Record> batch = orders(all.size(), 30);
                s.append(0, batch);
                all.addAll(batch);
                assertRecords(all, 0, TestRecords.readAll(s, 0));
            }
        }
        List<BatchHeader> headers = headers(store);
        assertEquals(List.of(Codec.NONE, Codec.LZ4, Codec.ZSTD, Codec.NONE, Codec.ZSTD),
                headers.stream().map(BatchHeader::codec).toList());
        assertEquals(List.of(false, false, true, true, false), headers.stream().map(BatchHeader::encrypted).toList());
        try (LogStore reader = LogStore.builder(store).readOnly().keys(both).open()) {
            assertRecords(all, 0, TestRecords.readAll(reader, 0));
        }
        // Without the rotated-out key, the batches it encrypted say which key they need.
        try (LogStore reader = LogStore.builder(store).readOnly().keys(Keys.of("k2", KEY_2)).open();
             LogReader r = reader.reader(0)) {
            assertEquals(60, r.poll(60, 1 << 20).size(), "the batches before the encrypted ones");
            EncryptionKeyException e = assertThrows(EncryptionKeyException.class, () -> r.poll(100, 1 << 20));
            assertEquals("k1", e.keyId());
            assertTrue(e.getMessage().contains("'k1'") && e.getMessage().contains("not given"), e.getMessage());
        }
    }

    @Test
    void anEncryptedStoreIsUnreadableWithoutItsKeyButItsHeadersServeSeeksStatsAndVerify() throws IOException {
        Path store = dir.resolve("secret");
        List<Record> records = orders(0, 200);
        try (LogStore s = LogStore.builder(store).partitions(1).segmentBytes(1024).compression(Codec.ZSTD)
                .encryption(Keys.of("k1", KEY_1), "k1").open()) {
            for (int i = 0; i < records.size(); i += 20) {
                s.append(0, records.subList(i, i + 20));
            }
        }
        byte[] secret = "SHIPPED".getBytes(StandardCharsets.UTF_8);
        try (Stream<Path> files = Files.walk(store)) {
            for (Path file : files.filter(Files::isRegularFile).toList()) {
                assertFalse(contains(Files.readAllBytes(file), secret), file + " holds a record's bytes in the clear");
            }
        }
        try (LogStore reader = LogStore.builder(store).readOnly().open()) {
            PartitionInfo info = reader.partitionInfo(0);
            assertEquals(200, info.nextOffset());
            assertTrue(info.segments() > 1);
            try (LogReader r = reader.reader(0)) {
                EncryptionKeyException e = assertThrows(EncryptionKeyException.class, () -> r.poll(10, 1 << 20));
                assertEquals("k1", e.keyId());
            }
        }
        assertTrue(new StoreVerifier(n -> { }).verify(store).isEmpty(), "verify needs no key");
        // The right id with the wrong key is an error naming the key, never garbage.
        try (LogStore reader = LogStore.builder(store).readOnly().keys(Keys.of("k1", KEY_2)).open();
             LogReader r = reader.reader(0)) {
            EncryptionKeyException e = assertThrows(EncryptionKeyException.class, () -> r.poll(10, 1 << 20));
            assertTrue(e.getMessage().contains("does not decrypt"), e.getMessage());
        }
        try (LogStore reader = LogStore.builder(store).readOnly().keys(Keys.of("k1", KEY_1)).open()) {
            assertRecords(records, 0, TestRecords.readAll(reader, 0));
            try (LogReader r = reader.reader(0).seekToTimestamp(1_700_000_000_000L + 150)) {
                assertEquals(150, r.poll(1, 1 << 20).get(0).offset());
            }
        }
    }

    @Test
    void aCiphertextAlteredAndItsChecksumRecomputedFailsAuthentication() throws IOException {
        Path store = dir.resolve("altered");
        try (LogStore s = LogStore.builder(store).partitions(1).encryption(Keys.of("k1", KEY_1), "k1").open()) {
            s.append(0, orders(0, 10));
        }
        Path log = store.resolve("partition-0").resolve("00000000000000000000.log");
        ByteBuffer bytes = ByteBuffer.wrap(Files.readAllBytes(log));
        BatchHeader header = BatchHeader.read(bytes, 0);
        int last = header.sizeInBytes() - 20; // inside the ciphertext
        bytes.put(last, (byte) (bytes.get(last) ^ 1));
        bytes.putInt(BatchFormat.CRC_OFFSET, BatchHeader.computeCrc(bytes, 0, header.sizeInBytes()));
        try (FileChannel channel = FileChannel.open(log, StandardOpenOption.WRITE)) {
            channel.write(bytes.position(0), 0);
        }
        try (LogStore reader = LogStore.builder(store).readOnly().keys(Keys.of("k1", KEY_1)).open();
             LogReader r = reader.reader(0)) {
            assertThrows(EncryptionKeyException.class, () -> r.poll(10, 1 << 20));
        }
    }

    @Test
    void badSettingsAreRefusedWithWhatToDo() {
        IllegalArgumentException level = assertThrows(IllegalArgumentException.class,
                () -> LogStore.builder(dir).compression(Codec.ZSTD, 23));
        assertTrue(level.getMessage().contains("1 to 22"), level.getMessage());
        assertThrows(IllegalArgumentException.class, () -> LogStore.builder(dir).compression(Codec.LZ4, 5));
        LogStoreException missing = assertThrows(LogStoreException.class,
                () -> LogStore.builder(dir).encryption(Keys.of("k1", KEY_1), "k9"));
        assertTrue(missing.getMessage().contains("'k9'"), missing.getMessage());
        LogStoreException shortKey = assertThrows(LogStoreException.class, () -> Keys.of("k1", new byte[16]));
        assertTrue(shortKey.getMessage().contains("AES-256"), shortKey.getMessage());
        IllegalArgumentException codec = assertThrows(IllegalArgumentException.class, () -> Codec.parse("snappy"));
        assertTrue(codec.getMessage().contains("none, lz4 or zstd"), codec.getMessage());
    }

    private static boolean contains(byte[] haystack, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= haystack.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (haystack[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return true;
        }
        return false;
    }
}
