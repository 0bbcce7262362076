package dev.logstore;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import dev.logstore.record.BatchFormat;
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
 * A transfer whose maxBytes ends exactly at a batch with a damaged base offset (a field its
 * checksum covers, which a header check cannot see) continues from the end of the last batch it
 * sent, never from the damaged base offset: a consumer streaming with
 * transfer(partition, previous, ...) hears of the damage instead of being sent back to offset 0,
 * round in a loop, or past the end.
 */
class TransferContinuationTest {

    @TempDir
    Path dir;


    /** Streams like a zero-copy consumer: transfer after transfer, decoding each chunk. */
    private static List<Long> stream(LogStore store, long from, long maxBytes, int maxTransfers, List<String> log) {
        List<Long> offsets = new ArrayList<>();
        Transfer t = null;
        for (int i = 0; i < maxTransfers; i++) {
            ByteArrayOutputStream sent = new ByteArrayOutputStream();
            t = t == null ? store.transfer(0, from, maxBytes, Channels.newChannel(sent))
                    : store.transfer(0, t, maxBytes, Channels.newChannel(sent));
            if (i < 4 || t.bytes() == 0) {
                log.add("transfer " + i + ": " + t);
            }
            if (t.bytes() == 0) {
                break; // at the end: a tailing consumer would wait here for offset t.nextOffset()
            }
            RecordDecoder.decodeWhole(ByteBuffer.wrap(sent.toByteArray()), r -> offsets.add(r.offset()));
        }
        return offsets;
    }

    private void run(long damagedBase, String expectation) throws IOException {
        TestRecords.appendNumbered(LogStore.builder(dir).segmentBytes(20_000), 400);
        Path log = TestFiles.segmentLogs(dir.resolve("partition-0")).get(1); // base 276
        long base = TestFiles.baseOffset(log);
        List<Long> positions = TestFiles.batchPositions(log);
        int k = 5;
        long at = positions.get(k);
        TestFiles.putLong(log, at + BatchFormat.BASE_OFFSET_OFFSET, damagedBase);
        try (LogStore store = LogStore.builder(dir).partitions(1).segmentBytes(20_000).open()) {
            List<String> steps = new ArrayList<>();
            List<Long> offsets;
            try {
                offsets = stream(store, base, at, 20, steps);
            } catch (CorruptLogException e) {
                return; // the damage was reported: the promise holds
            }
            // Not reported. A reader does report it after exactly the intact records:
            try (LogReader reader = store.reader(0).seek(base)) {
                assertEquals(k, reader.poll(1000, 1 << 20).size());
                org.junit.jupiter.api.Assertions.assertThrows(CorruptLogException.class, () -> reader.poll(1000, 1 << 20));
            }
            fail(expectation + ": batch " + k + " of " + log.getFileName() + " (offset " + (base + k) + ", at byte " + at
                    + ") has base offset " + damagedBase + "; streaming transfers of maxBytes " + at + " from " + base
                    + " never report it: " + steps + "; offsets decoded: " + offsets.size() + ", first "
                    + offsets.subList(0, Math.min(8, offsets.size())) + ", distinct " + offsets.stream().distinct().count());
        }
    }

    @Test
    void aBaseOffsetDamagedBackwardsDoesNotSendTheStreamBackToTheStart() throws IOException {
        run(0, "sent back to offset 0");
    }

    @Test
    void aBaseOffsetDamagedToTheSegmentStartDoesNotLoop() throws IOException {
        run(276, "loops for ever");
    }

    @Test
    void aBaseOffsetDamagedForwardsDoesNotSendTheStreamPastTheEnd() throws IOException {
        run(276 + 5 + 1000, "sent past the end");
    }
}
