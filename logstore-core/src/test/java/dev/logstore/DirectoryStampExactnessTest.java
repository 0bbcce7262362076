package dev.logstore;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.logstore.log.CloseRecords;
import dev.logstore.record.Record;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A directory stamp vouches only for a directory that holds exactly what its writer left, and
 * losing one costs a listing, never the record: files left in the directory during the session,
 * index files a roll could not write, segments retention could not delete yet, and an interrupt
 * while the close waits for stamps.
 */
class DirectoryStampExactnessTest {

    @TempDir
    Path dir;

    private long waitFrom;

    @BeforeEach
    void saveBound() {
        waitFrom = CloseRecords.waitForStampsFromSegments(10_000);
    }

    @AfterEach
    void restoreBound() {
        CloseRecords.waitForStampsFromSegments(waitFrom);
    }

    private Path partition(int p) {
        return dir.resolve("partition-" + p);
    }

    private static Record small(long n) {
        return Record.of(TestRecords.bytes("k" + n), new byte[100], 1_000 + n);
    }

    private static Record big(long n) {
        return Record.of(TestRecords.bytes("k" + n), new byte[1000], 1_000 + n);
    }

    private static String segmentName(long base) {
        return String.format("%020d.log", base);
    }

    /**
     * A segment file at the next offset that appeared while the store was open (settled long
     * before the close) keeps the close from stamping the directory: the next open lists it,
     * removes the file as a segment the manifest does not name, and the first append succeeds.
     */
    @Test
    void aStraySegmentAtTheNextOffsetLeftBeforeTheCloseIsRemovedByTheNextOpen() throws Exception {
        try (LogStore store = LogStore.builder(dir).partitions(1).open()) {
            for (long n = 0; n < 3; n++) {
                store.append(0, List.of(small(n)));
            }
            // e.g. a copy of the partition's first segment, dropped in by a tool or an operator
            Path first = TestFiles.segmentLogs(partition(0)).get(0);
            Files.copy(first, partition(0).resolve(segmentName(3)));
            Thread.sleep(100);
        }
        assertFalse(CloseRecords.directoryUnchanged(dir, 0), "no stamp for a directory its manifest does not describe");
        try (LogStore store = LogStore.builder(dir).partitions(1).open()) {
            assertDoesNotThrow(() -> store.append(0, List.of(small(3))), "the first append after the open");
            assertEquals(4, TestRecords.readAll(store, 0).size());
        }
    }

    /**
     * An interrupt of the closing thread while the close waits out the 40 ms margin: the waiting
     * directories get no stamp, the record is still written (the next open scans no active
     * segment), and the thread's interrupt flag is set again afterwards.
     */
    @Test
    void anInterruptDuringTheMarginWaitStillWritesTheRecord() throws Exception {
        CloseRecords.waitForStampsFromSegments(0); // as a close of 10,000 segments
        LogStore store = LogStore.builder(dir).partitions(4).open();
        for (int p = 0; p < 4; p++) {
            store.append(p, List.of(small(0))); // the directories change now: the close has to wait
        }
        AtomicReference<Throwable> failure = new AtomicReference<>();
        java.util.concurrent.atomic.AtomicBoolean flagAfterClose = new java.util.concurrent.atomic.AtomicBoolean();
        Thread closer = new Thread(() -> {
            try {
                store.close();
            } catch (Throwable t) {
                failure.set(t);
            }
            flagAfterClose.set(Thread.currentThread().isInterrupted());
        });
        closer.start();
        boolean interrupted = false;
        long deadline = System.nanoTime() + 5_000_000_000L;
        while (!interrupted && closer.isAlive() && System.nanoTime() < deadline) {
            if (closer.getState() == Thread.State.TIMED_WAITING) {
                for (StackTraceElement frame : closer.getStackTrace()) {
                    if (frame.getClassName().endsWith("CleanCloses") && frame.getMethodName().equals("awaitSettled")) {
                        closer.interrupt();
                        interrupted = true;
                        break;
                    }
                }
            }
        }
        closer.join();
        org.junit.jupiter.api.Assumptions.assumeTrue(interrupted, "the close did not wait: its directories had "
                + "settled before it looked (forcing the segments took more than 40 ms), so there was no wait to interrupt");
        assertTrue(flagAfterClose.get(), "the interrupt flag is set again after the close");
        assertTrue(Files.exists(dir.resolve("clean-close")), "a record (without stamps) was written");
        FaultyFiles files = new FaultyFiles();
        try (LogStore reopened = LogStore.builder(dir).partitions(4).fileOpener(files).open()) {
            assertEquals(0, files.segmentBytesRead.get(), "no active segment scanned");
        }
    }

    /**
     * A roll whose index files could not be written (it only logs a warning) leaves a sealed
     * segment without them: the close does not stamp that directory, so the next open lists it and
     * reads the segment through, and under TRUNCATE damage in it is repaired at open.
     */
    @Test
    void aSegmentWhoseIndexFilesWereNeverWrittenIsCheckedAtTheNextOpen() throws Exception {
        CloseRecords.waitForStampsFromSegments(0);
        FaultyFiles files = new FaultyFiles();
        LogStore.Builder builder = LogStore.builder(dir).partitions(1).segmentBytes(8 * 1024)
                .corruptionPolicy(CorruptionPolicy.TRUNCATE).fileOpener(files);
        long n = 0;
        try (LogStore store = builder.open()) {
            for (; n < 10; n++) {
                store.append(0, List.of(big(n)));
            }
            files.failWrites = path -> path.getFileName().toString().contains("index");
            int segments = TestFiles.segmentLogs(partition(0)).size();
            while (TestFiles.segmentLogs(partition(0)).size() < segments + 1) {
                store.append(0, List.of(big(n++))); // a roll: the sealed segment's index files fail
            }
            files.heal();
            store.append(0, List.of(big(n++)));
        }
        List<Path> logs = TestFiles.segmentLogs(partition(0));
        Path unindexed = logs.get(logs.size() - 2);
        assertFalse(Files.exists(Path.of(unindexed.toString().replace(".log", ".index"))), "index files not written");
        assertFalse(CloseRecords.directoryUnchanged(dir, 0), "no stamp for a directory missing index files");
        try (RandomAccessFile file = new RandomAccessFile(unindexed.toFile(), "rw")) {
            file.seek(file.length() / 2); // bit rot inside the sealed segment
            file.write(file.read() ^ 0xFF);
        }
        for (int open = 0; open < 2; open++) {
            try (LogStore store = builder.fileOpener(new FaultyFiles()).open()) {
                assertDoesNotThrow(() -> TestRecords.readAll(store, 0),
                        "open " + open + ": TRUNCATE repaired the segment at open, as after a listing");
            }
        }
    }

    /**
     * Segment files retention removed from the manifest whose deletion was deferred (a reader
     * still held one when the process ended) are removed by the next writable open: the close does
     * not stamp a directory that still holds them.
     */
    @Test
    void aSegmentRetentionLeftOnDiskIsRemovedByTheNextOpen() throws Exception {
        CloseRecords.waitForStampsFromSegments(0);
        try (LogStore store = LogStore.builder(dir).partitions(1).segmentBytes(4 * 1024).open()) {
            for (long n = 0; n < 20; n++) {
                store.append(0, List.of(big(n)));
            }
        }
        Path first = TestFiles.segmentLogs(partition(0)).get(0);
        LogStore.Builder retaining = LogStore.builder(dir).partitions(1).segmentBytes(4 * 1024).retentionBytes(8 * 1024);
        LogStore store = retaining.open();
        LogReader reader = store.reader(0);
        assertEquals(1, reader.poll(1, 1 << 20).size()); // holds the first segment
        assertTrue(store.enforceRetention() > 0);
        store.append(0, List.of(big(20)));
        store.close(); // the reader is never closed: its process ended
        assertTrue(Files.exists(first), "deletion deferred to the reader");
        for (int round = 0; round < 2; round++) {
            try (LogStore again = retaining.open()) {
                again.append(0, List.of(big(21 + round)));
            }
        }
        assertFalse(Files.exists(first), "the next writable open removes a segment the manifest does not name");
    }
}
