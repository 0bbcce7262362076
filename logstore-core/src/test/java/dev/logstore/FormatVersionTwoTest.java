package dev.logstore;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.logstore.record.Codec;
import dev.logstore.record.Header;
import dev.logstore.record.LogRecord;
import dev.logstore.record.Record;
import dev.logstore.verify.StoreVerifier;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.commons.io.file.PathUtils;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Stores written before batches could be compressed or encrypted (format version 2, see the
 * fixture's README) stay readable, read-only and for writing; a writable open moves the store to
 * version 3 and appends compressed batches after the old ones.
 */
class FormatVersionTwoTest {

    private static final Path FIXTURE = Path.of("src/test/resources/fixtures/v2-store");

    @TempDir
    Path work;

    private Path store;

    @BeforeEach
    void copyFixture() throws IOException {
        store = work.resolve("v2-store");
        PathUtils.copyDirectory(FIXTURE, store);
    }

    /** The records of partition {@code p}, as the fixture's README describes them. */
    static List<LogRecord> expected(int p) {
        List<LogRecord> records = new ArrayList<>();
        for (int n = 0; n < 30; n++) {
            byte[] key = n % 7 == 0 ? null : bytes("key-" + n);
            byte[] value = n % 5 == 4 ? null : bytes("{\"order\":" + n + ",\"partition\":" + p + ",\"item\":\"widget\"}");
            List<Header> headers = n % 3 == 0 ? List.of(new Header("trace", bytes("t" + n)), new Header("empty", null))
                    : List.of();
            records.add(new LogRecord(n, 1_700_000_000_000L + n * 1000L, key, value, headers));
        }
        return records;
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static void assertSame(List<LogRecord> expected, List<LogRecord> actual) {
        TestRecords.assertSameRecords(expected, actual);
    }

    @Test
    void aVersionTwoStoreReadsExactlyAndVerifiesClean() throws IOException {
        try (LogStore reader = LogStore.builder(store).readOnly().open()) {
            for (int p = 0; p < 2; p++) {
                assertSame(expected(p), TestRecords.readAll(reader, p));
            }
        }
        assertTrue(new StoreVerifier(n -> { }).verify(store).isEmpty());
        assertTrue(Files.readString(store.resolve("logstore.properties")).contains("format.version=2"),
                "a read-only open changed the store's version");
    }

    @Test
    void aWritableOpenMovesItToVersionThreeAndAppendsCompressedAfterTheOldBatches() throws IOException {
        List<Record> added = PackedBatchesTest.orders(0, 40);
        try (LogStore writer = LogStore.builder(store).compression(Codec.ZSTD).open()) {
            writer.append(0, added);
        }
        assertTrue(Files.readString(store.resolve("logstore.properties")).contains("format.version=3"));
        try (LogStore reader = LogStore.builder(store).readOnly().open()) {
            List<LogRecord> all = TestRecords.readAll(reader, 0);
            assertSame(expected(0), all.subList(0, 30));
            assertEquals(70, all.size());
            for (int i = 0; i < added.size(); i++) {
                assertEquals(30 + i, all.get(30 + i).offset());
                assertArrayEquals(added.get(i).value(), all.get(30 + i).value());
            }
            assertSame(expected(1), TestRecords.readAll(reader, 1));
        }
        assertTrue(new StoreVerifier(n -> { }).verify(store).isEmpty());
    }
}
