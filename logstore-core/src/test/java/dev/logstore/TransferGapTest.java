package dev.logstore;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.logstore.log.BatchReads;
import dev.logstore.record.BatchFormat;
import dev.logstore.record.Record;
import dev.logstore.record.RecordDecoder;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Transfers of a partition whose offsets have gaps (a compacted topic, transaction markers): a
 * transfer ends after its last whole batch, so the next one starts at an offset in the gap. A
 * fresh transfer from an offset in a gap checks the batch before it (its header might hide its
 * last records); the continuation of a transfer does not read that batch again, since it went
 * out whole and its receiver checks it. Only that very batch: the continuation checks any other
 * batch before a gap (a {@code Transfer} the caller built, the sent batch's length, checksum or
 * offsets damaged since, a segment of another writer epoch with the same base offset).
 */
class TransferGapTest {

    private static final int BATCHES = 30;
    private static final int RECORDS = 8;
    private static final int GAP = 5;

    @TempDir
    Path dir;

    private static long base(int batch) {
        return (long) batch * (RECORDS + GAP);
    }

    private static Record record(long offset) {
        byte[] value = new byte[4096];
        Arrays.fill(value, (byte) offset);
        return new Record(TestRecords.bytes("k" + offset), value, List.of(), offset);
    }

    /** Thirty batches of eight 4 KiB records, five offsets apart; returns the bytes they take. */
    private long writeGappedPartition() throws IOException {
        try (LogStore store = LogStore.builder(dir).partitions(1).segmentBytes(4 << 20).open()) {
            for (int b = 0; b < BATCHES; b++) {
                List<Record> batch = new ArrayList<>();
                long[] offsets = new long[RECORDS];
                for (int r = 0; r < RECORDS; r++) {
                    offsets[r] = base(b) + r;
                    batch.add(record(offsets[r]));
                }
                store.append(0, offsets, batch);
            }
            return store.partitionInfo(0).sizeInBytes();
        }
    }

    /**
     * Damages batch 12's last offset delta and record count to 3 and 4 (fields its checksum
     * covers): its header says it ends four records early, in what looks like a gap.
     */
    private void hideLastRecordsOfBatch12() throws IOException {
        Path log = TestFiles.segmentLogs(dir.resolve("partition-0")).get(0);
        long at = TestFiles.batchPositions(log).get(12);
        try (RandomAccessFile file = new RandomAccessFile(log.toFile(), "rw")) {
            file.seek(at + BatchFormat.LAST_OFFSET_DELTA_OFFSET);
            file.writeInt(3);
            file.seek(at + BatchFormat.RECORD_COUNT_OFFSET);
            file.writeInt(4);
        }
    }

    private interface Step {
        Transfer next(LogStore store, Transfer previous, ByteArrayOutputStream into);
    }

    /** Streams the partition one batch a call; returns the offsets decoded, in order. */
    private static List<Long> stream(LogStore store, Step step) {
        List<Long> offsets = new ArrayList<>();
        stream(store, step, offsets);
        return offsets;
    }

    /** Streams the partition one batch a call, adding the offsets decoded to {@code offsets} as they come. */
    private static void stream(LogStore store, Step step, List<Long> offsets) {
        Transfer t = null;
        for (int call = 0; call < 10 * BATCHES; call++) {
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            t = step.next(store, t, bytes);
            if (t.bytes() == 0) {
                return;
            }
            RecordDecoder.decodeWhole(ByteBuffer.wrap(bytes.toByteArray()), record -> {
                assertArrayEquals(record(record.offset()).value(), record.record().value());
                offsets.add(record.offset());
            });
        }
        throw new AssertionError("no end after " + 10 * BATCHES + " transfers");
    }

    private static List<Long> written(int batches) {
        List<Long> offsets = new ArrayList<>();
        for (int b = 0; b < batches; b++) {
            for (int r = 0; r < RECORDS; r++) {
                offsets.add(base(b) + r);
            }
        }
        return offsets;
    }

    private static Transfer byContinuation(LogStore store, Transfer previous, ByteArrayOutputStream into) {
        return previous == null ? store.transfer(0, 0, 1, Channels.newChannel(into))
                : store.transfer(0, previous, 1, Channels.newChannel(into));
    }

    /** A continuation from a {@code Transfer} the caller built: it has the offsets, not what was sent. */
    private static Transfer byRebuiltTransfer(LogStore store, Transfer previous, ByteArrayOutputStream into) {
        return previous == null ? store.transfer(0, 0, 1, Channels.newChannel(into)) : store.transfer(0,
                new Transfer(previous.bytes(), previous.nextOffset(), previous.nextBatchBytesSent()), 1,
                Channels.newChannel(into));
    }

    /**
     * A continuation from the store's {@code Transfer}, but remembering the sent batch's segment
     * as one of another writer epoch: as if a writer that took over had made a new segment with
     * the same base offset.
     */
    private static Transfer byTransferOfAnotherEpoch(LogStore store, Transfer previous, ByteArrayOutputStream into) {
        if (previous == null) {
            return store.transfer(0, 0, 1, Channels.newChannel(into));
        }
        BatchReads.SentBatch sent = previous.lastSent();
        return store.transfer(0, new Transfer(previous.bytes(), previous.nextOffset(), previous.nextBatchBytesSent(),
                new BatchReads.SentBatch(sent.handle(), sent.segment(), sent.epoch() + 1, sent.end(), sent.crc())), 1,
                Channels.newChannel(into));
    }

    private static Transfer byOffset(LogStore store, Transfer previous, ByteArrayOutputStream into) {
        return store.transfer(0, previous == null ? 0 : previous.nextOffset(), 1, Channels.newChannel(into));
    }

    @Test
    void aContinuationInAGapDoesNotReadTheBatchItSentAgain() throws IOException {
        long size = writeGappedPartition();
        FaultyFiles files = new FaultyFiles();
        try (LogStore store = LogStore.builder(dir).partitions(1).fileOpener(files).open()) {
            long before = files.segmentBytesRead.get();
            assertEquals(written(BATCHES), stream(store, TransferGapTest::byContinuation));
            long continuing = files.segmentBytesRead.get() - before;

            before = files.segmentBytesRead.get();
            assertEquals(written(BATCHES), stream(store, TransferGapTest::byOffset));
            long fromOffsets = files.segmentBytesRead.get() - before;

            // Both read a window of headers a call (about 8 KiB); from offsets, each call also
            // reads the whole batch before its offset again.
            assertTrue(fromOffsets - continuing > size * 3 / 4, "transfers from offsets in gaps read "
                    + fromOffsets + " bytes, continuations " + continuing + ", of " + size);
            assertTrue(continuing < size / 3, "continuations read headers only: " + continuing + " bytes of " + size);

            before = files.segmentBytesRead.get();
            assertEquals(written(BATCHES), stream(store, TransferGapTest::byRebuiltTransfer));
            long rebuilt = files.segmentBytesRead.get() - before;
            assertTrue(rebuilt - continuing > size * 3 / 4, "a continuation from a Transfer built by the caller "
                    + "checks the batch before each gap: it read " + rebuilt + " bytes, continuations " + continuing);

            before = files.segmentBytesRead.get();
            assertEquals(written(BATCHES), stream(store, TransferGapTest::byTransferOfAnotherEpoch));
            long otherEpoch = files.segmentBytesRead.get() - before;
            assertTrue(otherEpoch - continuing > size * 3 / 4, "a continuation into a segment of another writer "
                    + "epoch checks the batch before each gap: it read " + otherEpoch + " bytes, continuations "
                    + continuing);
        }
    }

    /**
     * The batch the previous transfer sent whole up to a gap, damaged in the file afterwards (its
     * header now hides its last records): the continuation finds a batch that ends where the sent
     * one did, with the same stored checksum, but not at the offset the transfer named, so it
     * checks it and reports the damage.
     */
    @Test
    void aContinuationChecksTheBatchItSentWhenItsHeaderChangedSince() throws IOException {
        writeGappedPartition();
        try (LogStore store = LogStore.builder(dir).partitions(1).open()) {
            Transfer throughBatch12 = null;
            for (int b = 0; b <= 12; b++) {
                throughBatch12 = byContinuation(store, throughBatch12, new ByteArrayOutputStream());
            }
            assertEquals(base(12) + RECORDS, throughBatch12.nextOffset(), "in the gap after batch 12");
            hideLastRecordsOfBatch12();
            Transfer previous = throughBatch12;
            CorruptLogException reported = assertThrows(CorruptLogException.class,
                    () -> store.transfer(0, previous, 1, Channels.newChannel(new ByteArrayOutputStream())));
            assertTrue(reported.getMessage().contains("CRC"), reported.getMessage());
        }
    }

    /**
     * Batch 12's header hides its last four records before the stream begins. The continuation
     * does not check it again, but it went out whole: the receiver's decoder reports it, after
     * every record before it.
     */
    @Test
    void aBatchWhoseHeaderHidesItsLastRecordsIsStillReported() throws IOException {
        writeGappedPartition();
        hideLastRecordsOfBatch12();
        try (LogStore store = LogStore.builder(dir).partitions(1).open()) {
            List<Long> decoded = new ArrayList<>();
            CorruptLogException reported = assertThrows(CorruptLogException.class,
                    () -> stream(store, TransferGapTest::byContinuation, decoded));
            assertEquals(written(12), decoded, "every record before the damaged batch, once, in order");
            assertTrue(reported.getMessage().contains("CRC"), reported.getMessage());

            // A fresh transfer from inside the hidden records checks the batch and says so.
            assertThrows(CorruptLogException.class,
                    () -> store.transfer(0, base(12) + 5, 1 << 20, Channels.newChannel(new ByteArrayOutputStream())));
        }
    }
}
