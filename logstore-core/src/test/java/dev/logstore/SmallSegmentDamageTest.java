package dev.logstore;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.logstore.log.Crashes;
import dev.logstore.record.LogRecord;
import dev.logstore.record.Record;
import dev.logstore.verify.Finding;
import dev.logstore.verify.StoreVerifier;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Damage in a sealed segment too small to have index files (no larger than one index interval)
 * costs what it costs in any sealed segment: the records after it in that segment, found by the
 * read that reaches it. Lookups of the intact records before it start at the segment's first
 * batch without reading the segment whole; an open, after a clean close or after a crash, reads
 * no such segment, so it neither refuses the partition nor cuts it back; and {@code verify}
 * expects no index files of such segments, whatever interval the store was written with.
 */
class SmallSegmentDamageTest {

    @TempDir
    Path dir;

    private static Record record(long n) {
        return TestRecords.numbered(n, 1_000 + n);
    }

    /** 400 records, one per batch, in sealed segments of about 2 KiB (below the default 4 KiB interval). */
    private void fillSmallSegments(LogStore.Builder builder) {
        try (LogStore store = builder.partitions(1).segmentBytes(2048).open()) {
            for (int n = 0; n < 400; n++) {
                store.append(0, List.of(record(n)));
            }
            assertTrue(store.partitionInfo(0).segments() > 10);
        }
    }

    /** Flips one bit in the last few bytes of {@code log}: inside its last batch, so every earlier batch is intact. */
    private static void damageLastBatch(Path log) throws IOException {
        try (RandomAccessFile file = new RandomAccessFile(log.toFile(), "rw")) {
            long at = file.length() - 3;
            file.seek(at);
            int b = file.read();
            file.seek(at);
            file.write(b ^ 0x10);
        }
    }

    /**
     * Damage in the last batch of a small sealed segment: a seek by offset or by timestamp to an
     * intact record before it returns that record (a lookup walks the batch headers from the
     * segment's start and reads no batch it does not need), as {@code verify}'s message says
     * ("Offsets X to Y (the rest of this segment) cannot be read past it").
     */
    @Test
    void intactRecordsBeforeDamageInASmallSealedSegmentStayReadable() throws IOException {
        fillSmallSegments(LogStore.builder(dir));
        Path damaged = TestFiles.segmentLogs(dir.resolve("partition-0")).get(3);
        long base = TestFiles.baseOffset(damaged);
        long nextBase = TestFiles.baseOffset(TestFiles.segmentLogs(dir.resolve("partition-0")).get(4));
        damageLastBatch(damaged);

        List<Finding> findings = new StoreVerifier(n -> { }).verify(dir);
        // verify says only the rest of the segment from the damaged batch is lost ...
        assertTrue(findings.stream().anyMatch(f -> f.file().equals(damaged)
                && f.message().contains("Offsets " + (nextBase - 1) + " to " + (nextBase - 1))), findings.toString());

        try (LogStore store = LogStore.builder(dir).partitions(1).segmentBytes(2048).open();
             LogReader reader = store.reader(0)) {
            // ... but the intact first record of the segment cannot be read.
            List<LogRecord> at = reader.seek(base).poll(1, 1 << 16);
            assertEquals(base, at.get(0).offset(), "intact record before the damage");
            assertEquals(record(base), at.get(0).record());
            assertEquals(base + 1, reader.seekToTimestamp(1_000 + base + 1).position());
        }
    }

    /**
     * After a crash, an old bit flip in a small sealed segment does not refuse the writer's open
     * under FAIL: the open after a crash reads such a segment no more than the open after a clean
     * close does (their missing index files are no sign of damage).
     */
    @Test
    void aCrashDoesNotTurnOldDamageInASmallSealedSegmentIntoARefusedOpen() throws IOException {
        fillSmallSegments(LogStore.builder(dir));
        damageLastBatch(TestFiles.segmentLogs(dir.resolve("partition-0")).get(3));
        try (LogStore store = LogStore.builder(dir).partitions(1).segmentBytes(2048).open()) {
            store.append(0, List.of(record(400))); // the open after a clean close accepts it
        }
        Crashes.forgetCleanClose(dir.resolve("partition-0"));
        try (LogStore store = LogStore.builder(dir).partitions(1).segmentBytes(2048).open()) {
            assertEquals(401, store.nextOffset(0));
            store.append(0, List.of(record(401)));
        }
    }

    /**
     * Under TRUNCATE, the same crash does not cut the partition back to the old damage: all 400
     * records stay, and the damage is found by the read that reaches it.
     */
    @Test
    void aCrashDoesNotMakeTruncateDeleteEverySegmentAfterOldDamageInASmallSealedSegment() throws IOException {
        fillSmallSegments(LogStore.builder(dir));
        damageLastBatch(TestFiles.segmentLogs(dir.resolve("partition-0")).get(3));
        int segments = TestFiles.segmentLogs(dir.resolve("partition-0")).size();
        Crashes.forgetCleanClose(dir.resolve("partition-0"));
        try (LogStore store = LogStore.builder(dir).partitions(1).segmentBytes(2048)
                .corruptionPolicy(CorruptionPolicy.TRUNCATE).open()) {
            assertEquals(400, store.nextOffset(0), "records kept after a crash");
        }
        assertTrue(TestFiles.segmentLogs(dir.resolve("partition-0")).size() >= segments, "segments kept after a crash");
    }

    /**
     * After a crash, the open reads the crashed active segments and no small sealed segment, the
     * first time and every time after.
     */
    @Test
    void anOpenAfterACrashReadsOnlyTheActiveSegment() throws IOException {
        int partitions = 8;
        try (LogStore store = LogStore.builder(dir).partitions(partitions).segmentBytes(2048).open()) {
            for (int n = 0; n < 300; n++) {
                for (int p = 0; p < partitions; p++) {
                    store.append(p, List.of(record(n)));
                }
            }
        }
        long activeBytes = 0;
        for (int p = 0; p < partitions; p++) {
            Path partition = dir.resolve("partition-" + p);
            Crashes.forgetCleanClose(partition);
            List<Path> logs = TestFiles.segmentLogs(partition);
            activeBytes += Files.size(logs.get(logs.size() - 1));
        }
        long[] read = new long[2];
        long[] active = new long[2];
        for (int open = 0; open < 2; open++) {
            FaultyFiles counting = new FaultyFiles();
            try (LogStore store = LogStore.builder(dir).partitions(partitions).segmentBytes(2048)
                    .fileOpener(counting).open()) {
                assertEquals(300, store.nextOffset(0));
            }
            for (int p = 0; p < partitions; p++) {
                Crashes.forgetCleanClose(dir.resolve("partition-" + p));
            }
            read[open] = counting.segmentBytesRead.get();
            active[open] = activeBytes;
            activeBytes = 0; // the next open's active segments are the ones this open created: nearly empty
            for (int p = 0; p < partitions; p++) {
                List<Path> logs = TestFiles.segmentLogs(dir.resolve("partition-" + p));
                activeBytes += Files.size(logs.get(logs.size() - 1));
            }
        }
        for (int open = 0; open < 2; open++) {
            assertTrue(read[open] <= 2 * active[open] + 16 * 1024, "open " + open + " after a crash read " + read[open]
                    + " bytes of segments; the crashed active segments hold " + active[open] + " (reads per open: " + java.util.Arrays.toString(read) + ", active bytes: " + java.util.Arrays.toString(active) + ")");
        }
    }

    /**
     * A store written with a larger interval than the default (through the builder, or the
     * connector's {@code logstore.index.interval.bytes}) has sealed segments above 4 KiB without
     * index files; {@code verify}, which cannot know the interval, reports none of them.
     */
    @Test
    void verifyGivesNoWarningForAStoreWrittenWithALargerInterval() throws IOException {
        try (LogStore store = LogStore.builder(dir).partitions(1).segmentBytes(6000).indexIntervalBytes(16384).open()) {
            for (int n = 0; n < 400; n++) {
                store.append(0, List.of(record(n)));
            }
        }
        assertEquals(List.of(), new StoreVerifier(n -> { }).verify(dir));
    }

    /**
     * Opened with a smaller index interval than it was written with (a connector source with its
     * own {@code logstore.index.interval.bytes}, say): a segment of at most 4 KiB may lack index
     * files whatever interval wrote it, so neither a view nor a writer reads it whole, and the
     * intact record before the damage reads, the writer's open refusing nothing.
     */
    @Test
    void aSmallerIntervalAtOpenStillReadsTheIntactRecordsAndRefusesNothing() throws IOException {
        fillSmallSegments(LogStore.builder(dir));
        Path damaged = TestFiles.segmentLogs(dir.resolve("partition-0")).get(3);
        long base = TestFiles.baseOffset(damaged);
        damageLastBatch(damaged);
        try (LogStore view = LogStore.builder(dir).readOnly().indexIntervalBytes(1024).open();
             LogReader reader = view.reader(0)) {
            assertEquals(base, reader.seek(base).poll(1, 1 << 16).get(0).offset(), "view");
        }
        try (LogStore writer = LogStore.builder(dir).partitions(1).segmentBytes(2048).indexIntervalBytes(1024).open();
             LogReader reader = writer.reader(0)) {
            assertEquals(base, reader.seek(base).poll(1, 1 << 16).get(0).offset(), "writer");
        }
    }

    /** An offset index whose time index is missing is still checked, or at least reported, by {@code verify}. */
    @Test
    void verifyReportsAnIndexFileWhoseSiblingIsMissing() throws IOException {
        try (LogStore store = LogStore.builder(dir).partitions(1).segmentBytes(20_000).open()) {
            for (int n = 0; n < 900; n++) {
                store.append(0, List.of(record(n)));
            }
        }
        Path log = TestFiles.segmentLogs(dir.resolve("partition-0")).get(1);
        Path index = log.resolveSibling(log.getFileName().toString().replace(".log", ".index"));
        Path timeIndex = log.resolveSibling(log.getFileName().toString().replace(".log", ".timeindex"));
        assertTrue(Files.exists(index));
        Files.write(index, new byte[] {0, 0, 0, 9, 0, 0, 0, 5});
        Files.delete(timeIndex);
        List<Finding> findings = new StoreVerifier(n -> { }).verify(dir);
        assertTrue(findings.stream().anyMatch(f -> f.file().equals(log) && f.severity() == Finding.Severity.WARNING),
                findings.toString());
    }
}
