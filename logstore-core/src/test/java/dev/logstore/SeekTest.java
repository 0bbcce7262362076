package dev.logstore;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.logstore.record.LogRecord;
import dev.logstore.record.Record;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Seeks by offset and by timestamp across a partition of many small segments. */
class SeekTest {

    private static final int RECORDS = 3000;

    @TempDir
    Path dir;

    private final List<Long> timestamps = new ArrayList<>();

    @BeforeEach
    void fill() {
        Random random = new Random(3);
        try (LogStore store = store()) {
            long ts = 1_000_000;
            int n = 0;
            while (n < RECORDS) {
                int batch = 1 + random.nextInt(10);
                List<Record> records = new ArrayList<>();
                for (int i = 0; i < batch && n < RECORDS; i++, n++) {
                    // Mostly rising timestamps with some going backwards, as in real topics.
                    ts += random.nextInt(10) == 0 ? -random.nextInt(50) : random.nextInt(20);
                    timestamps.add(ts);
                    records.add(TestRecords.numbered(n, ts));
                }
                store.append(0, records);
            }
        }
    }

    private LogStore store() {
        return LogStore.builder(dir).partitions(1).segmentBytes(4096).indexIntervalBytes(512).open();
    }

    @Test
    void seekByOffsetLandsOnThatRecordInEverySegment() {
        try (LogStore store = store(); LogReader reader = store.reader(0)) {
            assertTrue(store.partitionInfo(0).segments() > 20, "needs many segments");
            for (long offset = 0; offset < RECORDS; offset += 37) {
                List<LogRecord> records = reader.seek(offset).poll(3, 1 << 16);
                assertEquals(offset, records.get(0).offset());
                assertEquals("value-" + offset, TestRecords.string(records.get(0).value()));
            }
            assertTrue(reader.seek(RECORDS).poll(10, 1000).isEmpty());
        }
    }

    @Test
    void seekByTimestampFindsTheFirstRecordAtOrAfterIt() {
        try (LogStore store = store(); LogReader reader = store.reader(0)) {
            long min = timestamps.stream().mapToLong(Long::longValue).min().orElseThrow();
            long max = timestamps.stream().mapToLong(Long::longValue).max().orElseThrow();
            for (long target = min - 5; target <= max + 5; target += 97) {
                long expected = expectedOffsetFor(target);
                reader.seekToTimestamp(target);
                assertEquals(expected, reader.position(), "seek to timestamp " + target);
                if (expected < RECORDS) {
                    LogRecord first = reader.poll(1, 1 << 16).get(0);
                    assertTrue(first.timestamp() >= target);
                }
            }
        }
    }

    private long expectedOffsetFor(long target) {
        for (int i = 0; i < timestamps.size(); i++) {
            if (timestamps.get(i) >= target) {
                return i;
            }
        }
        return RECORDS;
    }

    @Test
    void theTimeIndexHoldsAboutOneEntryPerIndexInterval() throws Exception {
        store().close(); // sealed segments all have their index files
        long entries = 0;
        long allowed = 0;
        try (java.util.stream.Stream<Path> files = java.nio.file.Files.list(dir.resolve("partition-0"))) {
            for (Path file : (Iterable<Path>) files::iterator) {
                String name = file.getFileName().toString();
                if (name.endsWith(".timeindex")) {
                    entries += (java.nio.file.Files.size(file) - 12) / 12; // 12-byte entries, 12-byte trailer
                    Path log = file.resolveSibling(name.replace(".timeindex", ".log"));
                    allowed += java.nio.file.Files.size(log) / 512 + 2;
                }
            }
        }
        assertTrue(entries > 0 && entries <= allowed, entries + " time index entries; at most " + allowed
                + " for one per 512-byte interval");
    }

    @Test
    void pollRespectsRecordLimitsInsideABatch() {
        try (LogStore store = store(); LogReader reader = store.reader(0)) {
            List<LogRecord> all = new ArrayList<>();
            List<LogRecord> some;
            while (!(some = reader.poll(3, 1 << 20)).isEmpty()) {
                assertTrue(some.size() <= 3);
                all.addAll(some);
            }
            assertEquals(RECORDS, all.size());
            for (int i = 0; i < RECORDS; i++) {
                assertEquals(i, all.get(i).offset());
            }
        }
    }
}
