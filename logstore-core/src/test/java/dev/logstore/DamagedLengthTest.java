package dev.logstore;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.logstore.log.Crashes;
import dev.logstore.record.BatchFormat;
import dev.logstore.record.Record;
import dev.logstore.verify.Finding;
import dev.logstore.verify.StoreVerifier;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A damaged length field at the end of an active segment: a flipped bit can stretch a batch over
 * the intact batches after it, into the zeros that end a payload or that a mapped writer
 * reserved, or past the end of the file. That looks like a torn batch by its declared length
 * alone, so recovery and {@code verify} look for intact batches after it all the same, and
 * refuse (under {@code CorruptionPolicy.FAIL}) or report it rather than cut them.
 */
class DamagedLengthTest {

    @TempDir
    Path dir;

    private Path partition0() {
        return dir.resolve("partition-0");
    }

    private Path activeLog() throws IOException {
        try (Stream<Path> files = Files.list(partition0())) {
            return files.filter(f -> f.toString().endsWith(".log")).sorted().reduce((a, b) -> b).orElseThrow();
        }
    }

    /** Flips one bit of the big-endian length field of the batch at {@code batchAt}; returns the new length. */
    private static int flipLengthBit(Path file, long batchAt, int bit) throws IOException {
        try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
            raf.seek(batchAt + BatchFormat.LENGTH_OFFSET);
            int length = raf.readInt();
            int flipped = length ^ (1 << bit);
            raf.seek(batchAt + BatchFormat.LENGTH_OFFSET);
            raf.writeInt(flipped);
            return flipped;
        }
    }

    private static int lengthAt(Path file, long batchAt) throws IOException {
        try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
            raf.seek(batchAt + BatchFormat.LENGTH_OFFSET);
            return raf.readInt();
        }
    }

    /**
     * A plain (pwrite) store: three durable batches, the last one's value ending in zeros (a
     * record of 4 KiB of zero bytes, which any binary payload may hold). Returns {start of batch 0,
     * start of batch 1, start of batch 2, end}.
     */
    private long[] threeDurableBatchesThenCrash(boolean mapped) throws IOException {
        long[] at = new long[4];
        try (LogStore store = LogStore.builder(dir).partitions(1).mappedAppends(mapped).open()) {
            at[0] = store.partitionInfo(0).sizeInBytes();
            store.append(0, List.of(Record.of(TestRecords.bytes("k"), TestRecords.bytes("first"), 1)));
            at[1] = store.partitionInfo(0).sizeInBytes();
            store.append(0, List.of(Record.of(TestRecords.bytes("k"), TestRecords.bytes("second"), 2)));
            at[2] = store.partitionInfo(0).sizeInBytes();
            store.append(0, List.of(Record.of(TestRecords.bytes("k"), new byte[4096], 3)));
            at[3] = store.partitionInfo(0).sizeInBytes();
            store.flush(); // all three acknowledged as durable
        }
        Crashes.forgetCleanClose(partition0()); // as a crash (or power loss) after the flush leaves it
        assertEquals(at[3], Files.size(activeLog()));
        return at;
    }

    /**
     * One bit flips in the length field of the first batch of the active segment (bit 12: +4096
     * bytes): its declared extent reaches into the zero bytes that end the third batch's value,
     * as a batch copied in part would. The intact second and third batches are found all the
     * same, and the open is refused ("an intact batch follows"), nothing changed.
     */
    @Test
    void aFlippedLengthBitInTheFirstBatchDoesNotLetRecoveryCutTheIntactBatchesAfterIt() throws IOException {
        long[] at = threeDurableBatchesThenCrash(false);
        Path log = activeLog();
        int original = lengthAt(log, at[0]);
        assertTrue(original < 4096);
        int flipped = flipLengthBit(log, at[0], 12);
        long extentEnd = at[0] + BatchFormat.LOG_OVERHEAD + flipped;
        assertTrue(extentEnd > at[2] + 64 && extentEnd <= at[3], "the stretched extent ends in batch 2's zeros");
        byte[] damaged = Files.readAllBytes(log);

        try {
            CorruptLogException refused = assertThrows(CorruptLogException.class, () -> LogStore.open(dir, 1),
                    "damage with intact batches after it must be refused under CorruptionPolicy.FAIL");
            assertTrue(refused.getMessage().contains("intact batch"), refused.getMessage());
        } finally {
            // Whatever the open did, say what it did to the file.
            byte[] after = Files.readAllBytes(log);
            assertArrayEquals(damaged, after, "the segment was changed: cut from " + damaged.length + " to "
                    + after.length + " bytes (batches 1 and 2, intact and flushed, were thrown away)");
        }
    }

    /**
     * The same damage is corruption to {@code verify}, not the end of a segment being written
     * that an open would cut: intact batches follow it.
     */
    @Test
    void verifyCallsAFlippedLengthBitWithIntactBatchesAfterItCorruption() throws IOException {
        long[] at = threeDurableBatchesThenCrash(false);
        flipLengthBit(activeLog(), at[0], 12);
        List<Finding> findings = new StoreVerifier(p -> { }).verify(dir);
        assertTrue(findings.stream().anyMatch(f -> f.severity() == Finding.Severity.CORRUPT),
                "damage followed by intact batches not reported as CORRUPT: " + findings);
    }

    /**
     * With mapped appends the zeros a writer reserved are there after any crash, so a flipped
     * length bit in any batch of the active segment (here bit 13: +8 KiB, inside the 16 KiB
     * window) stretches it into zeros; the intact batches after it still stop the open. The
     * reserved zeros a clean close cut are put back, as a killed mapped writer leaves them.
     */
    @Test
    void withMappedAppendsAFlippedLengthBitInAnEarlyBatchDoesNotCutTheIntactBatchesAfterIt() throws IOException {
        long[] at = new long[4];
        try (LogStore store = LogStore.builder(dir).partitions(1).mappedAppends(true).open()) {
            for (int i = 0; i < 3; i++) {
                at[i] = store.partitionInfo(0).sizeInBytes();
                store.append(0, List.of(TestRecords.numbered(i, i + 1)));
            }
            at[3] = store.partitionInfo(0).sizeInBytes();
            store.flush();
        }
        Crashes.forgetCleanClose(partition0());
        Path log = activeLog();
        try (RandomAccessFile raf = new RandomAccessFile(log.toFile(), "rw")) {
            raf.setLength(16 * 1024); // the reserved zeros a killed mapped writer leaves (its first window)
        }
        int flipped = flipLengthBit(log, at[0], 13);
        assertTrue(at[0] + BatchFormat.LOG_OVERHEAD + flipped > at[3]);
        byte[] damaged = Files.readAllBytes(log);

        try {
            assertThrows(CorruptLogException.class, () -> LogStore.open(dir, 1),
                    "damage with intact batches after it must be refused under CorruptionPolicy.FAIL");
        } finally {
            long after = Files.size(log);
            assertTrue(after >= at[3], "the segment was cut to " + after + " bytes: batches at " + at[1] + " and "
                    + at[2] + " (intact, flushed) were thrown away");
            assertArrayEquals(damaged, Files.readAllBytes(log), "the segment was changed");
        }
    }

    /**
     * A flipped high bit of a middle batch's length (bit 20: +1 MiB, past the end of the file)
     * makes the batch look torn ("N bytes declared, M present"); the intact batch after it is
     * found, and the policy decides, as for any bad bytes with an intact batch after them.
     */
    @Test
    void aLengthPointingPastTheEndOfTheFileDoesNotLetRecoveryCutTheIntactBatchesAfterIt() throws IOException {
        long[] at = threeDurableBatchesThenCrash(false);
        Path log = activeLog();
        flipLengthBit(log, at[1], 20);
        byte[] damaged = Files.readAllBytes(log);
        CorruptLogException refused = assertThrows(CorruptLogException.class, () -> LogStore.open(dir, 1),
                "flushed records 1 and 2 must not be cut without a word");
        assertTrue(refused.getMessage().contains("intact batch"), refused.getMessage());
        assertArrayEquals(damaged, Files.readAllBytes(log), "nothing was cut");
    }
}
