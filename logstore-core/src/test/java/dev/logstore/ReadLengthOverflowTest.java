package dev.logstore;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.logstore.record.BatchFormat;
import dev.logstore.record.RecordDecoder;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * read(offset) is to return the intact batches before a later batch whose
 * header is damaged. A damaged length near MAX_BATCH_SIZE (which BatchHeader.problem() accepts)
 * overflows {@code whole + header.sizeInBytes()} in copyWholeBatches: the damaged batch is
 * counted in, and read(offset) fails with IllegalArgumentException instead.
 */
class ReadLengthOverflowTest {

    @TempDir
    Path dir;

    @Test
    void hugeLengthInALaterBatchStillEndsTheReadBeforeIt() throws IOException {
        TestRecords.appendNumbered(LogStore.builder(dir).segmentBytes(20_000), 400);
        Path log = TestFiles.segmentLogs(dir.resolve("partition-0")).get(0);
        List<Long> positions = TestFiles.batchPositions(log);
        int k = 5;
        long at = positions.get(k);
        try (RandomAccessFile file = new RandomAccessFile(log.toFile(), "rw")) {
            file.seek(at + BatchFormat.LENGTH_OFFSET);
            file.writeInt(0x7fffff00); // below MAX_BATCH_SIZE - 12: the header check accepts it
        }
        try (LogStore store = LogStore.builder(dir).partitions(1).segmentBytes(20_000).open()) {
            try (LogReader reader = store.reader(0)) {
                assertEquals(k, reader.poll(1000, 1 << 20).size(), "the reader returns the intact records");
            }
            ByteBuffer read = ByteBuffer.allocate(1 << 20);
            int bytes = store.read(0, 0, read);
            assertEquals(at, bytes);
            List<Long> offsets = new ArrayList<>();
            RecordDecoder.decodeWhole(read.flip(), r -> offsets.add(r.offset()));
            assertEquals(k, offsets.size());
        }
    }
}
