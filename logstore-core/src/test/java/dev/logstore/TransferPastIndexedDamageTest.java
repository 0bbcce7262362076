package dev.logstore;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.logstore.record.BatchFormat;
import dev.logstore.record.RecordDecoder;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.WritableByteChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A transfer sends the batches its index jump steps over as they are stored: a damaged length
 * there reaches the receiver, whose decoder of the transfer's whole batches reports it after the
 * intact records, and the transfers after it never skip records silently. A non-blocking channel
 * that takes part of such a transfer gets a count and a place to continue, not an exception after
 * the bytes went out.
 */
class TransferPastIndexedDamageTest {

    @TempDir
    Path dir;

    private Path fillAndPickSegment() throws IOException {
        TestRecords.appendNumbered(LogStore.builder(dir).segmentBytes(20_000), 400);
        Path log = TestFiles.segmentLogs(dir.resolve("partition-0")).get(1);
        assertTrue(Files.exists(log.resolveSibling(log.getFileName().toString().replace(".log", ".index"))));
        return log;
    }



    /**
     * Batch k's length field says the batch runs 1000 bytes past the segment's end (a damaged
     * length). A transfer from the segment's first batch either stops before it or sends it as
     * stored; then the decoder of the sent bytes, which are whole batches, reports it after the
     * intact records (before, it took the damaged batch for one cut by the buffer's end and
     * stopped without a word, and the next transfer went on past the records behind it).
     */
    @Test
    void aLengthRunningPastTheSegmentEndIsStoppedAtOrReported() throws IOException {
        Path log = fillAndPickSegment();
        long base = TestFiles.baseOffset(log);
        List<Long> positions = TestFiles.batchPositions(log);
        long size = Files.size(log);
        int k = 10;
        long at = positions.get(k);
        TestFiles.putInt(log, at + BatchFormat.LENGTH_OFFSET, (int) (size - at - BatchFormat.LOG_OVERHEAD + 1000));
        try (LogStore store = LogStore.builder(dir).partitions(1).segmentBytes(20_000).open()) {
            // The reader reports the damage after the intact records: the promise holds there.
            try (LogReader reader = store.reader(0).seek(base)) {
                assertEquals(k, reader.poll(1000, 1 << 20).size());
                assertThrows(CorruptLogException.class, () -> reader.poll(1000, 1 << 20));
            }
            ByteArrayOutputStream sent = new ByteArrayOutputStream();
            Transfer transfer = store.transfer(0, base, 1 << 20, java.nio.channels.Channels.newChannel(sent));
            if (transfer.bytes() == at) {
                return; // stopped before the damage: fine
            }
            List<Long> decoded = new ArrayList<>();
            try {
                RecordDecoder.decodeWhole(ByteBuffer.wrap(sent.toByteArray()), r -> decoded.add(r.offset()));
            } catch (CorruptLogException e) {
                return; // the decoder's checksum reports it: fine
            }
            // Neither: what would the next transfer do?
            Transfer next = store.transfer(0, transfer.nextOffset(), 1 << 20,
                    java.nio.channels.Channels.newChannel(new ByteArrayOutputStream()));
            fail("transfer sent " + transfer.bytes() + " bytes past the damaged batch at " + at
                    + "; decoding them returned " + decoded.size() + " records (offsets " + decoded.get(0) + ".."
                    + decoded.get(decoded.size() - 1) + ") and no error; the next transfer from "
                    + transfer.nextOffset() + " returned " + next + " without error: offsets " + (base + k) + ".."
                    + (transfer.nextOffset() - 1) + " silently skipped");
        }
    }

    /** A channel that takes at most {@code capacity} bytes in all, then nothing (non-blocking, full). */
    static final class PartialChannel implements WritableByteChannel {
        final ByteArrayOutputStream taken;
        long room;

        PartialChannel(long capacity) {
            this(capacity, new ByteArrayOutputStream());
        }

        /** Adds what it takes to {@code into}. */
        PartialChannel(long capacity, ByteArrayOutputStream into) {
            this.room = capacity;
            this.taken = into;
        }

        /** A channel into {@code into} taking at most {@code perCall} bytes a transfer, or everything (0). */
        static WritableByteChannel perCall(ByteArrayOutputStream into, int perCall) {
            return perCall == 0 ? java.nio.channels.Channels.newChannel(into) : new PartialChannel(perCall, into);
        }

        @Override
        public int write(ByteBuffer src) {
            int n = (int) Math.min(room, src.remaining());
            byte[] bytes = new byte[n];
            src.get(bytes);
            taken.write(bytes, 0, n);
            room -= n;
            return n;
        }

        @Override
        public boolean isOpen() {
            return true;
        }

        @Override
        public void close() {
        }
    }

    /**
     * Magic byte of batch k damaged. A transfer from the segment's first batch jumps through the
     * index past it; a non-blocking channel takes the intact batches and a few bytes of the
     * damaged one (or exactly the intact batches). The transfer says how many bytes went out and
     * where to continue, and the continuation reports the damage (before, working out where it
     * stopped, the transfer read the damaged header and threw after the bytes went out).
     */
    @Test
    void aPartialTransferPastADamagedHeaderSaysWhereItStopped() throws IOException {
        Path log = fillAndPickSegment();
        long base = TestFiles.baseOffset(log);
        List<Long> positions = TestFiles.batchPositions(log);
        int k = 10;
        long at = positions.get(k);
        TestFiles.putByte(log, at + BatchFormat.MAGIC_OFFSET, 0x7f);
        try (LogStore store = LogStore.builder(dir).partitions(1).segmentBytes(20_000).open()) {
            List<String> failures = new ArrayList<>();
            for (long capacity : new long[] {at, at + 10}) {
                PartialChannel channel = new PartialChannel(capacity);
                try {
                    Transfer t = store.transfer(0, base, 1 << 20, channel);
                    assertEquals(channel.taken.size(), t.bytes());
                    assertThrows(CorruptLogException.class, () -> store.transfer(0, t, 1 << 20,
                            java.nio.channels.Channels.newChannel(new ByteArrayOutputStream())),
                            "the continuation after " + t + " reports the damage");
                } catch (CorruptLogException e) {
                    if (channel.taken.size() > 0) {
                        failures.add("channel taking " + capacity + " bytes: transfer threw after sending "
                                + channel.taken.size() + " bytes: " + e.getMessage());
                    }
                }
            }
            if (!failures.isEmpty()) {
                fail(String.join("\n", failures));
            }
        }
    }
}
