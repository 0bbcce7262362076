package dev.logstore;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.logstore.record.LogRecord;
import dev.logstore.record.Record;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Readers running while writers append: no torn batch, no reordering, no loss. */
class ConcurrencyTest {

    @TempDir
    Path dir;

    /** A record whose value encodes its own sequence number and length, so a torn read is visible. */
    private static Record sequenced(long n) {
        int length = 16 + (int) (n % 300);
        ByteBuffer value = ByteBuffer.allocate(length);
        value.putLong(n).putLong(length);
        while (value.hasRemaining()) {
            value.put((byte) n);
        }
        return Record.of(null, value.array(), n);
    }

    private static void check(LogRecord record) {
        ByteBuffer value = ByteBuffer.wrap(record.value());
        long n = value.getLong();
        assertEquals(record.offset(), n, "record at offset " + record.offset() + " holds sequence " + n);
        assertEquals(value.capacity(), value.getLong());
        while (value.hasRemaining()) {
            assertEquals((byte) n, value.get());
        }
    }

    @Test
    void appendersWaitingForDurabilityShareFsyncs() throws Exception {
        FaultyFiles files = new FaultyFiles();
        int threads = 4;
        int each = 150;
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try (LogStore store = LogStore.builder(dir).partitions(1).durability(Durability.always()).fileOpener(files)
                .open()) {
            long before = files.forces.get();
            List<Future<?>> done = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int thread = t;
                done.add(pool.submit(() -> {
                    for (int i = 0; i < each; i++) {
                        store.append(0, List.of(Record.of(null, TestRecords.bytes(thread + ":" + i), i)));
                    }
                    return null;
                }));
            }
            for (Future<?> future : done) {
                future.get(60, TimeUnit.SECONDS);
            }
            long forces = files.forces.get() - before;
            assertEquals(threads * each, store.nextOffset(0));
            assertTrue(forces < threads * each, forces + " fsyncs for " + threads * each + " durable appends: "
                    + "concurrent appends must share them");
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void tailingReadersSeeEveryRecordWholeAndInOrder() throws Exception {
        int total = 20_000;
        ExecutorService pool = Executors.newFixedThreadPool(5);
        try (LogStore store = LogStore.builder(dir).partitions(1).segmentBytes(256 * 1024).open()) {
            List<Future<Long>> readers = new ArrayList<>();
            for (int r = 0; r < 4; r++) {
                readers.add(pool.submit(() -> {
                    long expected = 0;
                    try (LogReader reader = store.reader(0)) {
                        while (expected < total) {
                            for (LogRecord record : reader.poll(500, 64 * 1024, Duration.ofSeconds(10))) {
                                assertEquals(expected, record.offset());
                                check(record);
                                expected++;
                            }
                        }
                    }
                    return expected;
                }));
            }
            Future<?> writer = pool.submit(() -> {
                long n = 0;
                while (n < total) {
                    List<Record> batch = new ArrayList<>();
                    for (int i = 0; i < 1 + n % 13 && n < total; i++) {
                        batch.add(sequenced(n++));
                    }
                    store.append(0, batch);
                }
                return null;
            });
            writer.get(60, TimeUnit.SECONDS);
            for (Future<Long> reader : readers) {
                assertEquals(total, reader.get(60, TimeUnit.SECONDS));
            }
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void concurrentAppendersWithFsyncAlwaysShareFsyncsAndLoseNothing() throws Exception {
        int threads = 4;
        int perThread = 300;
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        List<Long> offsets = Collections.synchronizedList(new ArrayList<>());
        try (LogStore store = LogStore.builder(dir).partitions(1).durability(Durability.always()).open()) {
            List<Future<?>> futures = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                futures.add(pool.submit(() -> {
                    for (int i = 0; i < perThread; i++) {
                        offsets.add(store.append(0, List.of(Record.of(null, new byte[64], 1))).baseOffset());
                    }
                    return null;
                }));
            }
            for (Future<?> future : futures) {
                future.get(120, TimeUnit.SECONDS);
            }
            assertEquals(threads * perThread, store.nextOffset(0));
        } finally {
            pool.shutdownNow();
        }
        Collections.sort(offsets);
        for (int i = 0; i < offsets.size(); i++) {
            assertEquals(i, offsets.get(i), "every offset handed out once");
        }
        try (LogStore store = LogStore.open(dir, 1)) {
            assertEquals(threads * perThread, TestRecords.readAll(store, 0).size());
        }
    }

    @Test
    void readersWriterAndRetentionTogetherNeverTearARecord() throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(5);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(3);
        try (LogStore store = LogStore.builder(dir).partitions(1).segmentBytes(8 * 1024).retentionBytes(32 * 1024)
                .retentionCheckInterval(Duration.ofMillis(5)).open()) {
            Future<Long> writer = pool.submit(() -> {
                long n = 0;
                while (System.nanoTime() < deadline) {
                    store.append(0, List.of(sequenced(n), sequenced(n + 1)));
                    n += 2;
                }
                return n;
            });
            List<Future<Long>> readers = new ArrayList<>();
            for (int r = 0; r < 4; r++) {
                readers.add(pool.submit(() -> {
                    long seen = 0;
                    long last = -1;
                    try (LogReader reader = store.reader(0)) {
                        while (System.nanoTime() < deadline) {
                            try {
                                for (LogRecord record : reader.poll(100, 16 * 1024, Duration.ofMillis(50))) {
                                    assertTrue(record.offset() > last, "offsets only grow for a reader");
                                    check(record);
                                    last = record.offset();
                                    seen++;
                                }
                            } catch (OffsetOutOfRangeException removed) {
                                // Retention overtook this reader: go on from what is left (which
                                // may shrink again meanwhile, hence the loop).
                                while (true) {
                                    try {
                                        reader.seek(Math.max(store.startOffset(0), last + 1));
                                        break;
                                    } catch (OffsetOutOfRangeException again) {
                                        Thread.onSpinWait();
                                    }
                                }
                            }
                        }
                    }
                    return seen;
                }));
            }
            long written = writer.get(30, TimeUnit.SECONDS);
            for (Future<Long> reader : readers) {
                assertTrue(reader.get(30, TimeUnit.SECONDS) > 0, "every reader read something");
            }
            assertTrue(store.startOffset(0) > 0, "retention deleted segments meanwhile");
            assertEquals(written, store.nextOffset(0));
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void aReadOnlyHandleFollowsAWriter() throws Exception {
        try (LogStore writer = LogStore.builder(dir).partitions(1).segmentBytes(4096).open()) {
            writer.append(0, List.of(sequenced(0)));
            try (LogStore follower = LogStore.builder(dir).readOnly().open();
                 LogReader reader = follower.reader(0)) {
                assertEquals(1, reader.poll(10, 1 << 16).size());
                assertTrue(reader.poll(10, 1 << 16).isEmpty());
                for (long n = 1; n < 200; n++) {
                    writer.append(0, List.of(sequenced(n)));
                }
                long expected = 1;
                while (expected < 200) {
                    List<LogRecord> records = reader.poll(50, 1 << 16, Duration.ofSeconds(5));
                    assertTrue(!records.isEmpty(), "follower stalled at " + expected);
                    for (LogRecord record : records) {
                        assertEquals(expected++, record.offset());
                        check(record);
                    }
                }
                assertTrue(writer.partitionInfo(0).segments() > 3, "the follower crossed segment rolls");
                assertEquals(200, follower.nextOffset(0));
                LogStoreException e = org.junit.jupiter.api.Assertions.assertThrows(LogStoreException.class,
                        () -> follower.append(0, List.of(sequenced(1))));
                assertTrue(e.getMessage().contains("read-only"), e.getMessage());
            }
        }
    }

    @Test
    void aReadOnlyHandleSeesPartitionsAnotherHandleAdds() throws Exception {
        // As the sink opens a store: each handle owns one partition and grows the store to hold it.
        try (LogStore first = LogStore.builder(dir).partitions(1).growPartitions().ownedPartitions(Set.of(0)).open()) {
            first.append(0, List.of(sequenced(0)));
            try (LogStore follower = LogStore.builder(dir).readOnly().open()) {
                assertEquals(1, follower.partitionCount());
                try (LogStore second = LogStore.builder(dir).partitions(3).growPartitions().ownedPartitions(Set.of(2))
                        .open()) {
                    second.append(2, List.of(sequenced(0), sequenced(1)));
                    // Asking for a partition beyond the count first seen finds it too.
                    assertEquals(2, follower.nextOffset(2));
                    assertEquals(3, follower.partitionCount());
                    assertEquals(3, follower.partitionInfos().size());
                    assertEquals(0, follower.nextOffset(1));
                    try (LogReader reader = follower.reader(2)) {
                        List<LogRecord> records = reader.poll(10, 1 << 16);
                        assertEquals(2, records.size());
                        records.forEach(ConcurrencyTest::check);
                    }
                    IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(
                            IllegalArgumentException.class, () -> follower.nextOffset(3));
                    assertTrue(e.getMessage().contains("partitions 0 to 2"), e.getMessage());
                }
                // The first handle, which owns partition 0 only, reads the added ones too.
                assertEquals(3, first.partitionCount());
                assertEquals(2, first.nextOffset(2));
            }
        }
    }
}
