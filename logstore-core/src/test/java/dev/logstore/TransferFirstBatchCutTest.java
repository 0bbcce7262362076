package dev.logstore;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.fail;

import dev.logstore.record.BatchFormat;
import dev.logstore.record.RecordDecoder;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Batch 2 of a sealed segment (interval 256) claims 3000 bytes more than it has, still within the
 * segment. A transfer from it jumps through the index to an entry inside that claimed length and
 * sends [batch 2, entry + ...): part of its first batch by that batch's own header, reported as a
 * batch boundary with nextOffset past records whose bytes went out inside the "part".
 */
/**
 * A transfer whose first batch claims a length that spans a batch the offset index knows (a
 * damaged length) reports it, rather than sending part of the batch as if it were whole.
 */
class TransferFirstBatchCutTest {

    @TempDir
    Path dir;

    @Test
    void aFirstBatchWhoseLengthSpansAnIndexedBatchIsReported() throws IOException {
        TestRecords.appendNumbered(LogStore.builder(dir).segmentBytes(20_000).indexIntervalBytes(256), 400);
        Path log = TestFiles.segmentLogs(dir.resolve("partition-0")).get(1);
        long base = TestFiles.baseOffset(log);
        long at = TestFiles.batchPositions(log).get(2);
        int claimed;
        try (RandomAccessFile f = new RandomAccessFile(log.toFile(), "rw")) {
            f.seek(at + BatchFormat.LENGTH_OFFSET);
            int length = f.readInt() + 3000;
            f.seek(at + BatchFormat.LENGTH_OFFSET);
            f.writeInt(length);
            claimed = length + BatchFormat.LOG_OVERHEAD;
        }
        try (LogStore store = LogStore.builder(dir).partitions(1).segmentBytes(20_000).indexIntervalBytes(256)
                .open()) {
            ByteArrayOutputStream sent = new ByteArrayOutputStream();
            Transfer t;
            try {
                t = store.transfer(0, base + 2, 219, Channels.newChannel(sent));
            } catch (CorruptLogException e) {
                return; // reported by the sender: fine
            }
            Throwable thrown = null;
            try {
                RecordDecoder.decodeWhole(ByteBuffer.wrap(sent.toByteArray()), r -> { });
            } catch (RuntimeException e) {
                thrown = e;
            }
            if (t.bytes() < claimed) {
                fail("transfer(" + (base + 2) + ", 219) returned " + t + ": " + t.bytes() + " bytes of a batch whose"
                        + " header claims " + claimed + ", at a batch boundary, continuing at " + t.nextOffset()
                        + "; decodeWhole of those bytes threw " + thrown);
            }
        }
    }
}
