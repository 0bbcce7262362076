package dev.logstore;

import static dev.logstore.TestRecords.readAll;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.logstore.log.Crashes;
import dev.logstore.record.BatchFormat;
import dev.logstore.record.LogRecord;
import dev.logstore.record.Record;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.apache.commons.io.file.PathUtils;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What opening a store makes of files left by crashes and damage. */
class RecoveryTest {

    @TempDir
    Path dir;

    private Path partition0() {
        return dir.resolve("partition-0");
    }

    private List<Path> logFiles() throws IOException {
        try (Stream<Path> files = Files.list(partition0())) {
            return files.filter(f -> f.toString().endsWith(".log")).sorted().toList();
        }
    }

    private static void crash(Path partitionDir) throws IOException {
        // What a crash leaves: a manifest without the clean-shutdown mark.
        Crashes.forgetCleanClose(partitionDir);
    }

    private static void flipByte(Path file, long position) throws IOException {
        try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
            raf.seek(position);
            int b = raf.read();
            raf.seek(position);
            raf.write(b ^ 0x40);
        }
    }

    @Test
    void truncatingTheLastBatchAtEveryByteRecoversTheBatchesBeforeIt() throws IOException {
        Path original = dir.resolve("original");
        long sizeBefore;
        long sizeAfter;
        try (LogStore store = LogStore.open(original, 1)) {
            for (int i = 0; i < 4; i++) {
                store.append(0, List.of(TestRecords.numbered(i, 100 + i)));
            }
            sizeBefore = store.partitionInfo(0).sizeInBytes();
            store.append(0, List.of(TestRecords.numbered(4, 104), TestRecords.numbered(5, 105)));
            sizeAfter = store.partitionInfo(0).sizeInBytes();
        }
        for (long cut = sizeBefore; cut < sizeAfter; cut++) {
            Path copy = dir.resolve("cut-" + cut);
            PathUtils.copyDirectory(original, copy);
            Path partitionDir = copy.resolve("partition-0");
            crash(partitionDir);
            try (FileChannel channel = FileChannel.open(partitionDir.resolve("00000000000000000000.log"),
                    StandardOpenOption.WRITE)) {
                channel.truncate(cut);
            }
            try (LogStore store = LogStore.open(copy, 1)) {
                assertEquals(4, store.nextOffset(0), "cut at byte " + cut);
                assertEquals(sizeBefore, store.partitionInfo(0).sizeInBytes(), "torn tail removed, cut at " + cut);
                List<LogRecord> records = readAll(store, 0);
                assertEquals(4, records.size());
                assertEquals(TestRecords.numbered(3, 103), records.get(3).record());
                assertEquals(4, store.append(0, List.of(TestRecords.numbered(9, 109))).baseOffset(),
                        "appends continue where the valid prefix ends");
            }
            PathUtils.deleteDirectory(copy);
        }
    }

    @Test
    void garbageAfterTheLastBatchIsTruncatedAfterAnUncleanShutdown() throws IOException {
        try (LogStore store = LogStore.open(dir, 1)) {
            store.append(0, List.of(TestRecords.numbered(0, 1)));
        }
        crash(partition0());
        Path log = logFiles().get(0);
        long size = Files.size(log);
        Files.write(log, new byte[] {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13}, StandardOpenOption.APPEND);
        try (LogStore store = LogStore.open(dir, 1)) {
            assertEquals(1, store.nextOffset(0));
            assertEquals(size, Files.size(log));
        }
    }

    @Test
    void aFlippedByteInsideTheActiveSegmentIsDamageNotATornWriteAndNothingIsCut() throws IOException {
        long secondBatchAt;
        try (LogStore store = LogStore.open(dir, 1)) {
            store.append(0, List.of(TestRecords.numbered(0, 1)));
            secondBatchAt = store.partitionInfo(0).sizeInBytes();
            store.append(0, List.of(TestRecords.numbered(1, 2)));
            store.append(0, List.of(TestRecords.numbered(2, 3)));
        }
        crash(partition0());
        Path log = logFiles().get(0);
        flipByte(log, secondBatchAt + 50);
        byte[] damaged = Files.readAllBytes(log);

        CorruptLogException e = assertThrows(CorruptLogException.class, () -> LogStore.open(dir, 1));
        assertEquals(log, e.file());
        assertEquals(secondBatchAt, e.position());
        assertTrue(e.getMessage().contains("an intact batch follows"), e.getMessage());
        assertTrue(e.getMessage().contains("CorruptionPolicy.TRUNCATE"), e.getMessage());
        assertArrayEquals(damaged, Files.readAllBytes(log), "the intact batch after the damage is kept");

        try (LogStore store = LogStore.builder(dir).partitions(1).corruptionPolicy(CorruptionPolicy.TRUNCATE).open()) {
            assertEquals(1, store.nextOffset(0), "cut back to the batch before the damage, as asked");
            assertEquals(1, readAll(store, 0).size());
        }
    }

    @Test
    void aFlippedByteInTheLastBatchOfTheActiveSegmentIsCutLikeATornWrite() throws IOException {
        long lastBatchAt;
        try (LogStore store = LogStore.open(dir, 1)) {
            store.append(0, List.of(TestRecords.numbered(0, 1)));
            store.append(0, List.of(TestRecords.numbered(1, 2)));
            lastBatchAt = store.partitionInfo(0).sizeInBytes();
            store.append(0, List.of(TestRecords.numbered(2, 3)));
        }
        crash(partition0());
        flipByte(logFiles().get(0), lastBatchAt + 50);
        try (LogStore store = LogStore.open(dir, 1)) {
            assertEquals(2, store.nextOffset(0));
            assertEquals(2, readAll(store, 0).size());
        }
    }

    /** Sealed segments larger than the default index interval, so each has its index files. */
    private static final int SEGMENT_BYTES = 8192;
    private static final int VALUE_BYTES = 400;

    private void fillSealedSegments() {
        try (LogStore store = LogStore.builder(dir).partitions(1).segmentBytes(SEGMENT_BYTES).open()) {
            for (int i = 0; i < 100; i++) {
                store.append(0, List.of(Record.of(null, new byte[VALUE_BYTES], 1000 + i)));
            }
            assertTrue(store.partitionInfo(0).segments() >= 5);
        }
    }

    @Test
    void aFlippedByteInASealedSegmentIsReportedWithFileAndPositionAndNeverReturned() throws IOException {
        fillSealedSegments();
        Path second = logFiles().get(1);
        flipByte(second, 1000); // in its third batch
        try (LogStore store = LogStore.builder(dir).partitions(1).segmentBytes(SEGMENT_BYTES).open()) {
            List<LogRecord> seen = new ArrayList<>();
            CorruptLogException e = assertThrows(CorruptLogException.class, () -> {
                try (LogReader reader = store.reader(0)) {
                    List<LogRecord> batch;
                    while (!(batch = reader.poll(1, 1 << 16)).isEmpty()) {
                        seen.addAll(batch);
                    }
                }
            });
            assertEquals(second, e.file());
            assertTrue(e.position() <= 1000 && e.position() > 0, "position " + e.position());
            assertTrue(e.getMessage().contains(second.toString()), e.getMessage());
            for (LogRecord record : seen) {
                assertEquals(VALUE_BYTES, record.value().length, "only intact records were returned");
            }
            ByteBuffer buffer = ByteBuffer.allocate(1 << 16);
            long corruptOffset = seen.get(seen.size() - 1).offset() + 1;
            store.read(0, corruptOffset, buffer);
            assertThrows(CorruptLogException.class, () -> dev.logstore.record.RecordDecoder.decode(buffer.flip()));
        }
    }

    @Test
    void aSeekPastADamagedHeaderReportsTheDamageInsteadOfSkippingRecords() throws IOException {
        // Ten batches of three records in one segment of 6 KiB, indexed at its start and at its
        // eighth batch: a seek to an offset below that walks the batch headers from the start.
        // (A segment of at most 4 KiB has no index files: a lookup walks it from its start.)
        long position = 0;
        try (LogStore store = LogStore.builder(dir).partitions(1).open()) {
            for (int b = 0; b < 10; b++) {
                if (b == 5) {
                    position = store.partitionInfo(0).sizeInBytes();
                }
                List<Record> batch = new ArrayList<>();
                for (int i = 0; i < 3; i++) {
                    batch.add(Record.of(null, new byte[200], 1000 + b));
                }
                store.append(0, batch);
            }
        }
        Path log = logFiles().get(0);
        // Batch 5 holds offsets 15 to 17; one flipped bit in its base offset makes it claim 7 to
        // 9, a batch wholly before offset 16, so a seek to 16 would step over it to offset 18.
        try (RandomAccessFile raf = new RandomAccessFile(log.toFile(), "rw")) {
            raf.seek(position + BatchFormat.BASE_OFFSET_OFFSET + 7);
            int low = raf.read();
            assertEquals(15, low);
            raf.seek(position + BatchFormat.BASE_OFFSET_OFFSET + 7);
            raf.write(low ^ 8);
        }
        try (LogStore store = LogStore.builder(dir).partitions(1).open();
             LogReader reader = store.reader(0)) {
            CorruptLogException e = assertThrows(CorruptLogException.class, () -> reader.seek(16).poll(1, 1 << 16));
            assertEquals(log, e.file());
            assertEquals(position, e.position());
            ByteBuffer buffer = ByteBuffer.allocate(1 << 16);
            assertThrows(CorruptLogException.class, () -> store.read(0, 16, buffer));
            // Offsets the damage does not hide still read.
            assertEquals(12, reader.seek(12).poll(1, 1 << 16).get(0).offset());
            assertEquals(18, reader.seek(18).poll(1, 1 << 16).get(0).offset());
        }
    }

    @Test
    void aDeletedIndexIsRebuilt() throws IOException {
        fillSealedSegments();
        Path index = logFiles().get(2).resolveSibling(logFiles().get(2).getFileName().toString()
                .replace(".log", ".index"));
        Path timeIndex = index.resolveSibling(index.getFileName().toString().replace(".index", ".timeindex"));
        byte[] before = Files.readAllBytes(index);
        Files.delete(index);
        Files.delete(timeIndex);
        try (LogStore store = LogStore.builder(dir).partitions(1).segmentBytes(SEGMENT_BYTES).open();
             LogReader reader = store.reader(0)) {
            assertTrue(Files.exists(index), "index rewritten on open");
            assertEquals(ByteBuffer.wrap(before), ByteBuffer.wrap(Files.readAllBytes(index)));
            for (long offset = 0; offset < 100; offset += 7) {
                assertEquals(offset, reader.seek(offset).poll(1, 1 << 16).get(0).offset());
                assertEquals(offset, reader.seekToTimestamp(1000 + offset).position());
            }
        }
    }

    @Test
    void anInconsistentIndexIsRebuilt() throws IOException {
        fillSealedSegments();
        Path log = logFiles().get(1);
        Path index = log.resolveSibling(log.getFileName().toString().replace(".log", ".index"));
        Files.write(index, new byte[] {0, 0, 0, 9, 0, 0, 0, 5}); // offset 9 at byte 5: no batch starts there
        try (LogStore store = LogStore.builder(dir).partitions(1).segmentBytes(SEGMENT_BYTES).open()) {
            assertEquals(100, readAll(store, 0).size());
            try (LogReader reader = store.reader(0)) {
                long base = Long.parseLong(log.getFileName().toString().substring(0, 20));
                assertEquals(base + 1, reader.seek(base + 1).poll(1, 1 << 16).get(0).offset());
            }
        }
    }

    @Test
    void corruptionPolicyFailRefusesToOpenAndNamesTheFile() throws IOException {
        fillSealedSegments();
        Path second = logFiles().get(1);
        flipByte(second, 200);
        Files.delete(second.resolveSibling(second.getFileName().toString().replace(".log", ".index")));
        CorruptLogException e = assertThrows(CorruptLogException.class,
                () -> LogStore.builder(dir).partitions(1).open());
        assertEquals(second, e.file());
        assertTrue(e.getMessage().contains("CorruptionPolicy.TRUNCATE"), e.getMessage());
        // Nothing was changed: the same open fails the same way.
        assertThrows(CorruptLogException.class, () -> LogStore.builder(dir).partitions(1).open());
        assertTrue(logFiles().size() > 2, "no segment was removed");
    }

    @Test
    void corruptionPolicyTruncateCutsThePartitionBackToAValidPrefix() throws IOException {
        fillSealedSegments();
        int segmentsBefore = logFiles().size();
        Path second = logFiles().get(1);
        flipByte(second, 200);
        Files.delete(second.resolveSibling(second.getFileName().toString().replace(".log", ".index")));
        try (LogStore store = LogStore.builder(dir).partitions(1).segmentBytes(SEGMENT_BYTES)
                .corruptionPolicy(CorruptionPolicy.TRUNCATE).open()) {
            List<LogRecord> records = readAll(store, 0);
            assertFalse(records.isEmpty());
            for (int i = 0; i < records.size(); i++) {
                assertEquals(i, records.get(i).offset(), "a clean prefix");
            }
            assertEquals(records.size(), store.nextOffset(0));
            assertTrue(records.size() < 100);
            assertEquals(2, logFiles().size(), "later segments removed (was " + segmentsBefore + ")");
            assertEquals(records.size(), store.append(0, List.of(Record.of(null, null, 1))).baseOffset());
        }
    }

    @Test
    void aCleanCloseRecordsTheEndSoTheNextOpenNeedsNoScanAndStartsANewSegment() throws IOException {
        long size;
        try (LogStore store = LogStore.open(dir, 1)) {
            store.append(0, List.of(TestRecords.numbered(0, 1)));
            size = store.partitionInfo(0).sizeInBytes();
        }
        assertFalse(Files.exists(partition0().resolve("00000000000000000000.index")), "a segment of " + size
                + " bytes gets no index files: a lookup reads it whole with one read");
        // Bytes past the recorded end (a writer that lost the partition, still writing) are not data.
        Files.write(logFiles().get(0), TestRecords.randomBytes(new java.util.Random(1), 100), StandardOpenOption.APPEND);
        try (LogStore store = LogStore.open(dir, 1)) {
            assertEquals(1, store.nextOffset(0));
            assertEquals(size, Files.size(logFiles().get(0)), "cut back to the end recorded at the clean close");
            assertEquals(2, logFiles().size(), "appends go to a new segment of the new writer epoch");
            assertEquals(1, store.append(0, List.of(TestRecords.numbered(1, 2))).baseOffset());
            assertEquals(2, readAll(store, 0).size());
        }
    }

    @Test
    void aReadOnlyFollowerReportsDamagedBytesButWaitsOutATornTail() throws Exception {
        long secondBatchAt;
        try (LogStore store = LogStore.open(dir, 1)) {
            store.append(0, List.of(TestRecords.numbered(0, 1)));
            secondBatchAt = store.partitionInfo(0).sizeInBytes();
            store.append(0, List.of(TestRecords.numbered(1, 2)));
        }
        Path log = logFiles().get(0);
        // A torn tail (a write in progress, or a crash) is not an error for a follower.
        Files.write(log, new byte[] {0, 0, 0}, StandardOpenOption.APPEND);
        crash(partition0());
        try (LogStore follower = LogStore.builder(dir).readOnly().open()) {
            assertEquals(2, readAll(follower, 0).size());
        }
        // Wrong bytes inside a batch the file holds whole are damage: reported once they persist.
        flipByte(log, secondBatchAt + 45);
        try (LogStore follower = LogStore.builder(dir).readOnly().open(); LogReader reader = follower.reader(0)) {
            assertEquals(1, reader.poll(10, 1 << 16).size());
            // A write in progress can look like this for a moment; once the bytes stay wrong past
            // the follower's grace period (2 s) they are damage.
            long withinGrace = System.nanoTime() + java.util.concurrent.TimeUnit.MILLISECONDS.toNanos(1500);
            while (System.nanoTime() < withinGrace) {
                assertTrue(reader.poll(10, 1 << 16).isEmpty(), "nothing past the damage is returned meanwhile");
                Thread.sleep(100);
            }
            Thread.sleep(600);
            CorruptLogException e = assertThrows(CorruptLogException.class, () -> reader.poll(10, 1 << 16));
            assertEquals(log, e.file());
            assertEquals(secondBatchAt, e.position());
        }
    }

    @Test
    void leftoversOfInterruptedWorkAreRemoved() throws IOException {
        LogStore.open(dir, 1).close();
        Path deleted = Files.createFile(partition0().resolve("00000000000000000007.log.deleted"));
        Path tmp = Files.createFile(partition0().resolve("00000000000000000000.index.tmp"));
        LogStore.open(dir, 1).close();
        assertFalse(Files.exists(deleted));
        assertFalse(Files.exists(tmp));
    }
}
