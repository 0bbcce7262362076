package dev.logstore;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.logstore.record.Header;
import dev.logstore.record.LogRecord;
import dev.logstore.record.Record;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/** Record generators and comparisons shared by the engine tests. */
public final class TestRecords {

    private TestRecords() {
    }

    public static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    public static String string(byte[] b) {
        return b == null ? null : new String(b, StandardCharsets.UTF_8);
    }

    /** A record whose value names its sequence number, with a header and the given timestamp. */
    public static Record numbered(long n, long timestamp) {
        return new Record(bytes("key-" + (n % 7)), bytes("value-" + n),
                List.of(new Header("n", bytes(Long.toString(n)))), timestamp);
    }

    /** A record of key "k" and a value of about 40 bytes that names {@code offset}. */
    public static Record named(long offset) {
        return new Record(bytes("k"), bytes("value-" + offset + "-".repeat(30)), List.of(), 1);
    }

    /** Random records: null and empty keys and values, repeated header keys, null header values. */
    public static List<Record> random(Random random, int count, int maxValueBytes) {
        List<Record> records = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            records.add(random(random, maxValueBytes));
        }
        return records;
    }

    public static Record random(Random random, int maxValueBytes) {
        byte[] key = random.nextInt(5) == 0 ? null : randomBytes(random, random.nextInt(32));
        byte[] value = random.nextInt(7) == 0 ? null : randomBytes(random, random.nextInt(maxValueBytes + 1));
        List<Header> headers = new ArrayList<>();
        int headerCount = random.nextInt(4);
        for (int h = 0; h < headerCount; h++) {
            String headerKey = random.nextBoolean() ? "h" : "h" + random.nextInt(3) + "\u00e9";
            headers.add(new Header(headerKey, random.nextInt(4) == 0 ? null : randomBytes(random, random.nextInt(16))));
        }
        return new Record(key, value, headers, random.nextInt(10) == 0 ? Record.NO_TIMESTAMP
                : 1_700_000_000_000L + random.nextInt(1_000_000));
    }

    public static byte[] randomBytes(Random random, int length) {
        byte[] bytes = new byte[length];
        random.nextBytes(bytes);
        return bytes;
    }

    /** Asserts that {@code actual} holds exactly {@code expected}, at {@code offsets}. */
    public static void assertRecords(List<Record> expected, long[] offsets, List<LogRecord> actual) {
        assertEquals(expected.size(), actual.size(), "record count");
        for (int i = 0; i < expected.size(); i++) {
            assertEquals(offsets[i], actual.get(i).offset(), "offset of record " + i);
            assertEquals(expected.get(i), actual.get(i).record(), "record at offset " + offsets[i]);
        }
    }

    public static long[] consecutive(long first, int count) {
        long[] offsets = new long[count];
        for (int i = 0; i < count; i++) {
            offsets[i] = first + i;
        }
        return offsets;
    }

    /** Asserts that {@code actual} holds exactly {@code expected}: offsets, timestamps, keys, values, headers. */
    public static void assertSameRecords(List<LogRecord> expected, List<LogRecord> actual) {
        assertEquals(expected.size(), actual.size(), "record count");
        for (int i = 0; i < expected.size(); i++) {
            LogRecord e = expected.get(i);
            LogRecord a = actual.get(i);
            assertEquals(e.offset(), a.offset(), "offset of record " + i);
            assertEquals(e.timestamp(), a.timestamp(), "timestamp of record " + i);
            org.junit.jupiter.api.Assertions.assertArrayEquals(e.key(), a.key(), "key of record " + i);
            org.junit.jupiter.api.Assertions.assertArrayEquals(e.value(), a.value(), "value of record " + i);
            assertEquals(e.headers(), a.headers(), "headers of record " + i);
        }
    }

    /** Reads a whole partition with a fresh reader. */
    public static List<LogRecord> readAll(LogStore store, int partition) {
        List<LogRecord> all = new ArrayList<>();
        try (LogReader reader = store.reader(partition)) {
            List<LogRecord> batch;
            while (!(batch = reader.poll(1000, 1 << 20)).isEmpty()) {
                all.addAll(batch);
            }
        }
        return all;
    }

    /**
     * Every offset below {@code records} of a partition written with {@code numbered(n, 1000 + n)}
     * at offset n reads and seeks exactly: by offset, and by timestamp (at and just below each
     * record's, and past the last); a whole read returns them all.
     */
    public static void assertNumberedLookupsExact(LogStore store, int partition, int records) {
        try (LogReader reader = store.reader(partition)) {
            for (long offset = records - 1; offset >= 0; offset--) {
                List<LogRecord> at = reader.seek(offset).poll(1, 1 << 16);
                assertEquals(offset, at.get(0).offset());
                assertEquals(numbered(offset, 1_000 + offset), at.get(0).record());
                assertEquals(offset, reader.seekToTimestamp(1_000 + offset).position());
                assertEquals(offset, reader.seekToTimestamp(1_000 + offset - 1).position() + (offset == 0 ? 0 : 1));
            }
            assertEquals(records, reader.seekToTimestamp(1_000 + records).position());
        }
        assertEquals(records, readAll(store, partition).size());
    }

    /** Opens a store of one partition with {@code builder} and appends {@code numbered(n, 1000 + n)} at offsets 0 to {@code records - 1}, one batch each. */
    public static void appendNumbered(LogStore.Builder builder, int records) {
        try (LogStore store = builder.partitions(1).open()) {
            for (int n = 0; n < records; n++) {
                store.append(0, List.of(numbered(n, 1_000 + n)));
            }
        }
    }
}
