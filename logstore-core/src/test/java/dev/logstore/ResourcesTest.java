package dev.logstore;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.logstore.record.LogRecord;
import dev.logstore.record.Record;
import java.io.IOException;
import java.lang.management.BufferPoolMXBean;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Descriptors and memory follow what is being done, not how large the store is. */
class ResourcesTest {

    @TempDir
    Path dir;

    private static long openDescriptors() throws IOException {
        try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
            return fds.count();
        }
    }

    private static long directMemory() {
        return ManagementFactory.getPlatformMXBeans(BufferPoolMXBean.class).stream()
                .filter(pool -> pool.getName().equals("direct")).mapToLong(BufferPoolMXBean::getMemoryUsed).sum();
    }

    @Test
    void readingEverySegmentKeepsNoMoreFilesOpenThanTheCap() throws Exception {
        try (LogStore writer = LogStore.builder(dir).partitions(1).segmentBytes(1024).open()) {
            for (int i = 0; i < 300; i++) {
                writer.append(0, List.of(TestRecords.numbered(i, i)));
            }
            assertTrue(writer.partitionInfo(0).segments() > 10, "segments: " + writer.partitionInfo(0).segments());
        }
        long before = openDescriptors();
        ExecutorService pool = Executors.newFixedThreadPool(3);
        try (LogStore reader = LogStore.builder(dir).readOnly().maxOpenFiles(4).open()) {
            List<Future<Integer>> readers = new ArrayList<>();
            for (int r = 0; r < 3; r++) {
                readers.add(pool.submit(() -> {
                    List<LogRecord> all = TestRecords.readAll(reader, 0);
                    for (int i = 0; i < all.size(); i++) {
                        assertEquals(TestRecords.numbered(i, i), all.get(i).record());
                    }
                    return all.size();
                }));
            }
            for (Future<Integer> future : readers) {
                assertEquals(300, future.get(60, TimeUnit.SECONDS));
            }
            long held = openDescriptors() - before;
            assertTrue(held <= 4, "read channels held after reading " + reader.partitionInfo(0).segments()
                    + " segments: " + held + " (cap 4)");
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void openingAndClosingStoresAgainAndAgainLeavesNothingBehindInTheSharedPool() {
        dev.logstore.segment.OpenFiles pool = dev.logstore.segment.OpenFiles.shared();
        int partitions = 300;
        int before = pool.tracked();
        for (int round = 0; round < 6; round++) {
            try (LogStore store = LogStore.builder(dir).partitions(partitions).open()) {
                for (int p = 0; p < partitions; p++) {
                    store.append(p, List.of(Record.of(null, TestRecords.bytes("r" + round), round)));
                }
            }
            try (LogStore reader = LogStore.builder(dir).readOnly().open()) {
                for (int p = 0; p < partitions; p++) {
                    assertEquals(round + 1, TestRecords.readAll(reader, p).size());
                }
            }
        }
        // Each round opens about 3 files per partition: 5,400 in all; what stays tracked is bounded.
        assertTrue(pool.tracked() - before <= 2 * partitions + 64, "the shared pool still tracks "
                + (pool.tracked() - before) + " closed files of closed stores");
    }

    @Test
    void appendingToManyPartitionsFromOneThreadHoldsOneEncoderBufferNotOnePerPartition() {
        System.gc();
        long before = directMemory();
        try (LogStore store = LogStore.builder(dir).partitions(200).open()) {
            for (int p = 0; p < 200; p++) {
                store.append(p, List.of(Record.of(null, new byte[100], 1)));
            }
            long grown = directMemory() - before;
            assertTrue(grown < 1 << 20, "direct memory grew by " + grown + " bytes for 200 partitions; one "
                    + "64 KiB encoder per partition would be 12.5 MiB");
        }
    }

    @Test
    void writingManyPartitionsUnderASmallCapHoldsNoMoreFilesThanTheCapAndLosesNothing() throws Exception {
        long before = openDescriptors();
        int partitions = 120;
        try (LogStore store = LogStore.builder(dir).partitions(partitions).maxOpenFiles(16)
                .durability(Durability.onFlush()).segmentBytes(4096).open()) {
            for (int round = 0; round < 40; round++) {
                for (int p = 0; p < partitions; p++) {
                    store.append(p, List.of(TestRecords.numbered(round, p)));
                }
                if (round % 10 == 9) {
                    store.flush();
                }
                long held = openDescriptors() - before;
                assertTrue(held <= 16 + 2, "round " + round + ": " + held + " descriptors for a cap of 16 "
                        + "(plus the lock file)");
            }
        }
        try (LogStore store = LogStore.builder(dir).readOnly().open()) {
            for (int p = 0; p < partitions; p++) {
                List<LogRecord> all = TestRecords.readAll(store, p);
                assertEquals(40, all.size(), "partition " + p);
                for (int round = 0; round < 40; round++) {
                    assertEquals(TestRecords.numbered(round, p), all.get(round).record());
                }
            }
        }
    }

    @Test
    void aForceThatFailsWhenTheCapClosesAWriteChannelFailsThatPartitionsNextFlush() throws Exception {
        FaultyFiles files = new FaultyFiles();
        try (LogStore store = LogStore.builder(dir).partitions(8).maxOpenFiles(4).durability(Durability.onFlush())
                .fileOpener(files).open()) {
            store.append(0, List.of(Record.of(null, new byte[] {1}, 1)));
            // Partition 0's write channel holds an unforced write; the disk now fails its fsyncs.
            files.failForces = path -> path.toString().contains("partition-0" + java.io.File.separator);
            for (int round = 0; round < 3; round++) {
                for (int p = 1; p < 8; p++) {
                    store.append(p, List.of(Record.of(null, new byte[] {2}, 1)));
                }
            }
            files.heal();
            PartitionFailedException e = assertThrows(PartitionFailedException.class, () -> store.flush(0));
            assertTrue(e.getMessage().contains("Input/output error"), e.getMessage());
            store.flush(1); // the other partitions are unharmed
        }
    }
}
