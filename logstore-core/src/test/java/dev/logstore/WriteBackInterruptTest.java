package dev.logstore;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.logstore.record.Record;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Under Durability.onFlush an append touches the segment file only for its write: the write-back
 * ahead of a roll runs on a channel of its own, so an interrupt landing in it (a cancelled task, an
 * executor shut down with shutdownNow) closes only that channel, and the partition goes on.
 */
class WriteBackInterruptTest {

    @TempDir
    Path dir;

    @Test
    void anInterruptLandingInAnOnFlushAppendDoesNotStopThePartition() throws Exception {
        HookedFiles files = new HookedFiles();
        AtomicBoolean interrupted = new AtomicBoolean();
        files.beforeForce = p -> {
            if (HookedFiles.calledFromWriter("forceAheadOfRoll") && interrupted.compareAndSet(false, true)) {
                Thread.currentThread().interrupt(); // the cancel lands while the fsync runs
            }
        };
        try (LogStore store = LogStore.builder(dir).partitions(1).segmentBytes(64 * 1024)
                .durability(Durability.onFlush()).fileOpener(files).open()) {
            CompletableFuture<Long> appender = CompletableFuture.supplyAsync(() -> {
                long i = 0;
                while (!interrupted.get()) {
                    store.append(0, List.of(TestRecords.numbered(i++, 1_000 + i)));
                }
                Thread.interrupted(); // the cancelled task's thread is reused
                return i;
            });
            long appended = appender.get(10, TimeUnit.SECONDS); // the interrupted append did not throw
            assertTrue(interrupted.get());
            // Another thread, never interrupted, appends and flushes.
            store.append(0, List.of(TestRecords.numbered(-1, 1)));
            store.flush();
            assertEquals(appended + 1, store.nextOffset(0));
        }
    }
}
