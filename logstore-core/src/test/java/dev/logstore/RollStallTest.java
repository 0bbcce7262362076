package dev.logstore;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.logstore.record.LogRecord;
import dev.logstore.record.Record;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A nearly full segment is forced by an appender outside the append lock, so the roll that
 * follows has only its last appends left to force and other appenders are not held up behind a
 * segment's worth of dirty pages. Held fsyncs show where each one runs.
 */
class RollStallTest {

    private static final String FIRST_SEGMENT = "00000000000000000000.log";

    @TempDir
    Path dir;

    private static Record record(int n) {
        return TestRecords.numbered(n, 1_000 + n);
    }

    @Test
    void otherAppendersGoOnWhileTheBulkOfAFullSegmentIsForced() throws Exception {
        HookedFiles files = new HookedFiles();
        CountDownLatch forceHeld = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        AtomicInteger forces = new AtomicInteger();
        files.beforeForce = p -> {
            if (p.getFileName().toString().equals(FIRST_SEGMENT) && forces.incrementAndGet() == 1) {
                forceHeld.countDown();
                try {
                    release.await(10, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        };
        int n = 0;
        try (LogStore store = LogStore.builder(dir).partitions(1).segmentBytes(64 * 1024)
                .durability(Durability.onFlush()).fileOpener(files).open()) {
            // Fill the first segment until an append forces it ahead of its roll (and is held there).
            CompletableFuture<Integer> filler = CompletableFuture.supplyAsync(() -> {
                int i = 0;
                while (forceHeld.getCount() > 0) {
                    store.append(0, List.of(record(i++)));
                }
                return i;
            });
            assertTrue(forceHeld.await(10, TimeUnit.SECONDS), "the segment was forced ahead of its roll");
            assertEquals(1, store.partitionInfo(0).segments(), "forced before the roll, not by it");
            // While that fsync is held, another thread appends into the same segment.
            long before = store.nextOffset(0);
            CompletableFuture<Void> other = CompletableFuture.runAsync(() -> {
                for (int i = 0; i < 50; i++) {
                    store.append(0, List.of(record(0)));
                }
            });
            other.get(5, TimeUnit.SECONDS);
            assertEquals(before + 50, store.nextOffset(0), "appends went on during the fsync ahead of the roll");
            release.countDown();
            n = filler.get(10, TimeUnit.SECONDS);
            store.flush();
        } finally {
            release.countDown();
        }
        try (LogStore reopened = LogStore.builder(dir).readOnly().open()) {
            List<LogRecord> all = TestRecords.readAll(reopened, 0);
            assertEquals(n + 50, all.size(), "every record, after a clean close");
            for (int i = 0; i < n; i++) {
                assertEquals(record(i), all.get(i).record());
            }
        }
    }

    @Test
    void aRollThatFollowsItsForceAheadHasLittleLeftToForce() {
        HookedFiles files = new HookedFiles();
        AtomicInteger logForces = new AtomicInteger();
        files.beforeForce = p -> {
            if (p.getFileName().toString().endsWith(".log")) {
                logForces.incrementAndGet();
            }
        };
        try (LogStore store = LogStore.builder(dir).partitions(1).segmentBytes(64 * 1024)
                .durability(Durability.onFlush()).fileOpener(files).open()) {
            int i = 0;
            while (store.partitionInfo(0).segments() < 4) {
                store.append(0, List.of(record(i++)));
            }
            // Three rolls: each segment forced once ahead (within its last eighth) and once by its roll.
            assertEquals(6, logForces.get(), "segment forces for three rolls");
        }
    }

}
