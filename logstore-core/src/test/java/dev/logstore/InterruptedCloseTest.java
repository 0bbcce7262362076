package dev.logstore;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A store's close keeps every partition's lock until that partition's close and the clean-close
 * record are done. The closing thread waits for all of its workers even when it is interrupted
 * (the interrupt is reported after the wait), so no second writer gets a partition whose close is
 * still forcing its segment.
 */
class InterruptedCloseTest {

    @TempDir
    Path dir;

    private static void awaitUninterruptibly(CountDownLatch latch) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (latch.getCount() > 0 && System.nanoTime() < deadline) {
            try {
                latch.await(50, TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                // keep waiting: this stands for a slow fsync, which an interrupt does not cut short
            }
        }
    }

    @Test
    void anInterruptedCloseKeepsThePartitionLockOfAPartitionWhoseCloseIsStillRunning() throws Exception {
        int partitions = 6; // more than 4: Parallel.forEach closes them on worker threads
        int slowPartition = 5;
        HookedFiles files = new HookedFiles();
        LogStore store = LogStore.builder(dir).partitions(partitions).durability(Durability.onFlush())
                .fileOpener(files).open();
        for (int p = 0; p < partitions; p++) {
            store.append(p, List.of(TestRecords.numbered(p, 1L)));
        }
        Path slowDir = dir.resolve(LogStore.partitionDirectoryName(slowPartition));
        CountDownLatch inForce = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        files.beforeForce = path -> {
            if (path.startsWith(slowDir) && path.toString().endsWith(".log") && HookedFiles.calledFromWriter("close")) {
                inForce.countDown();
                awaitUninterruptibly(release); // a slow fsync of this partition's segment at close
            }
        };
        AtomicReference<Throwable> closeFailure = new AtomicReference<>();
        Thread closer = new Thread(() -> {
            try {
                store.close();
            } catch (Throwable e) {
                closeFailure.set(e);
            }
        }, "closer");
        closer.start();
        assertTrue(inForce.await(20, TimeUnit.SECONDS), "partition 5's close reached its segment force");
        closer.interrupt(); // e.g. a task framework stopping the thread that closes the store
        closer.join(1_000);
        boolean waitedForTheForce = closer.isAlive();

        // Partition 5's close is still forcing its segment: no other writer may have the partition yet.
        Throwable secondWriter = null;
        LogStore other = null;
        try {
            other = LogStore.builder(dir).partitions(partitions).ownedPartitions(Set.of(slowPartition)).open();
        } catch (StoreLockedException expected) {
            secondWriter = expected;
        } finally {
            release.countDown();
            if (other != null) {
                other.close();
            }
        }
        closer.join(20_000);
        Throwable lockedOut = secondWriter;
        assertAll(
                () -> assertTrue(waitedForTheForce, "close() waits for the partition whose close is under way"),
                () -> assertTrue(!closer.isAlive(), "close() returned once that close ended"),
                () -> assertTrue(closeFailure.get() instanceof LogStoreInterruptedException,
                        "the interrupted close reports the interrupt: " + closeFailure.get()),
                () -> assertNotNull(lockedOut, "a second writer opened partition " + slowPartition + " while the first "
                        + "writer's close was still forcing its segment"));
        try (LogStore reopened = LogStore.builder(dir).partitions(partitions).open()) {
            for (int p = 0; p < partitions; p++) {
                org.junit.jupiter.api.Assertions.assertEquals(1, reopened.nextOffset(p), "partition " + p);
            }
        }
    }
}
