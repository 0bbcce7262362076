package dev.logstore;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.logstore.record.BatchFormat;
import dev.logstore.record.Record;
import dev.logstore.record.RecordDecoder;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A stream of continuations, transfer(partition, previous, ...), over a batch whose base offset
 * (a field its checksum covers) is damaged so that it claims to end where the batch before it
 * ends: the continuation from that offset steps over it, and must check it rather than take it
 * for the batch the previous call sent. Else its records are skipped without a word (an
 * optimisation that trusted the batch ending at the continuation's offset did exactly that).
 */
class TransferContinuationStepOverTest {

    private static final int BATCHES = 10;
    private static final int RECORDS = 5;

    @TempDir
    Path dir;

    /** Ten batches of five records, offsets 0..49 with no gap at all. */
    private void write(LogStore.Builder builder) {
        write(builder, 0);
    }

    private void write(LogStore.Builder builder, int pad) {
        try (LogStore store = builder.open()) {
            for (int b = 0; b < BATCHES; b++) {
                List<Record> batch = new ArrayList<>();
                for (int r = 0; r < RECORDS; r++) {
                    batch.add(new Record(TestRecords.bytes("k"), TestRecords.bytes("v" + (b * RECORDS + r) + "x".repeat(pad)), List.of(), 1));
                }
                store.append(0, (long) b * RECORDS, batch);
            }
        }
    }

    private static List<Long> all() {
        List<Long> offsets = new ArrayList<>();
        for (long o = 0; o < BATCHES * RECORDS; o++) {
            offsets.add(o);
        }
        return offsets;
    }

    /** Damages the base offset of the batch of {@code batch} (0-based over all segments) to end where the one before ends. */
    private void damageBaseOffset(int batch) throws IOException {
        int seen = 0;
        for (Path log : TestFiles.segmentLogs(dir.resolve("partition-0"))) {
            for (long at : TestFiles.batchPositions(log)) {
                if (seen++ == batch) {
                    // real offsets batch*5 .. batch*5+4; claimed (batch-1)*5 .. batch*5-1
                    TestFiles.putLong(log, at + BatchFormat.BASE_OFFSET_OFFSET, (long) (batch - 1) * RECORDS);
                    return;
                }
            }
        }
        throw new AssertionError("no batch " + batch);
    }

    /** One batch a call, each call's bytes decoded with decodeWhole, as the README says. */
    private static List<Long> streamByContinuation(LogStore store) {
        List<Long> decoded = new ArrayList<>();
        Transfer t = null;
        for (int call = 0; call < 100; call++) {
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            t = t == null ? store.transfer(0, 0, 1, Channels.newChannel(bytes))
                    : store.transfer(0, t, 1, Channels.newChannel(bytes));
            if (t.bytes() == 0) {
                return decoded;
            }
            RecordDecoder.decodeWhole(ByteBuffer.wrap(bytes.toByteArray()), r -> decoded.add(r.offset()));
        }
        throw new AssertionError("no end");
    }

    private void assertReportedOrComplete(LogStore store) {
        List<Long> decoded = new ArrayList<>();
        try {
            decoded.addAll(streamByContinuation(store));
        } catch (CorruptLogException expected) {
            return; // the damage was reported: fine
        }
        assertEquals(all(), decoded, "continuations ended without an error, but records are missing");
    }

    @Test
    void damagedBaseOffsetInTheMiddleOfASegment() throws IOException {
        write(LogStore.builder(dir).partitions(1));
        damageBaseOffset(3); // real 15..19, claims 10..14 like batch 2
        try (LogStore store = LogStore.builder(dir).partitions(1).open()) {
            // The offset overload reports it:
            assertThrows(CorruptLogException.class,
                    () -> store.transfer(0, 15, 1, Channels.newChannel(new ByteArrayOutputStream())));
            // And so does a continuation, which must not skip 15..19:
            assertReportedOrComplete(store);
        }
    }

    @Test
    void damagedBaseOffsetOfTheFirstBatchOfTheNextSegment() throws IOException {
        // a segment a batch or so: the damaged batch opens a segment, the one before ends the previous one
        write(LogStore.builder(dir).partitions(1).segmentBytes(1024), 250);
        List<Path> logs = TestFiles.segmentLogs(dir.resolve("partition-0"));
        org.junit.jupiter.api.Assumptions.assumeTrue(logs.size() >= 5, "segments: " + logs.size());
        // find the batch that starts segment #3
        int batch = 0;
        for (int s = 0; s < 3; s++) {
            batch += TestFiles.batchPositions(logs.get(s)).size();
        }
        damageBaseOffset(batch);
        try (LogStore store = LogStore.builder(dir).partitions(1).open()) {
            assertReportedOrComplete(store);
        }
    }

    @Test
    void damagedBaseOffsetOfTheLastBatchOfThePartition() throws IOException {
        write(LogStore.builder(dir).partitions(1));
        damageBaseOffset(BATCHES - 1); // real 45..49, claims 40..44
        try (LogStore store = LogStore.builder(dir).partitions(1).open()) {
            assertEquals(BATCHES * RECORDS, store.partitionInfo(0).nextOffset());
            // A continuation must not say "end of partition" at 45 while the next offset is 50.
            assertReportedOrComplete(store);
        }
    }
}
