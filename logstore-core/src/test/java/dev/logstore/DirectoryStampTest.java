package dev.logstore;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.logstore.log.CloseRecords;
import dev.logstore.log.Crashes;
import dev.logstore.record.Record;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The clean-close record holds each partition directory's change time and key as the close left
 * it. While they match, a writer's open takes the directory's contents from the manifest instead of
 * listing it; any file added, removed or renamed in it since, or the directory made anew, makes the
 * open list it as before, and repair what it finds.
 */
class DirectoryStampTest {

    private static final int PARTITIONS = 3;
    /** Segments of about 8 KiB of 1 KiB records: sealed ones and the active one have index files. */
    private static final int SEGMENT_BYTES = 8 * 1024;

    @TempDir
    Path dir;

    private long waitFrom;

    /**
     * Closes of these small stores wait for the stamps of the directories they changed last, as a
     * close of 10,000 segments or more does (a smaller one records none for them, and the next
     * open lists those directories).
     */
    @BeforeEach
    void waitForStampsInEveryClose() {
        waitFrom = CloseRecords.waitForStampsFromSegments(0);
    }

    @AfterEach
    void restore() {
        CloseRecords.waitForStampsFromSegments(waitFrom);
    }

    private LogStore open(FaultyFiles files) {
        return LogStore.builder(dir).partitions(PARTITIONS).segmentBytes(SEGMENT_BYTES).fileOpener(files).open();
    }

    private static Record record(int partition, long n) {
        return Record.of(TestRecords.bytes(partition + ":" + n), new byte[1000], 1_000 + n);
    }

    private static void fill(LogStore store, long from, long to) {
        for (int p = 0; p < PARTITIONS; p++) {
            for (long n = from; n < to; n++) {
                store.append(p, List.of(record(p, n)));
            }
        }
    }

    private static void assertHolds(LogStore store, long count) {
        for (int p = 0; p < PARTITIONS; p++) {
            List<dev.logstore.record.LogRecord> all = TestRecords.readAll(store, p);
            assertEquals(count, all.size(), "partition " + p);
            for (int i = 0; i < count; i++) {
                assertEquals(i, all.get(i).offset());
                assertEquals(record(p, i), all.get(i).record());
            }
        }
    }

    private Path partition(int p) {
        return dir.resolve("partition-" + p);
    }

    private static Path firstIndexFile(Path partitionDir) throws IOException {
        Path log = TestFiles.segmentLogs(partitionDir).get(0);
        return log.resolveSibling(log.getFileName().toString().replace(".log", ".index"));
    }

    /**
     * The directories a close changed last (it writes the active segment's index files) are
     * stamped too: the close waits out the margin once. The next open lists no directory, reads
     * nothing but the last segment's size, and writes nothing; nor does the open after a close that
     * took appends.
     */
    @Test
    void anOpenAfterACleanCloseListsNoDirectory() throws IOException {
        try (LogStore store = open(new FaultyFiles())) {
            fill(store, 0, 30);
        }
        assertTrue(TestFiles.segmentLogs(partition(0)).size() > 2);
        assertTrue(Files.exists(firstIndexFile(partition(0))));
        for (int p = 0; p < PARTITIONS; p++) {
            assertTrue(CloseRecords.directoryUnchanged(dir, p), "partition " + p + " stamped");
        }
        int epoch = Crashes.newestEpoch(partition(0));

        FaultyFiles files = new FaultyFiles();
        try (LogStore store = open(files)) {
            assertEquals(0, files.listings.get(), "no directory listed to open");
            assertEquals(0, files.segmentBytesRead.get(), "no segment read to open");
            assertEquals(0, files.forces.get(), "nothing written to open");
            assertEquals(epoch, Crashes.newestEpoch(partition(0)));
            assertHolds(store, 30);
            fill(store, 30, 40);
        }
        files = new FaultyFiles();
        try (LogStore store = open(files)) {
            assertEquals(0, files.listings.get(), "the close after appends stamped every directory again");
            assertHolds(store, 40);
        }
    }

    /**
     * A file someone leaves in a partition directory while the store is open is seen by the close,
     * which looks at the directory before it takes its stamp: no stamp, and the next open lists the
     * directory and removes the leftover.
     */
    @Test
    void aFileLeftInTheDirectoryBeforeTheCloseIsSeenByTheNextOpen() throws Exception {
        try (LogStore store = open(new FaultyFiles())) {
            fill(store, 0, 30);
            Files.write(partition(0).resolve("left-before-the-close.tmp"), new byte[1]);
            Thread.sleep(100); // settled long before the close
        }
        assertFalse(CloseRecords.directoryUnchanged(dir, 0), "the close saw the leftover");
        assertTrue(CloseRecords.directoryUnchanged(dir, 1));
        FaultyFiles files = new FaultyFiles();
        try (LogStore store = open(files)) {
            assertEquals(1, files.listings.get(), "partition 0 listed, the others not");
            assertFalse(Files.exists(partition(0).resolve("left-before-the-close.tmp")), "the listing found the leftover");
            assertHolds(store, 30);
        }
    }

    /**
     * An index file removed after the close changes the directory: the open lists it, finds the
     * sealed segment without its index files, and writes them again (and removes the leftover a
     * listing finds).
     */
    @Test
    void aFileRemovedAfterTheCloseMakesTheOpenListAndRepair() throws IOException {
        try (LogStore store = open(new FaultyFiles())) {
            fill(store, 0, 30);
        }
        Files.write(partition(0).resolve("left-after-the-close.tmp"), new byte[1]);
        Path index = firstIndexFile(partition(0));
        Files.delete(index);
        assertFalse(CloseRecords.directoryUnchanged(dir, 0));
        assertTrue(CloseRecords.directoryUnchanged(dir, 1), "the other partitions keep their stamps");

        try (LogStore store = open(new FaultyFiles())) {
            assertTrue(Files.exists(index), "the index files were written again");
            assertFalse(Files.exists(partition(0).resolve("left-after-the-close.tmp")), "the listing found the leftover");
            assertHolds(store, 30);
        }
    }

    /**
     * A close of fewer than 10,000 segments does not wait: a directory it changed just before
     * (here, by writing the active segment's index files) gets no stamp unless the close took
     * longer than the margin, and the next open lists it. One changed long before is stamped all
     * the same.
     */
    @Test
    void aSmallCloseStampsTheDirectoriesThatSettled() throws Exception {
        CloseRecords.waitForStampsFromSegments(waitFrom);
        LogStore store = open(new FaultyFiles());
        fill(store, 0, 30);
        Thread.sleep(100); // the directories settle
        // Partition 1's active segment grows past 4 KiB, without a roll: the close writes its index files.
        long next = 30;
        List<Path> logs = TestFiles.segmentLogs(partition(1));
        while (Files.size(logs.get(logs.size() - 1)) <= 4096) {
            store.append(1, List.of(record(1, next++)));
            assertEquals(logs, TestFiles.segmentLogs(partition(1)), "no roll");
        }
        store.close();
        assertTrue(CloseRecords.directoryUnchanged(dir, 2), "settled long before the close");
        try (LogStore reopened = open(new FaultyFiles())) {
            assertEquals(next, TestRecords.readAll(reopened, 1).size());
            assertEquals(30, TestRecords.readAll(reopened, 2).size());
        }
    }

    /** A file added after the close, even one that changes nothing a listing reads, is noticed. */
    @Test
    void aFileAddedAfterTheCloseMakesTheOpenList() throws IOException {
        try (LogStore store = open(new FaultyFiles())) {
            fill(store, 0, 30);
        }
        Path stray = partition(1).resolve("added-after-the-close.tmp");
        Files.write(stray, new byte[1]);
        assertFalse(CloseRecords.directoryUnchanged(dir, 1));
        try (LogStore store = open(new FaultyFiles())) {
            assertFalse(Files.exists(stray), "the listing removed the leftover");
            assertHolds(store, 30);
        }
    }

    /**
     * A partition directory copied away and back holds the same names in a new directory: its key
     * and change time differ, so it is listed, and nothing is lost.
     */
    @Test
    void aDirectoryMadeAgainIsListed() throws IOException {
        try (LogStore store = open(new FaultyFiles())) {
            fill(store, 0, 30);
        }
        Path aside = dir.resolve("aside");
        Files.move(partition(2), aside);
        Files.createDirectory(partition(2));
        List<Path> files = new ArrayList<>();
        try (Stream<Path> list = Files.list(aside)) {
            list.forEach(files::add);
        }
        for (Path file : files) {
            Files.copy(file, partition(2).resolve(file.getFileName()), java.nio.file.StandardCopyOption.COPY_ATTRIBUTES);
        }
        assertFalse(CloseRecords.directoryUnchanged(dir, 2));
        try (LogStore store = open(new FaultyFiles())) {
            assertHolds(store, 30);
            fill(store, 30, 31);
        }
    }

    /**
     * A record written by a build before directory stamps (version 1) still completes the
     * manifests: no segment is read; the directories are listed. The next close stamps them all:
     * the partition written, and those only opened (their listing found them as recorded).
     */
    @Test
    void aRecordWithoutStampsIsStillReadAndTheNextCloseStamps() throws IOException {
        try (LogStore store = open(new FaultyFiles())) {
            fill(store, 0, 30);
        }
        CloseRecords.rewriteAsVersionOne(dir);
        assertFalse(CloseRecords.directoryUnchanged(dir, 0));
        FaultyFiles files = new FaultyFiles();
        try (LogStore store = open(files)) {
            assertEquals(0, files.segmentBytesRead.get(), "the version 1 record completed every manifest");
            store.append(0, List.of(record(0, 30)));
        }
        for (int p = 0; p < PARTITIONS; p++) {
            assertTrue(CloseRecords.directoryUnchanged(dir, p), "partition " + p + " stamped");
        }
    }

    /**
     * A partition opened but not written keeps the entry, and the stamp, of the close that wrote
     * it; one whose directory changed while it was closed gets a new stamp from a close without a
     * write only where its open listed the directory and found it as recorded.
     */
    @Test
    void aPartitionNotWrittenKeepsItsStamp() throws Exception {
        try (LogStore store = open(new FaultyFiles())) {
            fill(store, 0, 30);
        }
        try (LogStore store = open(new FaultyFiles())) {
            store.append(0, List.of(record(0, 30)));
        }
        assertTrue(CloseRecords.directoryUnchanged(dir, 0));
        assertTrue(CloseRecords.directoryUnchanged(dir, 1));
        FaultyFiles files = new FaultyFiles();
        try (LogStore store = open(files)) {
            assertEquals(0, files.segmentBytesRead.get());
            assertEquals(31, store.nextOffset(0));
            assertEquals(30, store.nextOffset(1));
        }

        // Partition 2's directory changes, and is left as the record says by the time it opens.
        Path touched = partition(2).resolve("gone-before-the-open.tmp");
        Files.write(touched, new byte[1]);
        Files.delete(touched);
        assertFalse(CloseRecords.directoryUnchanged(dir, 2));
        Thread.sleep(100); // the change time settles: a listing within a tick of it would vouch for nothing
        try (LogStore store = open(new FaultyFiles())) {
            assertEquals(30, store.nextOffset(2));
        }
        assertFalse(CloseRecords.directoryUnchanged(dir, 2), "an idle open and close writes nothing");
        try (LogStore store = open(new FaultyFiles())) {
            assertEquals(30, store.nextOffset(2));
            store.append(0, List.of(record(0, 31)));
        }
        assertTrue(CloseRecords.directoryUnchanged(dir, 2), "stamped by a close that records another partition");
        // A file left in it: the open lists it, is not quiet, and the close records nothing for it.
        Files.write(partition(2).resolve("stays.tmp"), new byte[1]);
        try (LogStore store = open(new FaultyFiles())) {
            assertEquals(30, store.nextOffset(2));
        }
        assertFalse(Files.exists(partition(2).resolve("stays.tmp")), "removed by the ordinary open");
    }
}
