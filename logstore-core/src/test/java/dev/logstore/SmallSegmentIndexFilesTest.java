package dev.logstore;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.logstore.log.Crashes;
import dev.logstore.record.Record;
import dev.logstore.segment.IndexMemory;
import dev.logstore.verify.Finding;
import dev.logstore.verify.StoreVerifier;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A segment no larger than one index interval gets no index files: its offset index would name
 * only its first batch, so a lookup reads it from its start either way. A close of many partitions
 * that took a few records each then creates no file, and the next open is still the one that
 * writes nothing. Lookups stay exact, in the writer and in read-only views; damage in such a
 * segment is found by the read that reaches it and by {@code verify}, as in any sealed segment.
 * ({@link SmallSegmentDamageTest} shows that such damage costs no intact record of the segment
 * and no open, after a clean close or a crash.)
 */
class SmallSegmentIndexFilesTest {

    private static final int PARTITIONS = 12;

    @TempDir
    Path dir;

    private static Record record(long n) {
        return TestRecords.numbered(n, 1_000 + n);
    }

    @Test
    void aCloseOfPartitionsWithAFewRecordsEachWritesNoIndexFileAndTheReopenWritesNothing() throws IOException {
        try (LogStore store = LogStore.builder(dir).partitions(PARTITIONS).open()) {
            for (int p = 0; p < PARTITIONS; p++) {
                for (int n = 0; n < 5; n++) {
                    store.append(p, List.of(record(n)));
                }
            }
        }
        assertEquals(List.of(), indexFiles(), "no index file for segments of a few records");
        Map<String, Long> before = files();
        FaultyFiles counting = new FaultyFiles();
        try (LogStore reopened = LogStore.builder(dir).partitions(PARTITIONS).fileOpener(counting).open()) {
            for (int p = 0; p < PARTITIONS; p++) {
                assertEquals(5, reopened.nextOffset(p));
                TestRecords.assertNumberedLookupsExact(reopened, p, 5);
            }
        }
        assertEquals(0, counting.forces.get(), "the open after the clean close forced nothing");
        assertEquals(before, files(), "an open that only read left every file as it was");
        try (LogStore view = LogStore.builder(dir).readOnly().open()) {
            for (int p = 0; p < PARTITIONS; p++) {
                TestRecords.assertNumberedLookupsExact(view, p, 5);
            }
        }
        assertEquals(List.of(), new StoreVerifier(n -> { }).verify(dir), "verify finds nothing amiss");

        // The next writer seals these small segments and starts its own: still no index files,
        // and still an open that writes nothing after its clean close.
        try (LogStore store = LogStore.builder(dir).partitions(PARTITIONS).open()) {
            for (int p = 0; p < PARTITIONS; p++) {
                store.append(p, List.of(record(5)));
            }
        }
        assertEquals(List.of(), indexFiles());
        before = files();
        counting = new FaultyFiles();
        try (LogStore reopened = LogStore.builder(dir).partitions(PARTITIONS).fileOpener(counting).open()) {
            for (int p = 0; p < PARTITIONS; p++) {
                assertEquals(2, reopened.partitionInfo(p).segments());
                TestRecords.assertNumberedLookupsExact(reopened, p, 6);
            }
        }
        assertEquals(0, counting.forces.get());
        assertEquals(before, files());
        assertEquals(List.of(), new StoreVerifier(n -> { }).verify(dir));
    }

    @Test
    void aSegmentLargerThanAnIndexIntervalGetsItsIndexFilesAtClose() throws IOException {
        try (LogStore store = LogStore.builder(dir).partitions(2).open()) {
            store.append(0, List.of(record(0)));
            for (int n = 0; store.partitionInfo(1).sizeInBytes() <= 4096; n++) {
                store.append(1, List.of(record(n)));
            }
        }
        assertFalse(Files.exists(dir.resolve("partition-0/00000000000000000000.index")));
        assertTrue(Files.exists(dir.resolve("partition-1/00000000000000000000.index")));
        assertTrue(Files.exists(dir.resolve("partition-1/00000000000000000000.timeindex")));
        assertEquals(List.of(), new StoreVerifier(n -> { }).verify(dir));
    }

    @Test
    void sealedSegmentsNoLargerThanAnIntervalAnswerEveryLookupExactlyUnderAnyIndexCap() throws IOException {
        IndexMemory none = new IndexMemory(0);
        int records = 400;
        try (LogStore store = LogStore.builder(dir).partitions(1).segmentBytes(2048).indexMemory(none).open()) {
            for (int n = 0; n < records; n++) {
                store.append(0, List.of(record(n)));
            }
            assertTrue(store.partitionInfo(0).segments() > 10, "many small segments");
            TestRecords.assertNumberedLookupsExact(store, 0, records);
        }
        assertEquals(List.of(), indexFiles(), "rolls of small segments write no index file");
        FaultyFiles counting = new FaultyFiles();
        try (LogStore reopened = LogStore.builder(dir).partitions(1).segmentBytes(2048).indexMemory(none)
                .fileOpener(counting).open()) {
            TestRecords.assertNumberedLookupsExact(reopened, 0, records);
            reopened.append(0, List.of(record(records)));
            assertEquals(records + 1, TestRecords.readAll(reopened, 0).size());
        }
        try (LogStore view = LogStore.builder(dir).readOnly().indexMemory(none).open()) {
            TestRecords.assertNumberedLookupsExact(view, 0, records + 1);
        }
        assertEquals(List.of(), indexFiles(), "lookups rebuild their indexes in memory, and write none");
        assertEquals(List.of(), new StoreVerifier(n -> { }).verify(dir));
    }

    @Test
    void damageInASmallSealedSegmentIsFoundByTheReadThatReachesItAndByVerifyNeverByAnOpen()
            throws IOException {
        try (LogStore store = LogStore.builder(dir).partitions(1).segmentBytes(2048).open()) {
            for (int n = 0; n < 400; n++) {
                store.append(0, List.of(record(n)));
            }
        }
        List<Path> logs = TestFiles.segmentLogs(dir.resolve("partition-0"));
        assertTrue(logs.size() > 4);
        Path damaged = logs.get(2);
        long damagedBase = TestFiles.baseOffset(damaged);
        try (RandomAccessFile file = new RandomAccessFile(damaged.toFile(), "rw")) {
            file.seek(60);
            int b = file.read();
            file.seek(60);
            file.write(b ^ 0x10);
        }
        try (LogStore store = LogStore.builder(dir).partitions(1).segmentBytes(2048).open()) {
            CorruptLogException e = assertThrows(CorruptLogException.class, () -> TestRecords.readAll(store, 0));
            assertEquals(damaged, e.file());
            assertThrows(CorruptLogException.class, () -> {
                try (LogReader reader = store.reader(0)) {
                    reader.seek(damagedBase).poll(1, 1 << 16);
                }
            });
            long after = TestFiles.baseOffset(logs.get(3));
            try (LogReader reader = store.reader(0)) {
                assertEquals(after, reader.seek(after).poll(1, 1 << 16).get(0).offset(), "later segments still read");
            }
        }
        List<Finding> findings = new StoreVerifier(n -> { }).verify(dir);
        assertTrue(findings.stream().anyMatch(f -> f.severity() == Finding.Severity.CORRUPT && f.file().equals(damaged)),
                findings.toString());

        // Neither an open after a clean close nor one after a crash reads a sealed segment this
        // small, under either policy: nothing is cut, and the damage is still found when read.
        for (boolean crash : new boolean[] {false, true}) {
            if (crash) {
                Crashes.forgetCleanClose(dir.resolve("partition-0"));
            }
            try (LogStore store = LogStore.builder(dir).partitions(1).segmentBytes(2048)
                    .corruptionPolicy(CorruptionPolicy.TRUNCATE).open()) {
                assertEquals(400, store.nextOffset(0));
                CorruptLogException e = assertThrows(CorruptLogException.class, () -> TestRecords.readAll(store, 0));
                assertEquals(damaged, e.file());
            }
        }
        assertEquals(logs, TestFiles.segmentLogs(dir.resolve("partition-0")).subList(0, logs.size()), "no segment removed");
    }

    @Test
    void aCrashWithASmallActiveSegmentIsRecoveredWithoutIndexFilesAndTheNextReopenWritesNothing() throws IOException {
        try (LogStore store = LogStore.builder(dir).partitions(1).open()) {
            for (int n = 0; n < 7; n++) {
                store.append(0, List.of(record(n)));
            }
        }
        Crashes.forgetCleanClose(dir.resolve("partition-0"));
        try (LogStore recovered = LogStore.builder(dir).partitions(1).open()) {
            assertEquals(7, recovered.nextOffset(0));
            TestRecords.assertNumberedLookupsExact(recovered, 0, 7);
            recovered.append(0, List.of(record(7))); // a closed empty segment is taken over by an ordinary open
        }
        assertEquals(List.of(), indexFiles());
        Map<String, Long> before = files();
        FaultyFiles counting = new FaultyFiles();
        try (LogStore reopened = LogStore.builder(dir).partitions(1).fileOpener(counting).open()) {
            TestRecords.assertNumberedLookupsExact(reopened, 0, 8);
        }
        assertEquals(0, counting.forces.get());
        assertEquals(before, files());
    }

    @Test
    void aStoreOpenedWithAnotherIndexIntervalThanItWasWrittenWithReadsExactlyAndWritesNothing()
            throws IOException {
        int records = 300;
        // Written with a 64-byte interval: its 2 KiB segments have index files.
        try (LogStore store = LogStore.builder(dir).partitions(1).segmentBytes(2048).indexIntervalBytes(64).open()) {
            for (int n = 0; n < records; n++) {
                store.append(0, List.of(record(n)));
            }
        }
        int segments = TestFiles.segmentLogs(dir.resolve("partition-0")).size();
        assertEquals(2 * segments, indexFiles().size(), "every segment, larger than 64 bytes, the last one at its close");
        // Opened with the default 4 KiB: index files it would not have written are still used.
        FaultyFiles counting = new FaultyFiles();
        try (LogStore store = LogStore.builder(dir).partitions(1).fileOpener(counting).open()) {
            TestRecords.assertNumberedLookupsExact(store, 0, records);
        }
        assertEquals(0, counting.forces.get(), "an open that writes nothing");
        for (Path index : indexFiles()) {
            Files.delete(index);
        }
        // Opened with 4 KiB again: no index files are needed for 2 KiB segments.
        counting = new FaultyFiles();
        try (LogStore store = LogStore.builder(dir).partitions(1).fileOpener(counting).open()) {
            TestRecords.assertNumberedLookupsExact(store, 0, records);
        }
        assertEquals(0, counting.forces.get());
        assertEquals(List.of(), indexFiles());
        // Opened with 512 bytes, an interval it would have written them with: a segment of at most
        // 4 KiB may lack index files whatever interval wrote it, so that open writes nothing either,
        // and reads no such segment.
        counting = new FaultyFiles();
        try (LogStore store = LogStore.builder(dir).partitions(1).indexIntervalBytes(512).fileOpener(counting)
                .open()) {
            TestRecords.assertNumberedLookupsExact(store, 0, records);
        }
        assertEquals(0, counting.forces.get());
        assertEquals(List.of(), indexFiles());
        try (LogStore view = LogStore.builder(dir).readOnly().indexIntervalBytes(64).open()) {
            TestRecords.assertNumberedLookupsExact(view, 0, records);
        }
        // An ordinary open (a leftover temporary file makes one) that closes without a write
        // leaves its empty segment, named by no manifest, for the next writer to take over:
        // nothing to warn of. A stray segment with bytes is.
        Files.write(dir.resolve("partition-0/manifest.0000000009.tmp"), new byte[] {1});
        LogStore.builder(dir).partitions(1).open().close();
        assertTrue(Files.exists(dir.resolve("partition-0").resolve(dev.logstore.segment.Segment.fileName(records,
                dev.logstore.segment.Segment.LOG_SUFFIX))));
        assertEquals(List.of(), new StoreVerifier(n -> { }).verify(dir));
        Path stray = dir.resolve("partition-0/00000000000000099999.log");
        Files.write(stray, new byte[] {1, 2, 3});
        List<Finding> findings = new StoreVerifier(n -> { }).verify(dir);
        assertEquals(1, findings.size(), findings.toString());
        assertEquals(Finding.Severity.WARNING, findings.get(0).severity());
        assertEquals(stray, findings.get(0).file());
    }

    private List<Path> indexFiles() throws IOException {
        List<Path> found = new ArrayList<>();
        try (Stream<Path> files = Files.walk(dir)) {
            files.filter(f -> f.toString().endsWith(".index") || f.toString().endsWith(".timeindex"))
                    .forEach(found::add);
        }
        return found;
    }

    /** Every file, by name and size, with its modification time. */
    private Map<String, Long> files() throws IOException {
        Map<String, Long> modified = new TreeMap<>();
        try (Stream<Path> files = Files.walk(dir)) {
            for (Path file : (Iterable<Path>) files.filter(Files::isRegularFile)::iterator) {
                modified.put(dir.relativize(file) + " " + Files.size(file), Files.getLastModifiedTime(file).toMillis());
            }
        }
        return modified;
    }
}
