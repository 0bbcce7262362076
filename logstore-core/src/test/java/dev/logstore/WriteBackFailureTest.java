package dev.logstore;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.logstore.record.Record;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An fsync error in the write-back ahead of a roll stops the partition, and nothing it covered is
 * acknowledged: not by a flush, nor by an append under Durability.always, whose fsync of the same
 * file overlaps it. The fault model is Linux's: the write-back reports EIO, and an fsync of the
 * same file already under way would return 0 (the error is reported once, to whichever sees it
 * first); fsyncs of one file therefore run one at a time.
 */
class WriteBackFailureTest {

    private static final String FIRST_SEGMENT = "00000000000000000000.log";

    @TempDir
    Path dir;

    /** Hooks for: the force ahead fails, but only after a concurrent force of the file entered fsync. */
    private static final class ConcurrentEio {
        final CountDownLatch aheadEntered = new CountDownLatch(1);
        final CountDownLatch otherEntered = new CountDownLatch(1);
        final CountDownLatch aheadReported = new CountDownLatch(1);
        final AtomicBoolean aheadArmed = new AtomicBoolean(true);
        final AtomicBoolean otherArmed = new AtomicBoolean(true);

        void install(HookedFiles files, String otherForce) {
            files.beforeForce = p -> {
                if (!p.getFileName().toString().equals(FIRST_SEGMENT)) {
                    return;
                }
                if (HookedFiles.calledFromWriter("forceAheadOfRoll") && aheadArmed.compareAndSet(true, false)) {
                    aheadEntered.countDown();
                    await(otherEntered);
                    aheadReported.countDown();
                    throw new IOException(p + ": Input/output error (injected fsync failure)");
                }
                if (HookedFiles.calledFromWriter(otherForce) && aheadEntered.getCount() == 0 && otherArmed.compareAndSet(true, false)) {
                    otherEntered.countDown();
                    // The error goes to the force ahead, which reports it first; this fsync,
                    // already under way, then returns 0 (pages it could not write were dropped).
                    await(aheadReported);
                    sleep(200);
                }
            };
        }

        private static void await(CountDownLatch latch) {
            try {
                latch.await(1, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }

        private static void sleep(long millis) {
            try {
                Thread.sleep(millis);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private static Record record(int n) {
        return TestRecords.numbered(n, 1_000 + n);
    }

    /**
     * Durability.onFlush: a flush whose fsync ran alongside the failed force ahead of the roll
     * returns normally, so records the kernel may have dropped are acknowledged durable, and the
     * partition does not even stop.
     */
    @Test
    void aFlushRacingAFailedForceAheadOfTheRollIsNotAcknowledged() throws Exception {
        HookedFiles files = new HookedFiles();
        ConcurrentEio eio = new ConcurrentEio();
        eio.install(files, "forceUpTo");
        try (LogStore store = LogStore.builder(dir).partitions(1).segmentBytes(64 * 1024)
                .durability(Durability.onFlush()).fileOpener(files).open()) {
            CompletableFuture<Void> filler = CompletableFuture.runAsync(() -> {
                int i = 0;
                while (eio.aheadEntered.getCount() > 0) {
                    store.append(0, List.of(record(i++)));
                }
            });
            assertTrue(eio.aheadEntered.await(10, TimeUnit.SECONDS), "the segment was forced ahead of its roll");
            CompletableFuture<Void> flush = CompletableFuture.runAsync(() -> store.flush(0));
            try {
                flush.get(10, TimeUnit.SECONDS);
                fail("flush returned normally although an fsync of the segment reported EIO meanwhile: records the "
                        + "kernel may have dropped were acknowledged durable");
            } catch (ExecutionException expected) {
                assertTrue(expected.getCause() instanceof PartitionFailedException, expected.toString());
            } finally {
                try {
                    filler.get(10, TimeUnit.SECONDS);
                } catch (ExecutionException ignored) {
                    // the filler may be told of the failure
                }
            }
        }
    }

    /**
     * Durability.always: the appender whose force ahead of the roll failed is told its append is
     * durable, because another appender's force, concurrent with it, succeeded.
     */
    @Test
    void anAppendUnderDurabilityAlwaysWhoseForceAheadFailedIsNotAcknowledged() throws Exception {
        HookedFiles files = new HookedFiles();
        ConcurrentEio eio = new ConcurrentEio();
        eio.install(files, "forceUpTo");
        try (LogStore store = LogStore.builder(dir).partitions(1).segmentBytes(64 * 1024)
                .durability(Durability.always()).fileOpener(files).open()) {
            // The appender that takes the segment within its last eighth: held in its force ahead.
            CompletableFuture<AppendResult> crossing = CompletableFuture.supplyAsync(() -> {
                AppendResult last = null;
                int i = 0;
                while (eio.aheadEntered.getCount() > 0) {
                    last = store.append(0, List.of(record(i++)));
                }
                return last; // the append whose force ahead failed
            });
            assertTrue(eio.aheadEntered.await(10, TimeUnit.SECONDS), "the segment was forced ahead of its roll");
            // Another appender meanwhile: its own force runs alongside the one that fails.
            CompletableFuture<AppendResult> other = CompletableFuture.supplyAsync(
                    () -> store.append(0, List.of(record(-1))));
            try {
                AppendResult acked = crossing.get(10, TimeUnit.SECONDS);
                fail("the append at offset " + acked.lastOffset() + " was acknowledged under Durability.always "
                        + "although the fsync it made of its segment failed");
            } catch (ExecutionException expected) {
                assertTrue(expected.getCause() instanceof PartitionFailedException, expected.toString());
            } finally {
                try {
                    other.get(10, TimeUnit.SECONDS);
                } catch (ExecutionException ignored) {
                    // may be told of the failure
                }
            }
            assertThrows(PartitionFailedException.class, () -> store.flush(0), "the partition stopped");
        }
    }
}
