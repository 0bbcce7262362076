package dev.logstore;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.logstore.record.LogRecord;
import dev.logstore.record.Record;
import dev.logstore.record.RecordDecoder;
import dev.logstore.record.RecordView;
import java.nio.ByteBuffer;
import java.nio.ReadOnlyBufferException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Reading records in place: {@link LogReader#poll(dev.logstore.record.RecordHandler, int, int)}. */
class RecordViewTest {

    @TempDir
    Path dir;

    private List<Record> fill(LogStore store, int count, long seed) {
        Random random = new Random(seed);
        List<Record> all = new ArrayList<>();
        while (all.size() < count) {
            List<Record> batch = TestRecords.random(random, 1 + random.nextInt(20), 3000);
            store.append(0, batch);
            all.addAll(batch);
        }
        return all;
    }

    @Test
    void viewsShowExactlyWhatWasAppendedAcrossSegments() {
        try (LogStore store = LogStore.builder(dir).partitions(1).segmentBytes(16 * 1024).open();
             LogReader reader = store.reader(0)) {
            List<Record> expected = fill(store, 600, 11);
            assertTrue(store.partitionInfo(0).segments() > 5, "needs several segments");
            List<LogRecord> seen = new ArrayList<>();
            int handed;
            do {
                handed = reader.poll(view -> {
                    assertBuffer(view.keyBytes(), view.key(), view.keyLength());
                    assertBuffer(view.valueBytes(), view.value(), view.valueLength());
                    assertEquals(view.headerCount(), view.headers().size());
                    seen.add(view.toLogRecord());
                }, 50, 8192);
                assertTrue(handed <= 50);
            } while (handed > 0);
            TestRecords.assertRecords(expected, TestRecords.consecutive(0, expected.size()), seen);
            assertEquals(expected.size(), reader.position());
        }
    }

    private static void assertBuffer(byte[] copy, ByteBuffer view, int length) {
        if (length < 0) {
            assertNull(copy);
            assertNull(view);
            return;
        }
        assertEquals(length, view.remaining());
        byte[] fromView = new byte[length];
        view.duplicate().get(fromView);
        assertArrayEquals(copy, fromView);
        assertTrue(view.isReadOnly());
        assertThrows(ReadOnlyBufferException.class, () -> view.put(view.position(), (byte) 1));
    }

    @Test
    void theViewIsOneObjectMovedFromRecordToRecord() {
        try (LogStore store = LogStore.builder(dir).partitions(1).open(); LogReader reader = store.reader(0)) {
            fill(store, 40, 12);
            List<RecordView> views = new ArrayList<>();
            List<Long> offsets = new ArrayList<>();
            reader.poll(view -> {
                views.add(view);
                offsets.add(view.offset());
            }, 40, 1 << 20);
            assertEquals(40, views.size());
            views.forEach(view -> assertSame(views.get(0), view));
            for (int i = 0; i < offsets.size(); i++) {
                assertEquals(i, offsets.get(i));
            }
        }
    }

    @Test
    void aHandlerThatThrowsLeavesItsRecordUnconsumed() {
        try (LogStore store = LogStore.builder(dir).partitions(1).open(); LogReader reader = store.reader(0)) {
            List<Record> expected = fill(store, 30, 13);
            List<Long> seen = new ArrayList<>();
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> reader.poll(view -> {
                if (view.offset() == 17) {
                    throw new IllegalStateException("handler refuses 17");
                }
                seen.add(view.offset());
            }, 100, 1 << 20));
            assertEquals("handler refuses 17", e.getMessage());
            assertEquals(17, seen.size());
            assertEquals(17, reader.position());
            List<LogRecord> rest = reader.poll(1000, 1 << 20);
            assertEquals(17, rest.get(0).offset());
            assertEquals(expected.size() - 17, rest.size());
            assertEquals(expected.get(17), rest.get(0).record());
        }
    }

    @Test
    void maxRecordsStopsInsideABatchAndTheNextPollContinues() {
        try (LogStore store = LogStore.builder(dir).partitions(1).open(); LogReader reader = store.reader(0)) {
            store.append(0, TestRecords.random(new Random(14), 10, 100));
            List<Long> offsets = new ArrayList<>();
            assertEquals(3, reader.poll(view -> offsets.add(view.offset()), 3, 1 << 20));
            assertEquals(7, reader.poll(view -> offsets.add(view.offset()), 100, 1 << 20));
            assertEquals(0, reader.poll(view -> offsets.add(view.offset()), 100, 1 << 20));
            assertEquals(List.of(0L, 1L, 2L, 3L, 4L, 5L, 6L, 7L, 8L, 9L), offsets);
        }
    }

    @Test
    void badLimitsAreRefused() {
        try (LogStore store = LogStore.builder(dir).partitions(1).open(); LogReader reader = store.reader(0)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> reader.poll(view -> { }, 0, 100));
            assertTrue(e.getMessage().contains("maxRecords (0)"), e.getMessage());
        }
    }

    @Test
    void forEachWalksTheBytesOfLogStoreRead() {
        try (LogStore store = LogStore.builder(dir).partitions(1).open()) {
            List<Record> expected = fill(store, 100, 15);
            ByteBuffer buffer = ByteBuffer.allocate(1 << 20);
            store.read(0, 0, buffer);
            List<LogRecord> seen = new ArrayList<>();
            RecordDecoder.forEach(buffer.flip(), view -> seen.add(view.toLogRecord()));
            TestRecords.assertRecords(expected, TestRecords.consecutive(0, expected.size()), seen);
            assertEquals(0, buffer.position());
        }
    }
}
