package dev.logstore;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.logstore.record.LogRecord;
import dev.logstore.record.Record;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RetentionTest {

    @TempDir
    Path dir;

    private long countLogFiles() throws Exception {
        try (Stream<Path> files = Files.list(dir.resolve("partition-0"))) {
            return files.filter(f -> f.toString().endsWith(".log")).count();
        }
    }

    @Test
    void retentionBySizeDeletesOnlyWholeSealedSegments() throws Exception {
        try (LogStore store = LogStore.builder(dir).partitions(1).segmentBytes(4096).retentionBytes(10_000).open()) {
            for (int i = 0; i < 200; i++) {
                store.append(0, List.of(Record.of(null, new byte[200], System.currentTimeMillis())));
            }
            store.enforceRetention();
            PartitionInfo info = store.partitionInfo(0);
            assertTrue(info.sizeInBytes() >= 10_000 && info.sizeInBytes() <= 10_000 + 4096, "size " + info.sizeInBytes());
            assertTrue(info.startOffset() > 0);
            assertEquals(200, info.nextOffset());
            assertEquals(info.segments(), countLogFiles());
            List<LogRecord> left = TestRecords.readAll(store, 0);
            assertEquals(info.startOffset(), left.get(0).offset());
            assertEquals(199, left.get(left.size() - 1).offset());
            assertThrows(OffsetOutOfRangeException.class, () -> store.read(0, 0, ByteBuffer.allocate(4096)));
        }
    }

    @Test
    void retentionByAgeKeepsRecentSegmentsAndTheActiveOne() {
        long old = System.currentTimeMillis() - Duration.ofDays(3).toMillis();
        try (LogStore store = LogStore.builder(dir).partitions(1).segmentBytes(2048)
                .retentionAge(Duration.ofDays(1)).open()) {
            for (int i = 0; i < 40; i++) {
                store.append(0, List.of(Record.of(null, new byte[300], old + i)));
            }
            long firstRecent = store.nextOffset(0);
            for (int i = 0; i < 40; i++) {
                store.append(0, List.of(Record.of(null, new byte[300], System.currentTimeMillis())));
            }
            store.enforceRetention();
            long start = store.startOffset(0);
            assertTrue(start > 0 && start <= firstRecent, "start " + start + ", first recent " + firstRecent);
            for (LogRecord record : TestRecords.readAll(store, 0)) {
                assertTrue(record.offset() >= start);
            }
        }
        try (LogStore store = LogStore.builder(dir).partitions(1).segmentBytes(1 << 20)
                .retentionAge(Duration.ofDays(1)).open()) {
            long before = store.startOffset(0);
            store.enforceRetention();
            assertEquals(before, store.startOffset(0), "nothing old is left but the active segment");
        }
    }

    @Test
    void theActiveSegmentIsNeverDeletedEvenWhenOld() {
        long old = System.currentTimeMillis() - Duration.ofDays(30).toMillis();
        try (LogStore store = LogStore.builder(dir).partitions(1).retentionAge(Duration.ofDays(1))
                .retentionBytes(0).open()) {
            store.append(0, List.of(Record.of(null, new byte[100], old)));
            assertEquals(0, store.enforceRetention());
            assertEquals(1, TestRecords.readAll(store, 0).size());
        }
    }

    @Test
    void aReaderInsideADeletedSegmentFinishesItThenHearsWhatWasRemoved() {
        try (LogStore store = LogStore.builder(dir).partitions(1).segmentBytes(2048).open()) {
            for (int i = 0; i < 150; i++) {
                store.append(0, List.of(TestRecords.numbered(i, i)));
            }
        }
        try (LogStore store = LogStore.builder(dir).partitions(1).segmentBytes(2048).retentionBytes(0).open()) {
            // A writable open starts a new segment: what was written before is all sealed.
            for (int i = 150; i < 155; i++) {
                store.append(0, List.of(TestRecords.numbered(i, i)));
            }
            try (LogReader reader = store.reader(0)) {
                assertEquals(0, reader.poll(1, 100).get(0).offset());
                assertTrue(store.enforceRetention() > 1);
                // The reader still holds the first segment and reads it to its end.
                long expected = 1;
                OffsetOutOfRangeException gone = null;
                try {
                    List<LogRecord> batch;
                    while (!(batch = reader.poll(1, 100)).isEmpty()) {
                        assertEquals(expected++, batch.get(0).offset());
                        assertEquals("value-" + batch.get(0).offset(), TestRecords.string(batch.get(0).value()));
                    }
                } catch (OffsetOutOfRangeException e) {
                    gone = e;
                }
                assertTrue(gone != null, "the reader must not skip deleted records silently");
                assertTrue(expected > 1, "the held segment was read to its end");
                assertEquals(store.startOffset(0), gone.startOffset());
                assertEquals(store.startOffset(0), reader.seek(gone.startOffset()).poll(1, 100).get(0).offset());
            }
        }
    }
}
