package dev.logstore;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.logstore.log.Crashes;
import dev.logstore.record.Record;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A crash in the middle of writing a batch whose record value holds the bytes of a LogStore
 * batch (a mirror, an archiver, a test harness storing batches as values): the written prefix of
 * the torn batch contains an embedded batch with a valid header and CRC. Recovery looks for intact
 * batches after a torn batch (its declared length may be the damage), but only for batches of
 * later offsets than the torn one's: the embedded copy is not taken for data after damage, and
 * the torn end is cut, as a crash leaves it to be.
 */
class TornBatchHoldingABatchTest {

    @TempDir
    Path dir;
    @TempDir
    Path donorDir;

    private static Path activeLog(Path partition) throws IOException {
        try (Stream<Path> files = Files.list(partition)) {
            return files.filter(f -> f.toString().endsWith(".log")).sorted().reduce((a, b) -> b).orElseThrow();
        }
    }

    /** The bytes of a batch of base offset 1, as another store wrote it. */
    private byte[] donorBatchAtOffsetOne() throws IOException {
        long from;
        long to;
        try (LogStore donor = LogStore.builder(donorDir).partitions(1).open()) {
            donor.append(0, List.of(Record.of(TestRecords.bytes("k"), TestRecords.bytes("zero"), 1)));
            from = donor.partitionInfo(0).sizeInBytes();
            donor.append(0, List.of(Record.of(TestRecords.bytes("k"), TestRecords.bytes("embedded"), 2)));
            to = donor.partitionInfo(0).sizeInBytes();
        }
        byte[] all = Files.readAllBytes(activeLog(donorDir.resolve("partition-0")));
        return Arrays.copyOfRange(all, (int) from, (int) to);
    }

    /**
     * One flushed batch, then a batch whose value is [donor batch][32 KiB of random bytes];
     * returns {end of the flushed batch, end of the embedded batch in the file}.
     */
    private long[] flushedBatchThenBatchCarryingABatch() throws IOException {
        byte[] embedded = donorBatchAtOffsetOne();
        byte[] value = new byte[embedded.length + 32 * 1024];
        new Random(7).nextBytes(value);
        for (int i = 0; i < value.length; i++) {
            if (value[i] == 0) {
                value[i] = 1; // no zero run in the payload: the only zeros are the crash's
            }
        }
        System.arraycopy(embedded, 0, value, 0, embedded.length);
        long durableEnd;
        try (LogStore store = LogStore.builder(dir).partitions(1).open()) {
            store.append(0, List.of(Record.of(TestRecords.bytes("k"), TestRecords.bytes("first"), 1)));
            store.flush();
            durableEnd = store.partitionInfo(0).sizeInBytes();
            store.append(0, List.of(Record.of(TestRecords.bytes("k"), value, 2)));
        }
        Crashes.forgetCleanClose(dir.resolve("partition-0"));
        Path log = activeLog(dir.resolve("partition-0"));
        byte[] file = Files.readAllBytes(log);
        int at = indexOf(file, embedded, (int) durableEnd);
        assertTrue(at > durableEnd, "the embedded batch is in the second batch's payload");
        return new long[] {durableEnd, at + embedded.length};
    }

    private static int indexOf(byte[] haystack, byte[] needle, int from) {
        outer:
        for (int i = from; i + needle.length <= haystack.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (haystack[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }

    /** A plain (pwrite) writer killed mid-write: the file holds the first pages of the last batch. */
    @Test
    void aPwriteCrashInsideABatchWhosePayloadHoldsABatchIsCutNotRefused() throws IOException {
        long[] at = flushedBatchThenBatchCarryingABatch();
        Path log = activeLog(dir.resolve("partition-0"));
        long cut = (at[1] + 4095) / 4096 * 4096; // the pages written before the crash
        assertTrue(cut < Files.size(log));
        try (RandomAccessFile raf = new RandomAccessFile(log.toFile(), "rw")) {
            raf.setLength(cut);
        }
        try (LogStore store = LogStore.open(dir, 1)) {
            assertEquals(at[0], store.partitionInfo(0).sizeInBytes(), "cut back to the flushed batch");
        }
    }

    /** A mapped writer killed mid-copy: the batch's first pages, then the zeros the writer reserved. */
    @Test
    void aMappedCopyCutShortInsideABatchWhosePayloadHoldsABatchIsCutNotRefused() throws IOException {
        long[] at = flushedBatchThenBatchCarryingABatch();
        Path log = activeLog(dir.resolve("partition-0"));
        long copied = (at[1] + 4095) / 4096 * 4096;
        long reserved = Files.size(log) + 16 * 1024;
        try (RandomAccessFile raf = new RandomAccessFile(log.toFile(), "rw")) {
            raf.setLength(copied);
            raf.setLength(reserved); // zeros from the cut copy on, as the window reserved them
        }
        try (LogStore store = LogStore.open(dir, 1)) {
            assertEquals(at[0], store.partitionInfo(0).sizeInBytes(), "cut back to the flushed batch");
        }
    }
}
