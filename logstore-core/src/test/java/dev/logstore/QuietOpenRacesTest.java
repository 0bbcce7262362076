package dev.logstore;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.logstore.record.LogRecord;
import dev.logstore.record.Record;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Races and faults around a writer that reopened a cleanly closed partition (its first manifest
 * waits for its first append), with a file opener that can hold an operation mid-way and model
 * an operating-system crash (directory entries as of the directory's last fsync).
 */
class QuietOpenRacesTest {

    @TempDir
    Path dir;

    static Record sized(String tag, int bytes) {
        byte[] value = new byte[bytes];
        Arrays.fill(value, (byte) 'x');
        byte[] t = tag.getBytes(StandardCharsets.UTF_8);
        System.arraycopy(t, 0, value, 0, t.length);
        return Record.of(null, value, 1L);
    }

    static String tag(LogRecord r) {
        return new String(r.value(), 0, 8, StandardCharsets.UTF_8);
    }

    static void await(CountDownLatch latch) {
        try {
            if (!latch.await(20, TimeUnit.SECONDS)) {
                throw new IllegalStateException("timed out");
            }
        } catch (InterruptedException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * A flush that runs while the epoch's first roll is committing its manifest acknowledges only what
     * is durable: after a crash at that moment, every offset it acknowledged is there.
     */
    @Test
    void aFlushConcurrentWithTheFirstRollOfAQuietEpochAcknowledgesOnlyWhatIsDurable() throws Exception {
        Path store = dir.resolve("store");
        try (LogStore s = LogStore.builder(store).partitions(1).segmentBytes(4096).durability(Durability.onFlush()).open()) {
            s.append(0, List.of(sized("rec-0000", 100)));
        }
        Path part = store.resolve(LogStore.partitionDirectoryName(0));
        HookedFiles.DirState durable = HookedFiles.snapshot(part); // as if all of it were on disk
        HookedFiles files = new HookedFiles();
        LogStore s = LogStore.builder(store).partitions(1).segmentBytes(4096).durability(Durability.onFlush())
                .fileOpener(files).open();
        Thread roller = null;
        CountDownLatch inRoll = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        try {
            s.append(0, List.of(sized("rec-0001", 3000))); // first append of the quiet epoch
            files.beforeForce = p -> {
                String n = p.getFileName().toString();
                if (n.startsWith("manifest.") && n.endsWith(".tmp")) {
                    inRoll.countDown();
                    await(release);
                }
            };
            roller = new Thread(() -> s.append(0, List.of(sized("rec-0002", 3000)))); // rolls
            roller.start();
            await(inRoll);
            Thread flusher = new Thread(s::flush);
            flusher.start();
            flusher.join(2000);
            if (flusher.isAlive()) {
                return; // the flush waits for the roll's manifest: nothing to acknowledge yet (the fix)
            }
            // flush() returned: offset 1 acknowledged as durable. An OS crash now:
            System.out.println("directory fsyncs before the flush returned: " + files.dirForces.get());
            HookedFiles.crashImage(store, part, files.durable.getOrDefault(part, durable), dir.resolve("crash"));
        } finally {
            release.countDown();
            if (roller != null) {
                roller.join();
            }
            s.close();
        }
        if (!Files.exists(dir.resolve("crash"))) {
            return;
        }
        try (LogStore crashed = LogStore.builder(dir.resolve("crash")).partitions(1).open()) {
            List<LogRecord> records = TestRecords.readAll(crashed, 0);
            assertTrue(records.size() >= 2, "flush() acknowledged offset 1, but after the crash the partition holds "
                    + records.size() + " record(s)");
        }
    }

    /**
     * Where locks do not hold, a writer whose first manifest is written by retention (not by an
     * append) is fenced by a newer writer's claim like any other, and cannot write into the segment
     * file the newer writer took over.
     */
    @Test
    void retentionAsTheFirstOperationOfAWriterWhoseLockWasLostIsFencedAndOverwritesNothing() throws Exception {
        Path store = dir.resolve("store");
        try (LogStore s = LogStore.builder(store).partitions(1).segmentBytes(1024).durability(Durability.onFlush()).open()) {
            for (int i = 0; i < 8; i++) {
                s.append(0, List.of(sized("old-" + String.format("%04d", i), 600)));
            }
        }
        HookedFiles files = new HookedFiles();
        LogStore a = LogStore.builder(store).partitions(1).segmentBytes(1024).retentionBytes(2000)
                .durability(Durability.onFlush()).fileOpener(files).open();
        CountDownLatch inPrepare = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        files.onOpen = p -> {
            String n = p.getFileName().toString();
            if (n.startsWith("manifest.") && n.endsWith(".tmp")) {
                files.onOpen = q -> { };
                inPrepare.countDown();
                await(release);
            }
        };
        AtomicReference<Object> retention = new AtomicReference<>();
        Thread ta = new Thread(() -> {
            try {
                retention.set(a.enforceRetention());
            } catch (RuntimeException e) {
                retention.set(e);
            }
        });
        ta.start();
        await(inPrepare);
        // The lock is lost behind A's back (as MultiProcessTest does it), and B opens.
        Files.delete(store.resolve(".partitions.lock"));
        LogStore b = LogStore.builder(store).partitions(1).segmentBytes(1024).durability(Durability.onFlush()).open();
        release.countDown();
        ta.join();
        long n = b.nextOffset(0);
        try {
            assertTrue(retention.get() instanceof WriterFencedException, "A's retention is fenced by B's claim, "
                    + "which came before A's first manifest was in place: " + retention.get());
            b.append(0, List.of(sized("B-acked!", 200)));
            b.flush(); // acknowledged as durable by the partition's current writer
            assertThrows(LogStoreException.class, () -> a.append(0, List.of(sized("A-stale!", 200))));
            try (LogReader reader = b.reader(0)) {
                List<LogRecord> at = reader.seek(n).poll(10, 1 << 20);
                assertEquals("B-acked!", tag(at.get(0)), "the record B acknowledged at offset " + n
                        + " was overwritten by the fenced writer");
            }
        } finally {
            try {
                a.close();
            } catch (RuntimeException ignored) {
                // fenced
            }
            b.close();
        }
    }

    /**
     * Where locks do not hold, an idle epoch closing while a newer one exists keeps its claim, so the
     * epochs stay a chain and a follower finds the newer writer's appends.
     */
    @Test
    void anIdleEpochBelowANewerOneKeepsItsClaimSoAFollowerFindsTheNewerWriter() throws Exception {
        Path store = dir.resolve("store");
        try (LogStore s = LogStore.builder(store).partitions(1).durability(Durability.onFlush()).open()) {
            s.append(0, List.of(sized("rec-0000", 100)));
        }
        try (LogStore follower = LogStore.builder(store).readOnly().open()) {
            assertEquals(1, TestRecords.readAll(follower, 0).size());
            LogStore a = LogStore.builder(store).partitions(1).durability(Durability.onFlush()).open();
            Files.delete(store.resolve(".partitions.lock"));
            try (LogStore b = LogStore.builder(store).partitions(1).durability(Durability.onFlush()).open()) {
                try {
                    a.close(); // idle: withdraws its claim, below B's
                } catch (RuntimeException fencedBeforeThisChange) {
                    // A wrote no manifest: its claim stays, as B's is newer
                }
                b.append(0, List.of(sized("rec-0001", 100)));
                assertEquals(2, TestRecords.readAll(b, 0).size());
                assertEquals(2, TestRecords.readAll(follower, 0).size(), "the follower does not see B's append");
            }
        }
    }

    /** The empty segment an idle open and close leaves for the next writer is not reported by verify. */
    @Test
    void verifyDoesNotReportTheSegmentAnIdleOpenLeavesForTheNextWriter() throws Exception {
        Path store = dir.resolve("store");
        try (LogStore s = LogStore.builder(store).partitions(3).open()) {
            for (int p = 0; p < 3; p++) {
                s.append(p, List.of(sized("rec-0000", 100)));
            }
        }
        LogStore.builder(store).partitions(3).open().close(); // idle open and close
        List<dev.logstore.verify.Finding> findings = new dev.logstore.verify.StoreVerifier(x -> { }).verify(store);
        assertEquals(List.of(), findings, "a cleanly closed, idle-reopened store");
    }
}
