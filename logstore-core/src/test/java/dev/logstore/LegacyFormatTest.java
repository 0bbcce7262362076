package dev.logstore;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.logstore.log.Crashes;
import dev.logstore.record.Header;
import dev.logstore.record.LogRecord;
import dev.logstore.verify.StoreVerifier;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.commons.io.file.PathUtils;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Stores written by LogStore 0.1 (format version 1, see the fixture's README) stay readable,
 * read-only and for writing, and a writable open upgrades them without changing a record.
 */
class LegacyFormatTest {

    private static final Path FIXTURE = Path.of("src/test/resources/fixtures/v1-store");

    @TempDir
    Path work;

    private Path store;

    @BeforeEach
    void copyFixture() throws IOException {
        store = work.resolve("v1-store");
        PathUtils.copyDirectory(FIXTURE, store);
    }

    /** The records the fixture holds in partition {@code p}, as its README describes them. */
    static List<LogRecord> expected(int p) {
        List<LogRecord> records = new ArrayList<>();
        long next = 0;
        for (int b = 0; b < 30; b++) {
            int n = 1 + b % 3;
            long last = 0;
            for (int i = 0; i < n; i++) {
                long o = next + i * 2L;
                byte[] value = o % 11 == 5 ? null : TestRecords.bytes("value-" + p + "-" + o);
                records.add(new LogRecord(o, 1_700_000_000_000L + o * 1000, TestRecords.bytes("key-" + o % 7), value,
                        List.of(new Header("n", TestRecords.bytes(Long.toString(o))), new Header("n", null))));
                last = o;
            }
            next = last + 3;
        }
        return records;
    }

    private static void assertSame(List<LogRecord> expected, List<LogRecord> actual) {
        TestRecords.assertSameRecords(expected, actual);
    }

    @Test
    void aVersionOneStoreReadsExactlyReadOnly() throws IOException {
        try (LogStore reader = LogStore.builder(store).readOnly().open()) {
            assertEquals(2, reader.partitionCount());
            for (int p = 0; p < 2; p++) {
                assertSame(expected(p), TestRecords.readAll(reader, p));
                assertEquals(2, reader.partitionInfo(p).segments());
            }
            try (LogReader seeker = reader.reader(1)) {
                long offset = expected(1).get(40).offset();
                assertEquals(offset, seeker.seekToTimestamp(1_700_000_000_000L + offset * 1000).position());
            }
        }
        assertTrue(new StoreVerifier(done -> { }).verify(store).isEmpty(), "verify passes the old format");
        assertTrue(Files.exists(store.resolve("partition-0/.clean-shutdown")), "a read-only open changes nothing");
    }

    @Test
    void aWritableOpenUpgradesTheStoreAndKeepsEveryRecord() throws IOException {
        try (LogStore writer = LogStore.open(store, 2)) {
            assertSame(expected(0), TestRecords.readAll(writer, 0));
            long next = writer.nextOffset(0);
            assertEquals(expected(0).get(expected(0).size() - 1).offset() + 1, next);
            writer.append(0, List.of(TestRecords.numbered(next, 5)));
        }
        assertTrue(Files.readString(store.resolve("logstore.properties")).contains("format.version=3"));
        assertFalse(Files.exists(store.resolve("partition-0/.clean-shutdown")), "the manifest replaces the marker");
        assertEquals(1, Crashes.newestEpoch(store.resolve("partition-0")));
        try (LogStore reader = LogStore.builder(store).readOnly().open()) {
            List<LogRecord> all = TestRecords.readAll(reader, 0);
            assertSame(expected(0), all.subList(0, all.size() - 1));
            assertEquals(TestRecords.numbered(all.get(all.size() - 1).offset(), 5), all.get(all.size() - 1).record());
            assertSame(expected(1), TestRecords.readAll(reader, 1));
        }
        assertTrue(new StoreVerifier(done -> { }).verify(store).isEmpty(), "verify passes the upgraded store");
    }

    @Test
    void aVersionOneStoreLeftByACrashIsRecoveredOnUpgrade() throws IOException {
        Crashes.forgetCleanClose(store.resolve("partition-1"));
        Path active = store.resolve("partition-1/00000000000000000098.log");
        long size = Files.size(active);
        Files.write(active, new byte[] {0, 0, 0, 0, 0, 9}, java.nio.file.StandardOpenOption.APPEND);
        try (LogStore writer = LogStore.open(store, 2)) {
            assertSame(expected(1), TestRecords.readAll(writer, 1));
        }
        assertEquals(size, Files.size(active), "the torn tail was cut");
    }

    @Test
    void recordsStayReadableAsBytesThroughTheDecoder() {
        try (LogStore reader = LogStore.builder(store).readOnly().open()) {
            java.nio.ByteBuffer buffer = java.nio.ByteBuffer.allocate(1 << 16);
            reader.read(0, 0, buffer);
            List<LogRecord> decoded = dev.logstore.record.RecordDecoder.decode(buffer.flip());
            assertSame(expected(0).subList(0, decoded.size()), decoded);
            assertTrue(decoded.size() > 10);
        }
    }
}
