package dev.logstore;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.fail;

import dev.logstore.record.BatchFormat;
import dev.logstore.record.BatchHeader;
import dev.logstore.record.Record;
import dev.logstore.record.RecordDecoder;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.apache.commons.io.file.PathUtils;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A {@code Transfer} carried from one partition to another: what it remembers of the batch it
 * sent is bound to the partition (and store) that sent it. Partition 1 holds a batch that a
 * producer wrote to share its stored checksum with partition 0's first batch (four bytes of a
 * record value chosen: CRC-32C is affine, so they are solved for, not searched), the same size,
 * ending at the same place in a segment with the same base offset; one field of it is then
 * damaged (its last offset delta 14 to 9, hiding its record at offset 14). Every way of starting
 * at offset 10 of partition 1 must report the damage, the continuation of partition 0's
 * {@code Transfer} included: its receiver never had partition 1's batch.
 */
class TransferForeignContinuationTest {

    @TempDir
    Path root;

    private static final byte[] MARK = "FORGE".getBytes(StandardCharsets.US_ASCII);

    private static Record record(byte[] value) {
        return new Record(TestRecords.bytes("k"), value, List.of(), 1_000);
    }

    private static byte[] value(long offset) {
        byte[] v = new byte[80];
        Arrays.fill(v, (byte) ('a' + offset % 26));
        return v;
    }

    /**
     * Partition 0: X = offsets 0..9, then 20..23 and 30..33. Partition 1: X' = offsets 0..8 and
     * 14 (ten records, the same sizes), record 0's value starting with {@code forged} (4 bytes)
     * and "FORGE"; then 20..23 and 30..33. Segments of 1 KiB: X and X' each fill one segment.
     */
    private static void write(Path dir, byte[] forged) {
        try (LogStore store = LogStore.builder(dir).partitions(2).segmentBytes(1024).open()) {
            long[] x = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9};
            long[] x1 = {0, 1, 2, 3, 4, 5, 6, 7, 8, 14};
            List<Record> px = new ArrayList<>();
            List<Record> px1 = new ArrayList<>();
            for (int i = 0; i < 10; i++) {
                px.add(record(value(x[i])));
                byte[] v = value(x1[i]);
                if (i == 0) {
                    System.arraycopy(forged, 0, v, 0, 4);
                    System.arraycopy(MARK, 0, v, 4, MARK.length);
                }
                px1.add(record(v));
            }
            store.append(0, x, px);
            store.append(1, x1, px1);
            for (int p = 0; p < 2; p++) {
                for (long base : new long[] {20, 30}) {
                    List<Record> rs = new ArrayList<>();
                    long[] offs = new long[4];
                    for (int i = 0; i < 4; i++) {
                        offs[i] = base + i;
                        rs.add(record(value(base + i)));
                    }
                    store.append(p, offs, rs);
                }
            }
        }
    }

    private static byte[] firstBatch(Path dir, int partition) throws IOException {
        Path log = TestFiles.segmentLogs(dir.resolve("partition-" + partition)).get(0);
        byte[] all = Files.readAllBytes(log);
        int size = BatchFormat.LOG_OVERHEAD + ByteBuffer.wrap(all).getInt(BatchFormat.LENGTH_OFFSET);
        return Arrays.copyOf(all, size);
    }

    private static int indexOf(byte[] hay, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= hay.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (hay[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }

    private static int crc(byte[] batch) {
        return BatchHeader.computeCrc(ByteBuffer.wrap(batch), 0, batch.length);
    }

    /** The four bytes to XOR into {@code batch} at {@code at} to make its CRC-32C {@code target}. */
    private static int forge(byte[] batch, int at, int target) {
        int base = crc(batch);
        int[] delta = new int[32];
        for (int bit = 0; bit < 32; bit++) {
            byte[] b = batch.clone();
            b[at + bit / 8] ^= (byte) (1 << (bit % 8));
            delta[bit] = crc(b) ^ base;
        }
        // Solve XOR_{bit in e} delta[bit] == base ^ target over GF(2).
        int[] rows = delta.clone();
        int[] combo = new int[32];
        for (int i = 0; i < 32; i++) {
            combo[i] = 1 << i;
        }
        int want = base ^ target;
        int result = 0;
        for (int col = 31; col >= 0; col--) {
            int pivot = -1;
            for (int r = 0; r < 32; r++) {
                if (rows[r] != 0 && Integer.numberOfLeadingZeros(rows[r]) == 31 - col) {
                    pivot = r;
                    break;
                }
            }
            if (pivot < 0) {
                continue;
            }
            for (int r = 0; r < 32; r++) {
                if (r != pivot && ((rows[r] >>> col) & 1) != 0) {
                    rows[r] ^= rows[pivot];
                    combo[r] ^= combo[pivot];
                }
            }
            if (((want >>> col) & 1) != 0) {
                want ^= rows[pivot];
                result ^= combo[pivot];
            }
            rows[pivot] = 0; // used
        }
        assertEquals(0, want, "no solution");
        return result;
    }

    @Test
    void aContinuationCarriedToAnotherPartitionChecksItsBatch() throws IOException {
        // 1. Learn partition 1's batch bytes with a placeholder, and choose the four value bytes.
        Path scratch = root.resolve("scratch");
        write(scratch, new byte[4]);
        byte[] x = firstBatch(scratch, 0);
        byte[] x1 = firstBatch(scratch, 1);
        assertEquals(x.length, x1.length, "same size");
        int at = indexOf(x1, MARK) - 4;
        int target = ByteBuffer.wrap(x).getInt(BatchFormat.CRC_OFFSET);
        int e = forge(x1, at, target);
        byte[] forged = new byte[4];
        for (int bit = 0; bit < 32; bit++) {
            if (((e >>> bit) & 1) != 0) {
                forged[bit / 8] ^= (byte) (1 << (bit % 8));
            }
        }
        PathUtils.deleteDirectory(scratch);

        // 2. The store as the producer wrote it: the writer computed the two equal CRCs itself.
        Path dir = root.resolve("store");
        write(dir, forged);
        x = firstBatch(dir, 0);
        x1 = firstBatch(dir, 1);
        assertEquals(ByteBuffer.wrap(x).getInt(BatchFormat.CRC_OFFSET), ByteBuffer.wrap(x1).getInt(BatchFormat.CRC_OFFSET),
                "the writer gave both batches the same CRC");
        List<Long> p1 = new ArrayList<>();
        RecordDecoder.decodeWhole(ByteBuffer.wrap(x1), r -> p1.add(r.offset()));
        assertEquals(List.of(0L, 1L, 2L, 3L, 4L, 5L, 6L, 7L, 8L, 14L), p1, "partition 1's batch is intact");

        // 3. One field of partition 1's batch damaged: last offset delta 14 -> 9 (offset 14 hidden).
        Path log1 = TestFiles.segmentLogs(dir.resolve("partition-1")).get(0);
        TestFiles.putInt(log1, BatchFormat.LAST_OFFSET_DELTA_OFFSET, 9);

        try (LogStore store = LogStore.builder(dir).partitions(2).segmentBytes(1024).open()) {
            Transfer t0 = store.transfer(0, 0, 1, Channels.newChannel(new ByteArrayOutputStream()));
            assertEquals(10, t0.nextOffset(), "partition 0's transfer ends in its gap 10..19");

            // From the offset, and from a Transfer the caller built:
            assertThrows(CorruptLogException.class,
                    () -> store.transfer(1, 10, 1, Channels.newChannel(new ByteArrayOutputStream())));
            Transfer equal = new Transfer(t0.bytes(), t0.nextOffset(), t0.nextBatchBytesSent());
            assertEquals(t0, equal, "Transfer.equals says they are the same");
            assertThrows(CorruptLogException.class,
                    () -> store.transfer(1, equal, 1, Channels.newChannel(new ByteArrayOutputStream())));

            // And the continuation of partition 0's Transfer, which remembers partition 0's batch:
            List<Long> decoded = new ArrayList<>();
            try {
                Transfer t = t0;
                for (int call = 0; call < 20; call++) {
                    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
                    t = store.transfer(1, t, 1, Channels.newChannel(bytes));
                    if (t.bytes() == 0) {
                        break;
                    }
                    RecordDecoder.decodeWhole(ByteBuffer.wrap(bytes.toByteArray()), r -> decoded.add(r.offset()));
                }
            } catch (CorruptLogException reported) {
                return; // the damage is reported
            }
            fail("the continuation on partition 1 delivered " + decoded + " and ended without a report; offset 14 "
                    + "(in partition 1's damaged batch) was skipped");
        }
    }
}
