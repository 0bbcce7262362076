package dev.logstore;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.logstore.record.LogRecord;
import dev.logstore.record.Record;
import dev.logstore.verify.Finding;
import dev.logstore.verify.StoreVerifier;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A large active segment keeps two pages of each index in memory and moves the rest to spill
 * files beside it: seeks by offset and by timestamp land exactly, in the writer's handle and in a
 * read-only one; the sealed segment's index files, written from the spill, are whole; no spill
 * file outlives its segment's activity; and a spill that cannot be written costs neither a record
 * nor an append.
 */
class ActiveSegmentIndexTest {

    /** With a 64-byte index interval, every batch gets an entry: 100 pages of each index. */
    private static final int BATCHES = 100 * 512 + 300;
    private static final long T0 = 1_700_000_000_000L;

    @TempDir
    Path dir;

    private LogStore.Builder builder() {
        return largeActiveSegment(dir);
    }

    /** One partition of 64 MiB segments with an index entry every 64 bytes: pages move out early. */
    static LogStore.Builder largeActiveSegment(Path dir) {
        return LogStore.builder(dir).partitions(1).segmentBytes(64 << 20).indexIntervalBytes(64)
                .durability(Durability.onFlush());
    }

    private static void appendAll(LogStore store, int from, int to) {
        for (int i = from; i < to; i++) {
            store.append(0, List.of(Record.of(null, new byte[] {(byte) i, (byte) (i >> 8)}, T0 + 2L * i)));
        }
    }

    private static void checkSeeks(LogStore store, int batches, long seed) {
        Random random = new Random(seed);
        try (LogReader reader = store.reader(0)) {
            for (int n = 0; n < 400; n++) {
                int i = n < 10 ? batches - 1 - n : random.nextInt(batches);
                List<LogRecord> read = reader.seek(i).poll(1, 1 << 16);
                assertEquals(i, read.get(0).offset(), "seek(" + i + ")");
                // Timestamps are T0 + 2i: T0 + 2i - 1 is first reached at offset i.
                read = reader.seekToTimestamp(T0 + 2L * i - 1).poll(1, 1 << 16);
                assertEquals(i, read.get(0).offset(), "seekToTimestamp(" + (T0 + 2L * i - 1) + ")");
            }
        }
    }

    private List<Path> spillFiles() throws IOException {
        try (Stream<Path> files = Files.list(dir.resolve("partition-0"))) {
            return files.filter(f -> f.getFileName().toString().endsWith(".pages.tmp")).toList();
        }
    }

    @Test
    void seeksInALargeActiveSegmentAreExactInTheWriterAndInAReadOnlyView() throws IOException {
        try (LogStore store = builder().open()) {
            appendAll(store, 0, BATCHES);
            assertEquals(2, spillFiles().size(), "the active segment's older index pages are in spill files");
            checkSeeks(store, BATCHES, 1);
            try (LogStore view = LogStore.builder(dir).readOnly().open()) {
                checkSeeks(view, BATCHES, 2);
            }
            store.flush();
        }
        assertEquals(List.of(), spillFiles(), "a clean close removes the spill files");
        assertEquals(List.of(), new StoreVerifier(n -> { }).verify(dir), "the index files written from them check out");
        try (LogStore reopened = builder().open()) {
            checkSeeks(reopened, BATCHES, 3);
            appendAll(reopened, BATCHES, BATCHES + 100);
            checkSeeks(reopened, BATCHES + 100, 4);
        }
        try (LogStore view = LogStore.builder(dir).readOnly().open()) {
            checkSeeks(view, BATCHES + 100, 5);
        }
    }

    @Test
    void aRollWritesTheSealedSegmentsIndexFilesFromTheSpillAndRemovesIt() throws IOException {
        LogStore.Builder rolling = LogStore.builder(dir).partitions(1).segmentBytes(2 << 20).indexIntervalBytes(64)
                .durability(Durability.onFlush());
        int batches = 3 * 20_000;
        try (LogStore store = rolling.open()) {
            for (int i = 0; i < batches; i++) {
                store.append(0, List.of(Record.of(null, new byte[40], T0 + 2L * i)));
            }
            assertTrue(store.partitionInfo(0).segments() >= 2, "rolled: " + store.partitionInfo(0).segments());
            assertTrue(spillFiles().size() <= 2, "only the active segment has spill files: " + spillFiles());
            checkSeeks(store, batches, 6);
        }
        assertEquals(List.of(), spillFiles());
        assertEquals(List.of(), new StoreVerifier(n -> { }).verify(dir));
    }

    @Test
    void aSpillThatCannotBeWrittenCostsNoRecordAndNoAppend() throws IOException {
        FaultyFiles faults = new FaultyFiles();
        faults.failWrites = FaultyFiles.named(".pages.tmp");
        try (LogStore store = builder().fileOpener(faults).open()) {
            appendAll(store, 0, BATCHES);
            checkSeeks(store, BATCHES, 7);
            store.flush();
        }
        // The index files could not be written from the spill: the next open rebuilds them.
        try (LogStore reopened = builder().open()) {
            checkSeeks(reopened, BATCHES, 8);
            List<LogRecord> all = new ArrayList<>(TestRecords.readAll(reopened, 0));
            assertEquals(BATCHES, all.size());
            for (int i = 0; i < BATCHES; i += 997) {
                assertEquals(T0 + 2L * i, all.get(i).timestamp());
            }
        }
        assertEquals(List.of(), spillFiles());
        // (The reopen, which had to rebuild, left an empty segment for its successor: a warning.)
        assertEquals(List.of(), new StoreVerifier(n -> { }).verify(dir).stream()
                .filter(f -> f.severity() == Finding.Severity.CORRUPT).toList());
    }
}
