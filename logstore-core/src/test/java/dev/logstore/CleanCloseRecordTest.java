package dev.logstore;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.logstore.record.LogRecord;
import dev.logstore.record.Record;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A store's close forces each partition's segment and records where every active segment ended
 * in one {@code clean-close} file, rather than writing a clean manifest per partition. The next
 * open, writer or follower, takes the ends from it without reading a segment; an entry that no
 * longer matches the files, a damaged record, or one never written, costs a scan and loses nothing.
 */
class CleanCloseRecordTest {

    private static final int PARTITIONS = 8;

    @TempDir
    Path dir;

    private static List<Record> records(int partition, int from, int count) {
        List<Record> records = new ArrayList<>();
        for (int i = from; i < from + count; i++) {
            records.add(TestRecords.numbered(i, partition * 1000L + i));
        }
        return records;
    }

    private void fill(LogStore store, int from, int count) {
        for (int p = 0; p < PARTITIONS; p++) {
            store.append(p, records(p, from, count));
        }
    }

    private static void assertHolds(LogStore store, int count) {
        for (int p = 0; p < PARTITIONS; p++) {
            List<LogRecord> read = TestRecords.readAll(store, p);
            assertEquals(count, read.size(), "partition " + p);
            for (int i = 0; i < count; i++) {
                assertEquals(i, read.get(i).offset());
                assertEquals(TestRecords.numbered(i, p * 1000L + i), read.get(i).record(), "partition " + p);
            }
        }
    }

    /** Every manifest file under the store, with its bytes' hash. */
    private Map<String, Integer> manifests() throws IOException {
        Map<String, Integer> found = new TreeMap<>();
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path path : (Iterable<Path>) walk::iterator) {
                if (path.getFileName().toString().startsWith("manifest.")) {
                    found.put(dir.relativize(path).toString(), java.util.Arrays.hashCode(Files.readAllBytes(path)));
                }
            }
        }
        return found;
    }

    @Test
    void aCloseForcesEachSegmentOnceAndRecordsEveryEndInOneFileThatTheNextOpensReadInsteadOfSegments()
            throws IOException {
        FaultyFiles counting = new FaultyFiles();
        LogStore store = LogStore.builder(dir).partitions(PARTITIONS).durability(Durability.onFlush())
                .fileOpener(counting).open();
        fill(store, 0, 5);
        store.flush(); // the epochs' first manifests are durable from here on
        fill(store, 5, 5); // not forced yet
        Map<String, Integer> before = manifests();
        long forces = counting.forces.get();
        store.close();
        assertEquals(PARTITIONS + 2, counting.forces.get() - forces,
                "one fsync per segment, then the record's file and the store directory");
        assertEquals(before, manifests(), "no manifest is written at a store close");
        assertTrue(Files.isRegularFile(dir.resolve("clean-close")));

        FaultyFiles reading = new FaultyFiles();
        try (LogStore follower = LogStore.builder(dir).readOnly().fileOpener(reading).open()) {
            for (int p = 0; p < PARTITIONS; p++) {
                assertEquals(10, follower.nextOffset(p));
            }
            assertEquals(0, reading.segmentBytesRead.get(), "a follower reads no segment to learn where the partitions end");
            assertHolds(follower, 10);
        }
        reading = new FaultyFiles();
        try (LogStore reopened = LogStore.builder(dir).partitions(PARTITIONS).fileOpener(reading).open()) {
            assertEquals(0, reading.segmentBytesRead.get(), "a writer reads no segment either");
            assertEquals(0, reading.forces.get());
            fill(reopened, 10, 2);
            assertHolds(reopened, 12);
        }
        try (LogStore reopened = LogStore.open(dir, PARTITIONS)) {
            assertHolds(reopened, 12);
        }
    }

    @Test
    void anEntryThatNoLongerMatchesItsSegmentIsIgnoredAndThePartitionScanned() throws IOException {
        try (LogStore store = LogStore.builder(dir).partitions(PARTITIONS).open()) {
            fill(store, 0, 6);
        }
        // Bytes added to partition 3's active segment behind the store's back: its size no longer
        // matches, so the open scans it and cuts what is not a whole batch.
        Path partition = dir.resolve(LogStore.partitionDirectoryName(3));
        Path active;
        try (Stream<Path> logs = Files.list(partition)) {
            active = logs.filter(f -> f.toString().endsWith(".log")).max(Path::compareTo).orElseThrow();
        }
        long size = Files.size(active);
        Files.write(active, new byte[] {1, 2, 3, 4, 5, 6, 7}, StandardOpenOption.APPEND);
        try (LogStore reopened = LogStore.open(dir, PARTITIONS)) {
            assertHolds(reopened, 6);
            assertEquals(size, Files.size(active), "the scan cut the stray bytes");
            reopened.append(3, records(3, 6, 1));
        }
        try (LogStore reopened = LogStore.builder(dir).readOnly().open()) {
            assertEquals(7, TestRecords.readAll(reopened, 3).size());
        }
    }

    @Test
    void aDamagedOrMissingRecordCostsAScanAndLosesNothing() throws IOException {
        try (LogStore store = LogStore.builder(dir).partitions(PARTITIONS).open()) {
            fill(store, 0, 4);
        }
        Path record = dir.resolve("clean-close");
        byte[] bytes = Files.readAllBytes(record);
        bytes[bytes.length / 2] ^= 0x10;
        Files.write(record, bytes);
        FaultyFiles reading = new FaultyFiles();
        try (LogStore reopened = LogStore.builder(dir).readOnly().fileOpener(reading).open()) {
            assertHolds(reopened, 4);
        }
        FaultyFiles scanning = new FaultyFiles();
        try (LogStore reopened = LogStore.builder(dir).partitions(PARTITIONS).fileOpener(scanning).open()) {
            assertTrue(scanning.segmentBytesRead.get() > 0, "the damaged record is ignored: the active segments are scanned");
            assertHolds(reopened, 4);
            fill(reopened, 4, 1);
        }
        Files.delete(record);
        try (LogStore reopened = LogStore.open(dir, PARTITIONS)) {
            assertHolds(reopened, 5);
        }
    }

    @Test
    void aRecordThatCannotBeWrittenFailsNothingAndTheNextOpenScans() throws IOException {
        FaultyFiles faulty = new FaultyFiles();
        LogStore store = LogStore.builder(dir).partitions(PARTITIONS).fileOpener(faulty).open();
        fill(store, 0, 3);
        faulty.failWrites = path -> path.getFileName().toString().startsWith("clean-close");
        store.close(); // the partitions are durable; the record is only a shortcut for the next open
        assertTrue(Files.notExists(dir.resolve("clean-close")));
        try (Stream<Path> files = Files.list(dir)) {
            assertTrue(files.noneMatch(f -> f.getFileName().toString().endsWith(".tmp")), "no temporary file is left");
        }
        FaultyFiles scanning = new FaultyFiles();
        try (LogStore reopened = LogStore.builder(dir).partitions(PARTITIONS).fileOpener(scanning).open()) {
            assertTrue(scanning.segmentBytesRead.get() > 0);
            assertHolds(reopened, 3);
        }
    }

    @Test
    void aPartitionClosedOnItsOwnGetsACleanManifestThatSupersedesItsEntry() throws IOException {
        try (LogStore store = LogStore.builder(dir).partitions(PARTITIONS).open()) {
            fill(store, 0, 2);
        }
        try (LogStore store = LogStore.builder(dir).partitions(PARTITIONS).open()) {
            store.append(1, records(1, 2, 3));
            store.disown(1); // a clean manifest of its own, as before
            FaultyFiles reading = new FaultyFiles();
            try (LogStore follower = LogStore.builder(dir).readOnly().fileOpener(reading).open()) {
                assertEquals(5, follower.nextOffset(1));
                assertEquals(0, reading.segmentBytesRead.get());
            }
        }
        FaultyFiles reading = new FaultyFiles();
        try (LogStore reopened = LogStore.builder(dir).partitions(PARTITIONS).fileOpener(reading).open()) {
            assertEquals(0, reading.segmentBytesRead.get());
            assertEquals(5, reopened.nextOffset(1));
            assertEquals(2, reopened.nextOffset(0));
        }
    }

    @Test
    void storesInTwoProcessesClosingTheirOwnPartitionsAtOnceKeepEachOthersEntries() throws Exception {
        try (LogStore store = LogStore.builder(dir).partitions(PARTITIONS).open()) {
            fill(store, 0, 1);
        }
        Set<Integer> mine = Set.of(0, 1, 2, 3);
        for (int round = 1; round <= 5; round++) {
            try (ChildProcess other = new ChildProcess(OwnerOfTheUpperHalf.class, dir.toString(),
                    String.valueOf(round))) {
                assertEquals("appended", other.readLine());
                LogStore store = LogStore.builder(dir).ownedPartitions(mine).fileOpener(new FaultyFiles()).open();
                for (int p : mine) {
                    store.append(p, records(p, round, 1));
                }
                other.send("close");
                store.close();
                assertEquals("closed", other.readLine());
            }
            FaultyFiles reading = new FaultyFiles();
            try (LogStore reopened = LogStore.builder(dir).readOnly().fileOpener(reading).open()) {
                for (int p = 0; p < PARTITIONS; p++) {
                    assertEquals(round + 1, reopened.nextOffset(p), "partition " + p);
                }
                assertEquals(0, reading.segmentBytesRead.get(), "round " + round + ": both closes' entries are in the record");
                assertHolds(reopened, round + 1);
            }
        }
    }

    /** Child: owns partitions 4 to 7, appends one record to each, closes the store when told to. */
    public static final class OwnerOfTheUpperHalf {
        public static void main(String[] args) throws Exception {
            int round = Integer.parseInt(args[1]);
            BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
            LogStore store = LogStore.builder(Path.of(args[0])).ownedPartitions(Set.of(4, 5, 6, 7)).open();
            for (int p = 4; p < 8; p++) {
                store.append(p, records(p, round, 1));
            }
            System.out.println("appended");
            System.out.flush();
            if ("close".equals(in.readLine())) {
                store.close();
                System.out.println("closed");
                System.out.flush();
            }
        }
    }
}
