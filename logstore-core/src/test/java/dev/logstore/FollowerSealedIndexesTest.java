package dev.logstore;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.logstore.record.LogRecord;
import dev.logstore.record.Record;
import dev.logstore.record.RecordDecoder;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A follower seals the segment it was tailing with the indexes it had built so far. When it had
 * scanned only the start of the segment before the writer filled and rolled it, those indexes (and
 * a directory of pages made from them) cover only that start; the whole segment's indexes must come
 * from its index file instead, so a lookup near its end reads little of it.
 */
class FollowerSealedIndexesTest {

    @TempDir
    Path dir;

    private static Record record(long n) {
        return Record.of(null, new byte[1000], 1_700_000_000_000L + n);
    }

    private static long logBytesReadFor(LogStore follower, FaultyFiles files, long offset) {
        ByteBuffer buffer = ByteBuffer.allocate(4096);
        long before = files.bytesRead.get();
        assertTrue(follower.read(0, offset, buffer) > 0);
        List<LogRecord> got = RecordDecoder.decode(buffer.flip());
        assertTrue(got.get(0).offset() <= offset && got.get(got.size() - 1).offset() >= offset);
        return files.bytesRead.get() - before;
    }

    @Test
    void aFollowerThatSealsASegmentItScannedOnlyInPartLooksItUpCheaplyOnceItsIndexesAreDropped() {
        int segmentBytes = 4 << 20;
        try (LogStore writer = LogStore.builder(dir).partitions(1).segmentBytes(segmentBytes)
                .durability(Durability.onFlush()).open()) {
            long n = 0;
            for (; n < 20; n++) {
                writer.append(0, List.of(record(n)));
            }
            FaultyFiles tailing = new FaultyFiles();
            try (LogStore follower = LogStore.builder(dir).readOnly().fileOpener(tailing).maxIndexMemory(0).open()) {
                assertEquals(20, follower.nextOffset(0), "the follower scanned the active segment's start");
                while (writer.partitionInfo(0).segments() < 2) {
                    writer.append(0, List.of(record(n++)));
                }
                writer.flush();
                long sealedLast = writer.partitionInfo(0).nextOffset() - 2; // in the sealed segment
                assertTrue(follower.nextOffset(0) > sealedLast, "the follower saw the roll");

                // A follower opened after the roll, for comparison: its directory comes from the index file.
                FaultyFiles fresh = new FaultyFiles();
                try (LogStore late = LogStore.builder(dir).readOnly().fileOpener(fresh).maxIndexMemory(0).open()) {
                    late.nextOffset(0);
                    logBytesReadFor(late, fresh, sealedLast); // opens the file
                    long lateBytes = logBytesReadFor(late, fresh, sealedLast);
                    logBytesReadFor(follower, tailing, sealedLast);
                    long tailingBytes = logBytesReadFor(follower, tailing, sealedLast);
                    assertTrue(tailingBytes < 64 * 1024, "a lookup near the end of the sealed segment read "
                            + tailingBytes + " bytes of it (the follower opened after the roll: " + lateBytes
                            + "): the follower's directory covers only the part of the segment it had scanned");
                }
            }
        }
    }
}
