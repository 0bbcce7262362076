package dev.logstore;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.logstore.record.LogRecord;
import dev.logstore.record.Record;
import dev.logstore.segment.IndexMemory;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.io.RandomAccessFile;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Sealed segments' indexes are held under a cap: reading an archive end to end keeps no more of
 * them than the cap allows, dropped indexes are loaded again (or rebuilt) on the next use, and
 * every read stays exact while the cap drops indexes under it.
 */
class IndexMemoryTest {

    private static final int RECORDS = 3000;

    @TempDir
    Path dir;

    /** Record {@code n}: its value names it and its timestamp is 10 ms per offset. */
    private static Record record(long n) {
        return TestRecords.numbered(n, 1_700_000_000_000L + 10 * n);
    }

    private void writeArchive(int records) {
        try (LogStore writer = LogStore.builder(dir).partitions(1).segmentBytes(4096).indexIntervalBytes(64)
                .durability(Durability.onFlush()).open()) {
            for (int i = 0; i < records; i += 3) {
                writer.append(0, List.of(record(i), record(i + 1), record(i + 2)));
            }
            assertTrue(writer.partitionInfo(0).segments() > records / 100, "segments: " + writer.partitionInfo(0).segments());
        }
    }

    private static void assertRecordAt(LogStore store, long offset) {
        ByteBuffer buffer = ByteBuffer.allocate(64 * 1024);
        int bytes = store.read(0, offset, buffer);
        assertTrue(bytes > 0, "nothing read at " + offset);
        try (LogReader reader = store.reader(0).seek(offset)) {
            List<LogRecord> got = reader.poll(1, 64 * 1024);
            assertEquals(1, got.size(), "records at " + offset);
            assertEquals(offset, got.get(0).offset());
            assertEquals(record(offset), got.get(0).record());
        }
    }

    private static void assertTimestampSeek(LogStore store, long offset) {
        try (LogReader reader = store.reader(0).seekToTimestamp(record(offset).timestamp())) {
            List<LogRecord> got = reader.poll(1, 64 * 1024);
            assertEquals(offset, got.get(0).offset(), "first record at or after the timestamp of " + offset);
        }
    }

    @Test
    void readingEverySegmentInRandomOrderKeepsIndexMemoryUnderTheCapAndEveryReadExact() {
        writeArchive(RECORDS);
        IndexMemory memory = new IndexMemory(8 * 1024);
        List<Long> offsets = new ArrayList<>();
        for (long o = 0; o < RECORDS; o++) {
            offsets.add(o);
        }
        Collections.shuffle(offsets, new Random(7));
        long most = 0;
        try (LogStore reader = LogStore.builder(dir).readOnly().indexMemory(memory).open()) {
            for (int i = 0; i < offsets.size(); i++) {
                long offset = offsets.get(i);
                if (i % 3 == 0) {
                    assertTimestampSeek(reader, offset);
                } else {
                    assertRecordAt(reader, offset);
                }
                most = Math.max(most, memory.bytes());
                assertTrue(memory.bytes() <= memory.max(), "index bytes " + memory.bytes() + " over the cap after "
                        + "reading offset " + offset);
            }
            assertTrue(memory.drops() > 20, "indexes dropped: " + memory.drops());
            assertTrue(most > memory.max() / 2, "the cap was used: at most " + most + " bytes held");
            assertEquals(RECORDS, TestRecords.readAll(reader, 0).size());
        }
        assertEquals(0, memory.bytes(), "a closed store holds no indexes");
    }

    @Test
    void withoutRoomForAnyIndexEveryLookupStillFindsItsRecord() {
        writeArchive(900);
        IndexMemory memory = new IndexMemory(0);
        try (LogStore reader = LogStore.builder(dir).readOnly().indexMemory(memory).open()) {
            for (long offset = 0; offset < 900; offset += 7) {
                assertRecordAt(reader, offset);
                assertTimestampSeek(reader, offset);
                assertEquals(0, memory.bytes());
            }
            assertEquals(900, reader.partitionInfo(0).nextOffset());
        }
    }

    @Test
    void indexesDroppedFromAReadOnlyViewAreRebuiltWhenTheirFilesAreGone() throws Exception {
        writeArchive(900);
        try (Stream<Path> files = Files.list(dir.resolve(LogStore.partitionDirectoryName(0)))) {
            for (Path file : files.filter(f -> f.toString().endsWith(".index") || f.toString().endsWith(".timeindex"))
                    .toList()) {
                Files.delete(file);
            }
        }
        IndexMemory memory = new IndexMemory(0);
        try (LogStore reader = LogStore.builder(dir).readOnly().indexMemory(memory).open()) {
            for (int round = 0; round < 2; round++) {
                for (long offset = 0; offset < 900; offset += 11) {
                    assertRecordAt(reader, offset);
                    assertTimestampSeek(reader, offset);
                }
            }
        }
        try (Stream<Path> files = Files.list(dir.resolve(LogStore.partitionDirectoryName(0)))) {
            assertEquals(0, files.filter(f -> f.toString().endsWith(".index")).count(),
                    "a read-only view writes no index files");
        }
    }

    @Test
    void aWriterRollingUnderATinyCapLeavesIndexFilesThatReadsLoad() throws Exception {
        IndexMemory memory = new IndexMemory(0);
        try (LogStore writer = LogStore.builder(dir).partitions(1).segmentBytes(4096).indexIntervalBytes(64)
                .durability(Durability.onFlush()).indexMemory(memory).open()) {
            for (int i = 0; i < 900; i += 3) {
                writer.append(0, List.of(record(i), record(i + 1), record(i + 2)));
                assertRecordAt(writer, i / 2);
            }
            for (long offset = 0; offset < 900; offset += 13) {
                assertRecordAt(writer, offset);
                assertTimestampSeek(writer, offset);
            }
            assertEquals(0, memory.bytes());
        }
        try (Stream<Path> files = Files.list(dir.resolve(LogStore.partitionDirectoryName(0)))) {
            List<Path> all = files.toList();
            long logs = all.stream().filter(f -> f.toString().endsWith(".log")).count();
            long indexes = all.stream().filter(f -> f.toString().endsWith(".index")).count();
            assertEquals(logs, indexes, "every segment has its index file: " + all);
        }
    }

    /**
     * A writer appends and rolls while readers look up random offsets and timestamps under a cap
     * that keeps dropping indexes; every record read must be the one written at its offset.
     */
    @Test
    void concurrentReadersUnderACapThatKeepsDroppingReadExactlyWhatWasWritten() throws Exception {
        IndexMemory memory = new IndexMemory(4 * 1024);
        ExecutorService pool = Executors.newFixedThreadPool(4);
        AtomicBoolean done = new AtomicBoolean();
        AtomicLong lookups = new AtomicLong();
        ConcurrentLinkedQueue<String> wrong = new ConcurrentLinkedQueue<>();
        try (LogStore writer = LogStore.builder(dir).partitions(1).segmentBytes(4096).indexIntervalBytes(64)
                .durability(Durability.onFlush()).indexMemory(memory).open()) {
            List<Future<?>> readers = new ArrayList<>();
            for (int r = 0; r < 3; r++) {
                int seed = r;
                readers.add(pool.submit(() -> {
                    Random random = new Random(seed);
                    while (!done.get()) {
                        long end = writer.nextOffset(0);
                        if (end == 0) {
                            continue;
                        }
                        long offset = (long) (random.nextDouble() * end);
                        try (LogReader reader = random.nextBoolean() ? writer.reader(0).seek(offset)
                                : writer.reader(0).seekToTimestamp(record(offset).timestamp())) {
                            List<LogRecord> got = reader.poll(5, 64 * 1024);
                            if (got.isEmpty() || got.get(0).offset() != offset) {
                                wrong.add("at " + offset + ": " + (got.isEmpty() ? "nothing" : got.get(0).offset()));
                            }
                            for (LogRecord r2 : got) {
                                if (!record(r2.offset()).equals(r2.record())) {
                                    wrong.add("record at " + r2.offset() + " is " + r2.record());
                                }
                            }
                        }
                        lookups.incrementAndGet();
                    }
                    return null;
                }));
            }
            for (int i = 0; i < 6000; i += 3) {
                writer.append(0, List.of(record(i), record(i + 1), record(i + 2)));
            }
            long until = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(500);
            while (System.nanoTime() < until && lookups.get() < 20_000) {
                Thread.sleep(10);
            }
            done.set(true);
            for (Future<?> reader : readers) {
                reader.get(60, TimeUnit.SECONDS);
            }
            assertTrue(wrong.isEmpty(), wrong.size() + " wrong reads, first: " + wrong.peek());
            assertTrue(lookups.get() > 500, "lookups: " + lookups.get());
            assertTrue(memory.drops() > 0, "the cap dropped indexes");
        } finally {
            pool.shutdownNow();
        }
        assertEquals(0, memory.bytes(), "a closed store holds no indexes");
    }

    /**
     * What a sealed segment holds (size, next offset, newest timestamp) is in the partition's
     * manifest, so partition statistics and time retention read no index: after both, no index is
     * loaded at all.
     */
    @Test
    void statisticsAndTimeRetentionLoadNoIndex() {
        long now = System.currentTimeMillis();
        try (LogStore writer = LogStore.builder(dir).partitions(1).segmentBytes(4096).indexIntervalBytes(64)
                .durability(Durability.onFlush()).open()) {
            for (int i = 0; i < 600; i++) {
                long timestamp = i < 300 ? now - java.time.Duration.ofDays(10).toMillis() + i : now + i;
                writer.append(0, List.of(TestRecords.numbered(i, timestamp)));
            }
        }
        IndexMemory memory = new IndexMemory(1L << 30);
        try (LogStore store = LogStore.builder(dir).retentionAge(java.time.Duration.ofDays(5)).indexMemory(memory)
                .open()) {
            PartitionInfo before = store.partitionInfo(0);
            assertTrue(before.segments() > 10, "segments: " + before.segments());
            store.partitionInfos();
            assertTrue(store.enforceRetention() > 0, "time retention removed the old segments");
            PartitionInfo after = store.partitionInfo(0);
            assertTrue(after.startOffset() > 0 && after.startOffset() <= 300, "start offset " + after.startOffset());
            assertEquals(0, memory.bytes(), "index bytes loaded by statistics and retention");
            assertEquals(0, memory.tracked(), "segments whose indexes were loaded");
        }
    }

    @Test
    void storesOpenedAndClosedAgainAndAgainLeaveNothingTracked() {
        writeArchive(900);
        IndexMemory memory = new IndexMemory(1L << 30);
        for (int round = 0; round < 30; round++) {
            try (LogStore reader = LogStore.builder(dir).readOnly().indexMemory(memory).open()) {
                assertEquals(900, TestRecords.readAll(reader, 0).size());
                assertRecordAt(reader, 450);
                assertTrue(memory.bytes() > 0);
            }
            assertEquals(0, memory.bytes());
        }
        assertTrue(memory.tracked() < 200, "segments tracked after the stores closed: " + memory.tracked());
    }

    /**
     * A writable open that recovery refuses (CorruptionPolicy.FAIL) lets go of the indexes of the
     * segments it had already sealed: none stay counted against the cap.
     */
    @Test
    void aWritableOpenThatRecoveryRefusesLeavesNothingCounted() throws Exception {
        try (LogStore writer = LogStore.builder(dir).partitions(1).segmentBytes(8192).indexIntervalBytes(64)
                .durability(Durability.onFlush()).open()) {
            for (int i = 0; writer.partitionInfo(0).segments() < 6; i++) {
                writer.append(0, List.of(record(i)));
            }
        }
        Path part = dir.resolve(LogStore.partitionDirectoryName(0));
        List<Path> logs;
        try (Stream<Path> files = Files.list(part)) {
            logs = files.filter(f -> f.toString().endsWith(".log")).sorted().toList();
        }
        // The first segments (larger than the 4 KiB a segment may go without index files at) lost
        // their index files (recovery rebuilds them, so they are in memory when sealed); the
        // fourth was cut short behind the store's back.
        for (Path log : logs.subList(0, 3)) {
            Files.delete(log.resolveSibling(log.getFileName().toString().replace(".log", ".index")));
        }
        Path damaged = logs.get(3);
        try (RandomAccessFile file = new RandomAccessFile(damaged.toFile(), "rw")) {
            file.setLength(file.length() - 10);
        }
        IndexMemory memory = new IndexMemory(1 << 20);
        assertThrows(CorruptLogException.class, () -> LogStore.builder(dir).indexMemory(memory).open());
        assertEquals(0, memory.bytes(), "index bytes still counted after the open failed and released everything "
                + "(" + memory.tracked() + " segments tracked)");
    }

    /**
     * Lookups by offset spread round robin over more sealed segments than the cap holds (12
     * partitions' segments with about 1 MiB of indexes each, a cap for half of them) do not load a
     * whole index per lookup: a segment whose indexes were dropped is looked up in one page of its
     * index file. Every read is checked.
     */
    @Test
    void roundRobinReadsOverMoreSegmentsThanTheCapHoldsStayCheap() throws Exception {
        int partitions = 12;
        byte[] value = new byte[40];
        try (LogStore writer = LogStore.builder(dir).partitions(partitions).segmentBytes(4 << 20).indexIntervalBytes(64)
                .durability(Durability.onFlush()).open()) {
            for (int p = 0; p < partitions; p++) {
                for (long i = 0; writer.partitionInfo(p).segments() < 2; i++) {
                    writer.append(p, List.of(Record.of(null, value, 1_700_000_000_000L + i)));
                }
            }
        }
        long perSegment;
        IndexMemory probe = new IndexMemory(Long.MAX_VALUE);
        try (LogStore reader = LogStore.builder(dir).readOnly().indexMemory(probe).open()) {
            ByteBuffer buffer = ByteBuffer.allocate(64 * 1024);
            for (int p = 0; p < partitions; p++) {
                reader.read(p, 10, buffer.clear());
            }
            perSegment = probe.bytes() / partitions;
        }
        IndexMemory capped = new IndexMemory(perSegment * partitions / 2);
        int reads = readRoundRobin(capped, partitions);
        assertTrue(capped.drops() <= 2 * partitions, capped.drops() + " indexes dropped (each one loaded again) in "
                + reads + " reads");
    }

    /** Reads at random offsets of each partition's sealed segment, round robin; returns how many, each checked. */
    private int readRoundRobin(IndexMemory memory, int partitions) {
        try (LogStore reader = LogStore.builder(dir).readOnly().indexMemory(memory).open()) {
            ByteBuffer buffer = ByteBuffer.allocate(1024);
            Random random = new Random(1);
            long[] sealedNext = new long[partitions];
            for (int p = 0; p < partitions; p++) {
                sealedNext[p] = reader.partitionInfo(p).nextOffset() - 1;
            }
            int reads = 3000;
            for (int i = 0; i < reads; i++) {
                int p = i % partitions;
                long offset = (long) (random.nextDouble() * sealedNext[p] * 0.9);
                assertTrue(reader.read(p, offset, buffer.clear()) > 0);
                List<LogRecord> got = dev.logstore.record.RecordDecoder.decode(buffer.flip());
                assertTrue(got.get(0).offset() <= offset && got.get(got.size() - 1).offset() >= offset,
                        "read(" + offset + ") of partition " + p + " returned " + got.get(0).offset() + " to "
                                + got.get(got.size() - 1).offset());
            }
            return reads;
        }
    }
}
