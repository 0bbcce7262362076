package dev.logstore;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.logstore.record.Record;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.apache.commons.io.file.PathUtils;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The partition log at its edges: followers of a writer that reopened several times, readers
 * racing a close, flushes racing rolls, interrupted followers, stray manifest files and missing
 * directories.
 */
class PartitionLogEdgeCasesTest {

    @TempDir
    Path dir;

    private static Record record(long n) {
        return TestRecords.numbered(n, 1_000 + n);
    }

    @Test
    void aFollowerKeepsFollowingAWriterThatReopenedSeveralTimesSinceItLastLooked() {
        try (LogStore writer = LogStore.open(dir, 1)) {
            writer.append(0, List.of(record(0)));
        }
        try (LogStore follower = LogStore.builder(dir).readOnly().open()) {
            assertEquals(1, follower.nextOffset(0));
            for (int reopen = 0; reopen < 3; reopen++) {
                // Each writable open claims a new epoch and removes the older manifests.
                try (LogStore writer = LogStore.open(dir, 1)) {
                    writer.append(0, List.of(record(1 + reopen)));
                }
            }
            assertEquals(4, follower.nextOffset(0), "the follower finds the newest manifest again");
            try (LogStore writer = LogStore.open(dir, 1)) {
                writer.append(0, List.of(record(4)));
                assertEquals(5, follower.nextOffset(0));
                assertEquals(5, TestRecords.readAll(follower, 0).size());
            }
        }
    }

    @Test
    void aReaderPollingWhenTheStoreClosesStopsWithAnErrorInsteadOfSpinning() throws Exception {
        for (boolean readOnly : new boolean[] {false, true}) {
            Path store = dir.resolve("s" + readOnly);
            try (LogStore writer = LogStore.builder(store).partitions(1).segmentBytes(1024).open()) {
                for (int i = 0; i < 200; i++) {
                    writer.append(0, List.of(record(i)));
                }
            }
            LogStore handle = readOnly ? LogStore.builder(store).readOnly().open() : LogStore.open(store, 1);
            ExecutorService thread = Executors.newSingleThreadExecutor();
            try {
                Future<?> polling = thread.submit(() -> {
                    try (LogReader reader = handle.reader(0)) {
                        while (true) {
                            reader.seekToStart();
                            while (reader.poll(1, 64).size() > 0) {
                                // read on
                            }
                        }
                    }
                });
                Thread.sleep(100);
                handle.close();
                java.util.concurrent.ExecutionException e = assertThrows(java.util.concurrent.ExecutionException.class,
                        () -> polling.get(5, TimeUnit.SECONDS), "the poller must stop, not spin");
                assertTrue(e.getCause() instanceof LogStoreException, e.getCause().toString());
                assertTrue(e.getCause().getMessage().contains("closed"), e.getCause().getMessage());
            } finally {
                thread.shutdownNow();
            }
        }
    }

    @Test
    void flushesRacingRollsNeverFailAnAppendWhoseRecordWasMadeDurable() throws Exception {
        int threads = 8;
        int perThread = 400;
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        List<Long> acknowledged = Collections.synchronizedList(new ArrayList<>());
        try (LogStore store = LogStore.builder(dir).partitions(1).segmentBytes(1024).durability(Durability.always())
                .open()) {
            List<Future<?>> futures = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                futures.add(pool.submit(() -> {
                    for (int i = 0; i < perThread; i++) {
                        acknowledged.add(store.append(0, List.of(Record.of(null, new byte[700], 1))).baseOffset());
                    }
                    return null;
                }));
            }
            for (Future<?> future : futures) {
                future.get(120, TimeUnit.SECONDS); // an IllegalStateException from a raced fsync would surface here
            }
            assertTrue(store.partitionInfo(0).segments() > 100, "a roll on nearly every append");
        } finally {
            pool.shutdownNow();
        }
        assertEquals(threads * perThread, acknowledged.size());
        try (LogStore reopened = LogStore.open(dir, 1)) {
            assertEquals(threads * perThread, reopened.nextOffset(0));
        }
    }

    @Test
    void aReadOnlyHandleOnAnInterruptedThreadSaysItWasInterrupted() {
        try (LogStore writer = LogStore.open(dir, 1)) {
            writer.append(0, List.of(record(0)));
            try (LogStore follower = LogStore.builder(dir).readOnly().open(); LogReader reader = follower.reader(0)) {
                Thread.currentThread().interrupt();
                try {
                    assertThrows(LogStoreInterruptedException.class, () -> follower.nextOffset(0));
                    assertThrows(LogStoreInterruptedException.class, () -> reader.poll(10, 1 << 16));
                } finally {
                    Thread.interrupted();
                }
                assertEquals(1, reader.poll(10, 1 << 16).size(), "and works once the flag is clear");
            }
        }
    }

    @Test
    void aStrayClaimAboveTheNewestManifestHidesNothing() throws Exception {
        try (LogStore writer = LogStore.open(dir, 1)) {
            writer.append(0, List.of(record(0), record(1)));
        }
        Path partition = dir.resolve("partition-0");
        int epoch = dev.logstore.log.Crashes.newestEpoch(partition);
        Files.createFile(partition.resolve(String.format("manifest.%010d", epoch + 2)));
        try (LogStore follower = LogStore.builder(dir).readOnly().open()) {
            assertEquals(2, TestRecords.readAll(follower, 0).size());
        }
        try (LogStore writer = LogStore.open(dir, 1)) {
            assertEquals(2, writer.nextOffset(0), "the writer recovers from the newest complete manifest");
            writer.append(0, List.of(record(2)));
        }
        try (LogStore follower = LogStore.builder(dir).readOnly().open()) {
            assertEquals(3, TestRecords.readAll(follower, 0).size());
        }
    }

    @Test
    void aStrayManifestAtTheLargestEpochIsRefusedClearlyAndReleasesTheLock() throws Exception {
        LogStore.open(dir, 1).close();
        Files.createFile(dir.resolve("partition-0").resolve(String.format("manifest.%010d", Integer.MAX_VALUE)));
        for (int attempt = 0; attempt < 2; attempt++) {
            LogStoreException e = assertThrows(LogStoreException.class, () -> LogStore.open(dir, 1));
            assertTrue(e.getMessage().contains("largest writer epoch"), e.getMessage());
            assertTrue(!(e instanceof StoreLockedException), "the failed open let go of the lock: " + e);
        }
    }

    @Test
    void aMissingPartitionDirectoryIsRefusedNotStartedOverEmpty() throws Exception {
        try (LogStore writer = LogStore.open(dir, 2)) {
            writer.append(1, List.of(record(0)));
        }
        PathUtils.deleteDirectory(dir.resolve("partition-1"));
        LogStoreException e = assertThrows(LogStoreException.class, () -> LogStore.open(dir, 2));
        assertTrue(e.getMessage().contains("is missing"), e.getMessage());
        assertTrue(e.getMessage().contains("create the directory"), e.getMessage());
    }
}
