package dev.logstore;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.logstore.record.BatchFormat;
import dev.logstore.record.Record;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
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

    private void fill(LogStore.Builder builder, int records) {
        try (LogStore store = builder.partitions(1).open()) {
            for (int n = 0; n < records; n++) {
                store.append(0, List.of(record(n)));
            }
        }
    }

    /** Positions of the batches of {@code log}, walked by their length fields. */
    private static List<Long> batchPositions(Path log) throws IOException {
        List<Long> positions = new ArrayList<>();
        try (RandomAccessFile file = new RandomAccessFile(log.toFile(), "r")) {
            long position = 0;
            while (position < file.length()) {
                positions.add(position);
                file.seek(position + BatchFormat.LENGTH_OFFSET);
                position += BatchFormat.LOG_OVERHEAD + file.readInt();
            }
        }
        return positions;
    }

    private static void putLong(Path log, long at, long value) throws IOException {
        try (RandomAccessFile file = new RandomAccessFile(log.toFile(), "rw")) {
            file.seek(at);
            file.writeLong(value);
        }
    }

    private static void putInt(Path log, long at, int value) throws IOException {
        try (RandomAccessFile file = new RandomAccessFile(log.toFile(), "rw")) {
            file.seek(at);
            file.writeInt(value);
        }
    }

    /**
     * The maxTimestamp field of one batch in a small sealed segment is damaged (lowered). A seek
     * to the timestamp of that batch's record must not land on a later record silently: it must
     * either report the damage (file and position) or land on the damaged batch, whose read then
     * reports it: a time seek checks the checksum of every batch it steps over.
     */
    @Test
    void aTimeSeekInASmallSealedSegmentNeverLandsPastADamagedBatch() throws IOException {
        fill(LogStore.builder(dir).segmentBytes(2048), 400);
        Path damaged = logFiles().get(3);
        long base = baseOffset(damaged);
        List<Long> batches = batchPositions(damaged);
        long victim = base + 2; // third batch: one record, timestamp 1000 + victim
        putLong(damaged, batches.get(2) + BatchFormat.FIRST_TIMESTAMP_OFFSET, 0L);
        putLong(damaged, batches.get(2) + BatchFormat.MAX_TIMESTAMP_OFFSET, 0L);

        try (LogStore store = LogStore.builder(dir).partitions(1).segmentBytes(2048).open();
             LogReader reader = store.reader(0)) {
            long landed;
            try {
                landed = reader.seekToTimestamp(1_000 + victim).position();
            } catch (CorruptLogException e) {
                assertEquals(damaged, e.file());
                return;
            }
            assertTrue(landed <= victim, "seekToTimestamp(" + (1_000 + victim) + ") landed on offset " + landed
                    + ", past offset " + victim + " (the record with that timestamp), silently skipping the damaged batch");
        }
    }

    /**
     * The length field of one batch in a small sealed segment is damaged so that the batch seems to
     * span itself and the next (intact) batch exactly. A time seek to the intact next batch's
     * record steps over both and lands past an intact record, without an error.
     */
    @Test
    void aTimeSeekInASmallSealedSegmentNeverLandsPastAnIntactRecordAfterADamagedLength() throws IOException {
        fill(LogStore.builder(dir).segmentBytes(2048), 400);
        Path damaged = logFiles().get(3);
        long base = baseOffset(damaged);
        List<Long> batches = batchPositions(damaged);
        long first = batches.get(1);
        long spanned = batches.get(3) - first; // batches 1 and 2 together
        putInt(damaged, first + BatchFormat.LENGTH_OFFSET, (int) spanned - BatchFormat.LOG_OVERHEAD);
        long intact = base + 2; // batch 2, untouched

        try (LogStore store = LogStore.builder(dir).partitions(1).segmentBytes(2048).open();
             LogReader reader = store.reader(0)) {
            long landed;
            try {
                landed = reader.seekToTimestamp(1_000 + intact).position();
            } catch (CorruptLogException e) {
                assertEquals(damaged, e.file());
                return;
            }
            assertTrue(landed <= intact, "seekToTimestamp(" + (1_000 + intact) + ") landed on offset " + landed
                    + ": the intact record at " + intact + " was silently skipped");
        }
    }

    /** The same damage in a segment large enough for index files: the walk from an index entry checks too. */
    @Test
    void aTimeSeekInAnIndexedSegmentNeverLandsPastADamagedBatch() throws IOException {
        fill(LogStore.builder(dir).segmentBytes(20_000), 900);
        Path damaged = logFiles().get(1);
        assertTrue(Files.exists(damaged.resolveSibling(damaged.getFileName().toString().replace(".log", ".index"))));
        long base = baseOffset(damaged);
        List<Long> batches = batchPositions(damaged);
        long victim = base + 2;
        putLong(damaged, batches.get(2) + BatchFormat.FIRST_TIMESTAMP_OFFSET, 0L);
        putLong(damaged, batches.get(2) + BatchFormat.MAX_TIMESTAMP_OFFSET, 0L);
        try (LogStore store = LogStore.builder(dir).partitions(1).segmentBytes(20_000).open();
             LogReader reader = store.reader(0)) {
            long landed;
            try {
                landed = reader.seekToTimestamp(1_000 + victim).position();
            } catch (CorruptLogException e) {
                assertEquals(damaged, e.file());
                return;
            }
            assertTrue(landed <= victim, "indexed segment: landed on " + landed + ", past " + victim);
        }
    }

    /** The damaged length in a segment with index files. */
    @Test
    void aTimeSeekInAnIndexedSegmentNeverLandsPastAnIntactRecordAfterADamagedLength() throws IOException {
        fill(LogStore.builder(dir).segmentBytes(20_000), 900);
        Path damaged = logFiles().get(1);
        long base = baseOffset(damaged);
        List<Long> batches = batchPositions(damaged);
        long first = batches.get(1);
        putInt(damaged, first + BatchFormat.LENGTH_OFFSET, (int) (batches.get(3) - first) - BatchFormat.LOG_OVERHEAD);
        long intact = base + 2;
        try (LogStore store = LogStore.builder(dir).partitions(1).segmentBytes(20_000).open();
             LogReader reader = store.reader(0)) {
            long landed;
            try {
                landed = reader.seekToTimestamp(1_000 + intact).position();
            } catch (CorruptLogException e) {
                assertEquals(damaged, e.file());
                return;
            }
            assertTrue(landed <= intact, "indexed segment: landed on " + landed + ", past intact " + intact);
        }
    }

    private List<Path> logFiles() throws IOException {
        return logFiles(dir.resolve("partition-0"));
    }

    private static List<Path> logFiles(Path partition) throws IOException {
        try (Stream<Path> files = Files.list(partition)) {
            return files.filter(f -> f.toString().endsWith(".log")).sorted().toList();
        }
    }

    private static long baseOffset(Path log) {
        return Long.parseLong(log.getFileName().toString().substring(0, 20));
    }
}
