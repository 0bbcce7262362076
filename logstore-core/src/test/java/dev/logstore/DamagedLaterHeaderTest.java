package dev.logstore;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.logstore.record.BatchFormat;
import dev.logstore.record.RecordDecoder;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A batch with a damaged header after the batch a read starts with: {@code read(offset)} and
 * {@code transfer} return the intact batches before it, as a reader's {@code poll} returns the
 * records before damage, and the call that starts at the damaged batch reports it with file and
 * position. Damage in the first batch is reported at once. Checked for each batch of a segment
 * with index files and of one without, and of the active segment.
 */
class DamagedLaterHeaderTest {

    private static final int RECORDS = 400;

    @TempDir
    Path dir;

    /** One record per batch, numbered by offset; segments of about {@code segmentBytes}. */
    private void fill(int segmentBytes) {
        TestRecords.appendNumbered(LogStore.builder(dir).segmentBytes(segmentBytes), RECORDS);
    }

    private static byte setByte(Path log, long at, byte value) throws IOException {
        try (RandomAccessFile file = new RandomAccessFile(log.toFile(), "rw")) {
            file.seek(at);
            byte old = file.readByte();
            file.seek(at);
            file.writeByte(value);
            return old;
        }
    }

    private static List<Long> offsets(ByteBuffer batches) {
        List<Long> offsets = new ArrayList<>();
        RecordDecoder.decodeWhole(batches, r -> offsets.add(r.offset()));
        return offsets;
    }

    private static List<Long> range(long from, long to) {
        List<Long> offsets = new ArrayList<>();
        for (long o = from; o < to; o++) {
            offsets.add(o);
        }
        return offsets;
    }

    /**
     * Damages the magic byte of each batch of {@code log} in turn (putting it back after) and
     * reads from the segment's first batch each time.
     */
    private void assertIntactBatchesBeforeEachDamagedHeaderAreRead(int segmentBytes, Path log) throws IOException {
        long base = TestFiles.baseOffset(log);
        List<Long> positions = TestFiles.batchPositions(log);
        try (LogStore store = LogStore.builder(dir).partitions(1).segmentBytes(segmentBytes).open()) {
            for (int i = 0; i < positions.size(); i++) {
                int k = i;
                long at = positions.get(k);
                byte magic = setByte(log, at + BatchFormat.MAGIC_OFFSET, (byte) 0x7f);
                try {
                    String where = log.getFileName() + " with batch " + k + " of " + positions.size() + " damaged";
                    if (k == 0) {
                        assertReported(log, () -> store.read(0, base, ByteBuffer.allocate(1 << 20)));
                        assertReported(log, () -> store.transfer(0, base, 1 << 20, Channels.newChannel(new ByteArrayOutputStream())));
                        continue;
                    }
                    ByteBuffer read = ByteBuffer.allocate(1 << 20);
                    int bytes = store.read(0, base, read);
                    assertEquals(at, bytes, where + ": read(offset) returned other than the intact batches before it");
                    assertEquals(range(base, base + k), offsets(read.flip()), where);
                    assertReported(log, () -> store.read(0, base + k, ByteBuffer.allocate(1 << 20)));

                    byte[] file = Files.readAllBytes(log);
                    ByteArrayOutputStream sent = new ByteArrayOutputStream();
                    Transfer transfer = store.transfer(0, base, 1 << 20, Channels.newChannel(sent));
                    assertEquals(sent.size(), transfer.bytes());
                    assertArrayEquals(Arrays.copyOf(file, sent.size()), sent.toByteArray(), where + ": bytes sent as stored");
                    if (transfer.bytes() == at) {
                        // Stopped at the damage: the transfer that starts there reports it.
                        assertEquals(base + k, transfer.nextOffset(), where);
                        assertReported(log, () -> store.transfer(0, transfer.nextOffset(), 1 << 20,
                                Channels.newChannel(new ByteArrayOutputStream())));
                    } else {
                        // Sent on as stored (a transfer does not read every header it sends): a
                        // decoder of the bytes reports the damage after the intact batches.
                        assertTrue(transfer.bytes() > at, where + ": sent " + transfer.bytes() + " bytes");
                        List<Long> decoded = new ArrayList<>();
                        assertThrows(CorruptLogException.class, () -> RecordDecoder.decodeWhole(
                                ByteBuffer.wrap(sent.toByteArray()), r -> decoded.add(r.offset())), where);
                        assertEquals(range(base, base + k), decoded, where);
                    }

                    // What a reader's poll returns before the damage, the same records.
                    try (LogReader reader = store.reader(0)) {
                        reader.seek(base);
                        List<Long> polled = new ArrayList<>();
                        assertThrows(CorruptLogException.class, () -> {
                            while (true) {
                                reader.poll(1000, 1 << 20).forEach(r -> polled.add(r.offset()));
                            }
                        }, where);
                        assertEquals(range(base, base + k), polled, where);
                    }
                } finally {
                    setByte(log, at + BatchFormat.MAGIC_OFFSET, magic);
                }
            }
            assertEquals(RECORDS, TestRecords.readAll(store, 0).size(), "every byte put back");
        }
    }

    private static void assertReported(Path log, org.junit.jupiter.api.function.Executable call) {
        CorruptLogException e = assertThrows(CorruptLogException.class, call);
        assertTrue(e.getMessage().contains(log.getFileName().toString()), e.getMessage());
    }

    /** Segment {@code index} of a partition filled in segments of {@code segmentBytes}, sealed, with or without index files. */
    private Path sealedSegment(int segmentBytes, int index, boolean indexFiles) throws IOException {
        fill(segmentBytes);
        Path log = TestFiles.segmentLogs(dir.resolve("partition-0")).get(index);
        assertEquals(indexFiles, Files.exists(log.resolveSibling(log.getFileName().toString().replace(".log", ".index"))));
        return log;
    }

    @Test
    void inASealedSegmentWithIndexFiles() throws IOException {
        assertIntactBatchesBeforeEachDamagedHeaderAreRead(20_000, sealedSegment(20_000, 1, true));
    }

    @Test
    void inASealedSegmentWithoutIndexFiles() throws IOException {
        assertIntactBatchesBeforeEachDamagedHeaderAreRead(2_000, sealedSegment(2_000, 2, false));
    }

    @Test
    void inTheActiveSegment() throws IOException {
        fill(1 << 30);
        List<Path> logs = TestFiles.segmentLogs(dir.resolve("partition-0"));
        assertEquals(1, logs.size());
        // Every 40th batch is enough to cross index entries in a segment of 400.
        Path log = logs.get(0);
        List<Long> positions = TestFiles.batchPositions(log);
        try (LogStore store = LogStore.builder(dir).partitions(1).open()) {
            for (int k : new int[] {1, 2, 40, 117, 200, 333, RECORDS - 1}) {
                long at = positions.get(k);
                byte magic = setByte(log, at + BatchFormat.MAGIC_OFFSET, (byte) 0x7f);
                try {
                    ByteBuffer read = ByteBuffer.allocate(1 << 20);
                    assertEquals(at, store.read(0, 0, read), "batch " + k + " damaged");
                    assertEquals(range(0, k), offsets(read.flip()));
                    assertReported(log, () -> store.read(0, k, ByteBuffer.allocate(1 << 20)));
                } finally {
                    setByte(log, at + BatchFormat.MAGIC_OFFSET, magic);
                }
            }
        }
    }
}
