package dev.logstore;

import static org.junit.jupiter.api.Assertions.fail;

import dev.logstore.record.BatchFormat;
import dev.logstore.record.RecordDecoder;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A consumer streaming transfer after transfer through a non-blocking channel with room for a few
 * bytes each call, over a batch whose base offset is damaged: the transfer that stops inside that
 * batch checks it before it names its base offset as where to resume, so the stream reports the
 * damage after the intact records, instead of skipping a record, going back to offset 0 for ever,
 * or ending early without a word.
 */
class TransferPartialSendDamageTest {

    @TempDir
    Path dir;

    private long base;
    private long at;

    /** Segment 1 (base 276, index files, default 4 KiB interval) with batch k's base offset set to {@code newBase}. */
    private LogStore damagedStore(int k, long newBase) throws IOException {
        return damagedStore(k, BatchFormat.BASE_OFFSET_OFFSET, f -> f.writeLong(newBase));
    }

    private interface Damage {
        void write(RandomAccessFile file) throws IOException;
    }

    /** Segment 1 with batch k's header field at {@code field} overwritten by {@code damage}. */
    private LogStore damagedStore(int k, int field, Damage damage) throws IOException {
        TestRecords.appendNumbered(LogStore.builder(dir).segmentBytes(20_000), 400);
        Path log = TestFiles.segmentLogs(dir.resolve("partition-0")).get(1);
        base = TestFiles.baseOffset(log);
        at = TestFiles.batchPositions(log).get(k);
        try (RandomAccessFile f = new RandomAccessFile(log.toFile(), "rw")) {
            f.seek(at + field);
            damage.write(f);
        }
        return LogStore.builder(dir).partitions(1).segmentBytes(20_000).open();
    }

    /** Batch k's length field, as stored, plus {@code delta}. */
    private LogStore lengthDamagedStore(int k, int delta) throws IOException {
        return damagedStore(k, BatchFormat.LENGTH_OFFSET, f -> {
            int length = f.readInt();
            f.seek(at + BatchFormat.LENGTH_OFFSET);
            f.writeInt(length + delta);
        });
    }

    /**
     * A consumer on a non-blocking channel with room for 33 bytes a call, streaming from the
     * segment's base with maxBytes 1 MiB and decoding what it holds with decodeWhole at every
     * batch boundary. Fails unless the records before batch k come once each, in order, and then
     * the damage is reported (by transfer or by the decoder).
     */
    private void expectIntactThenReport(int k, String what, LogStore store) {
        expectIntactThenReport(k, what, store, 33);
    }

    private void expectIntactThenReport(int k, String what, LogStore store, int room) {
        List<Long> offsets = new ArrayList<>();
        List<String> trace = new ArrayList<>();
        ByteArrayOutputStream pending = new ByteArrayOutputStream();
        Transfer t = null;
        String end = "no end after 3000 calls";
        try {
            for (int call = 0; call < 3000; call++) {
                TransferPastIndexedDamageTest.PartialChannel ch = new TransferPastIndexedDamageTest.PartialChannel(room);
                t = t == null ? store.transfer(0, base, 1 << 20, ch) : store.transfer(0, t, 1 << 20, ch);
                pending.writeBytes(ch.taken.toByteArray());
                if (t.bytes() == 0) {
                    end = "end of partition: " + t + " with " + pending.size() + " bytes of a batch held";
                    break;
                }
                if (t.atBatchBoundary()) {
                    List<Long> got = new ArrayList<>();
                    RecordDecoder.decodeWhole(ByteBuffer.wrap(pending.toByteArray()), r -> got.add(r.offset()));
                    pending.reset();
                    if (!got.isEmpty() && !offsets.isEmpty() && got.get(0) <= offsets.get(offsets.size() - 1)) {
                        trace.add("call " + call + ": after " + offsets.get(offsets.size() - 1) + " decoded " + got);
                    }
                    offsets.addAll(got);
                }
                if (call < 3 || (t.nextOffset() >= base + k - 1 && trace.size() < 12)) {
                    trace.add("call " + call + ": " + t);
                }
            }
        } catch (CorruptLogException e) {
            List<Long> intact = new ArrayList<>();
            for (long o = base; o < base + k; o++) {
                intact.add(o);
            }
            if (offsets.equals(intact.subList(0, Math.min(offsets.size(), k)))) {
                return; // reported, after intact records only
            }
            end = "reported: " + e.getMessage();
        }
        long distinct = offsets.stream().distinct().count();
        List<Long> after = new ArrayList<>();
        for (long o : offsets) {
            if (o >= base + k) {
                after.add(o);
            }
        }
        fail(what + ": " + end + "; decoded " + offsets.size() + " records, " + distinct + " distinct; offsets at or"
                + " past the damaged batch's " + (base + k) + ": " + (after.size() > 8 ? after.subList(0, 8) + "... ("
                + after.size() + ")" : after) + "; trace " + trace);
    }

    @Test
    void aBaseOffsetDamagedByOneIsReportedNotSkipped() throws IOException {
        try (LogStore store = damagedStore(56, 276 + 56 + 1)) {
            expectIntactThenReport(56, "batch 56's base offset 332 -> 333", store);
        }
    }

    @Test
    void aBaseOffsetDamagedToZeroIsReportedNotReplayed() throws IOException {
        try (LogStore store = damagedStore(51, 0)) {
            expectIntactThenReport(51, "batch 51's base offset 327 -> 0", store);
        }
    }

    /**
     * Batch 56 of the segment lies just before a batch the offset index knows. The transfer that
     * stops inside the bytes after it walked batch 56's damaged length to a header that is not
     * one; its continuation, found through the index, was refused with IllegalArgumentException
     * ("cannot resume") instead of the damage being reported.
     */
    @Test
    void aLengthDamagedJustBeforeAnIndexedBatchIsReportedNotRefused() throws IOException {
        try (LogStore store = lengthDamagedStore(56, 20)) {
            expectIntactThenReport(56, "batch 56's length 20 bytes longer", store, 500);
        }
    }

    /** Lengths damaged by a byte to 9,000 either way, at batches near and far from index entries, three channel sizes. */
    @Test
    void aDamagedLengthIsReportedAfterTheIntactRecordsWhereverAPartialSendStops() throws IOException {
        Path root = dir;
        List<String> failed = new ArrayList<>();
        int store = 0;
        for (int k : new int[] {1, 20, 50, 53, 56, 70}) {
            for (int delta : new int[] {-200, -100, -41, -20, -8, -1, 1, 8, 20, 41, 100, 300, 2000, 9000}) {
                for (int room : new int[] {33, 500, 5000}) {
                    dir = root.resolve("store-" + store++);
                    try (LogStore damaged = lengthDamagedStore(k, delta)) {
                        expectIntactThenReport(k, "batch " + k + "'s length " + delta + " bytes off", damaged, room);
                    } catch (AssertionError | RuntimeException e) {
                        failed.add(room + " bytes a call: " + e);
                    }
                }
            }
        }
        if (!failed.isEmpty()) {
            fail(failed.size() + " cases failed:\n" + String.join("\n", failed));
        }
    }

    @Test
    void aBaseOffsetDamagedForwardsIsReportedNotTheEnd() throws IOException {
        try (LogStore store = damagedStore(50, 276 + 50 + 1000)) {
            expectIntactThenReport(50, "batch 50's base offset 326 -> 1326", store);
        }
    }
}
