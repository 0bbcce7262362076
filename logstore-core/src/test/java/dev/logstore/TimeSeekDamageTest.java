package dev.logstore;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.logstore.record.BatchFormat;
import dev.logstore.record.Record;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A seek by timestamp steps over the batches whose headers say their records are older than the
 * time sought. A damaged header (a lowered timestamp, a length that spans the next batch) must not
 * make it step over a record it should land on: it checks the checksum of every batch it steps
 * over, and reports the damage with file and position, in segments with and without index files.
 */
class TimeSeekDamageTest {

    @TempDir
    Path dir;

    private static Record record(long n) {
        return TestRecords.numbered(n, 1_000 + n);
    }



    /** Segments of about 2 KiB (no index files) or 20 KB (with them), in which the third segment, or the second, is damaged. */
    private Path fillAndPick(int segmentBytes) throws IOException {
        boolean small = segmentBytes < 4096;
        TestRecords.appendNumbered(LogStore.builder(dir).segmentBytes(segmentBytes), small ? 400 : 900);
        Path picked = TestFiles.segmentLogs(dir.resolve("partition-0")).get(small ? 3 : 1);
        assertEquals(!small, Files.exists(picked.resolveSibling(picked.getFileName().toString()
                .replace(".log", ".index"))));
        return picked;
    }

    /** Lowers the timestamps in the header of the third batch of {@code log}; returns the offset of its record. */
    private static long lowerTimestampOfThirdBatch(Path log) throws IOException {
        long batch = TestFiles.batchPositions(log).get(2);
        TestFiles.putLong(log, batch + BatchFormat.FIRST_TIMESTAMP_OFFSET, 0L);
        TestFiles.putLong(log, batch + BatchFormat.MAX_TIMESTAMP_OFFSET, 0L);
        return TestFiles.baseOffset(log) + 2;
    }

    /**
     * Makes the length of the second batch of {@code log} span the third (intact) batch too;
     * returns the offset of the third batch's record.
     */
    private static long spanSecondBatchOverThird(Path log) throws IOException {
        List<Long> batches = TestFiles.batchPositions(log);
        long first = batches.get(1);
        TestFiles.putInt(log, first + BatchFormat.LENGTH_OFFSET, (int) (batches.get(3) - first) - BatchFormat.LOG_OVERHEAD);
        return TestFiles.baseOffset(log) + 2;
    }

    /**
     * A seek to the timestamp of the record at {@code sought} lands on it or before it, or reports
     * the damage in {@code damaged}: it never steps silently past it.
     */
    private void assertTimeSeekNeverPasses(Path damaged, int segmentBytes, long sought) {
        try (LogStore store = LogStore.builder(dir).partitions(1).segmentBytes(segmentBytes).open();
             LogReader reader = store.reader(0)) {
            long landed;
            try {
                landed = reader.seekToTimestamp(1_000 + sought).position();
            } catch (CorruptLogException e) {
                assertEquals(damaged, e.file());
                return;
            }
            assertTrue(landed <= sought, "seekToTimestamp(" + (1_000 + sought) + ") landed on offset " + landed
                    + ", past offset " + sought + ", the record with that timestamp");
        }
    }

    @Test
    void aLoweredTimestampInASmallSealedSegmentIsNeverSteppedPast() throws IOException {
        Path damaged = fillAndPick(2048);
        assertTimeSeekNeverPasses(damaged, 2048, lowerTimestampOfThirdBatch(damaged));
    }

    @Test
    void aLengthSpanningTheNextBatchInASmallSealedSegmentIsNeverSteppedPast() throws IOException {
        Path damaged = fillAndPick(2048);
        assertTimeSeekNeverPasses(damaged, 2048, spanSecondBatchOverThird(damaged));
    }

    @Test
    void aLoweredTimestampInAnIndexedSegmentIsNeverSteppedPast() throws IOException {
        Path damaged = fillAndPick(20_000);
        assertTimeSeekNeverPasses(damaged, 20_000, lowerTimestampOfThirdBatch(damaged));
    }

    @Test
    void aLengthSpanningTheNextBatchInAnIndexedSegmentIsNeverSteppedPast() throws IOException {
        Path damaged = fillAndPick(20_000);
        assertTimeSeekNeverPasses(damaged, 20_000, spanSecondBatchOverThird(damaged));
    }
}
