package dev.logstore;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.logstore.record.LogRecord;
import dev.logstore.record.Record;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Writes, fsyncs and rolls that fail as a failing disk makes them fail: the partition stops
 * taking appends (fail-stop) and says why, readers go on, nothing acknowledged is lost, a roll
 * either completes or leaves nothing behind, and a reopen recovers. The real full disk is in
 * {@link DiskFullTest}.
 */
class FaultInjectionTest {

    @TempDir
    Path dir;

    private final FaultyFiles files = new FaultyFiles();

    private LogStore open(long segmentBytes, Durability durability) {
        return LogStore.builder(dir).partitions(1).segmentBytes(segmentBytes).durability(durability)
                .fileOpener(files).open();
    }

    private List<Path> files(String suffix) throws IOException {
        try (Stream<Path> list = Files.list(dir.resolve("partition-0"))) {
            return list.filter(f -> f.getFileName().toString().endsWith(suffix)).sorted().toList();
        }
    }

    private static Record record(long n) {
        return TestRecords.numbered(n, 1_000 + n);
    }

    private static List<Record> append(LogStore store, long from, int count) {
        List<Record> acknowledged = new ArrayList<>();
        for (long n = from; n < from + count; n++) {
            store.append(0, List.of(record(n)));
            acknowledged.add(record(n));
        }
        return acknowledged;
    }

    /** Reopens without faults and checks that the partition holds exactly {@code expected}, then can append. */
    private void assertReopenHolds(List<Record> expected) {
        try (LogStore store = LogStore.open(dir, 1)) {
            List<LogRecord> records = TestRecords.readAll(store, 0);
            assertEquals(expected.size(), records.size(), "every acknowledged record, and no torn one");
            for (int i = 0; i < expected.size(); i++) {
                assertEquals(i, records.get(i).offset());
                assertEquals(expected.get(i), records.get(i).record());
            }
            assertEquals(expected.size(), store.append(0, List.of(record(expected.size()))).baseOffset(),
                    "appends go on after recovery");
        }
    }

    @Test
    void aWriteThatFailsHalfwayStopsThePartitionAndTheReopenKeepsEveryAcknowledgedRecord() {
        List<Record> acknowledged;
        try (LogStore store = open(1 << 20, Durability.always())) {
            acknowledged = append(store, 0, 50);
            files.failWrites = FaultyFiles.named(".log");
            PartitionFailedException failed = assertThrows(PartitionFailedException.class,
                    () -> store.append(0, List.of(record(50))));
            assertTrue(failed.getMessage().contains("Input/output error"), failed.getMessage());
            assertTrue(failed.getMessage().contains("reopen the store"), failed.getMessage());
            files.heal();
            PartitionFailedException refused = assertThrows(PartitionFailedException.class,
                    () -> store.append(0, List.of(record(50))));
            assertTrue(refused.getMessage().contains("stopped taking appends after an earlier failure"),
                    refused.getMessage());
            assertTrue(refused.getMessage().contains("Input/output error"), "names the cause: " + refused.getMessage());
            assertThrows(PartitionFailedException.class, store::flush);
            assertEquals(50, TestRecords.readAll(store, 0).size(), "readers go on reading what was published");
        }
        assertReopenHolds(acknowledged);
    }

    @Test
    void aFailedFsyncIsNeverForgottenByALaterOneThatSucceeds() {
        List<Record> acknowledged;
        try (LogStore store = open(1 << 20, Durability.onFlush())) {
            acknowledged = append(store, 0, 10);
            store.flush();
            append(store, 10, 10);
            files.failForces = FaultyFiles.named(".log");
            PartitionFailedException failed = assertThrows(PartitionFailedException.class, store::flush);
            assertTrue(failed.getMessage().contains("fsync"), failed.getMessage());
            files.heal();
            // The kernel may have dropped the pages whose writeback failed: a second fsync that
            // succeeds proves nothing, so the partition stays stopped.
            assertThrows(PartitionFailedException.class, store::flush);
            assertThrows(PartitionFailedException.class, () -> store.append(0, List.of(record(20))));
        }
        try (LogStore store = LogStore.open(dir, 1)) {
            List<LogRecord> records = TestRecords.readAll(store, 0);
            assertTrue(records.size() >= acknowledged.size());
            for (int i = 0; i < acknowledged.size(); i++) {
                assertEquals(acknowledged.get(i), records.get(i).record());
            }
        }
    }

    @Test
    void aRollThatCannotCreateItsSegmentLeavesNothingBehind() throws IOException {
        List<Record> acknowledged = new ArrayList<>();
        try (LogStore store = open(2048, Durability.always())) {
            acknowledged.addAll(append(store, 0, 10));
            long segmentsBefore = files(".log").size();
            files.failOpens = path -> path.getFileName().toString().endsWith(".log") && !Files.exists(path);
            long n = acknowledged.size();
            PartitionFailedException failed = null;
            while (failed == null) {
                try {
                    store.append(0, List.of(record(n)));
                    acknowledged.add(record(n++));
                } catch (PartitionFailedException e) {
                    failed = e;
                }
            }
            assertTrue(failed.getMessage().contains("Too many open files"), failed.getMessage());
            assertFalse(failed.getMessage().contains("disk space"), "no wrong advice: " + failed.getMessage());
            files.heal();
            assertEquals(segmentsBefore, files(".log").size(), "no segment file was left behind");
            assertTrue(files(".tmp").isEmpty());
            PartitionFailedException refused = assertThrows(PartitionFailedException.class,
                    () -> store.append(0, List.of(record(999))));
            assertTrue(refused.getMessage().contains("Too many open files"), refused.getMessage());
        }
        assertReopenHolds(acknowledged);
    }

    @Test
    void aRollWhoseManifestCannotBeWrittenRemovesTheSegmentItCreated() throws IOException {
        List<Record> acknowledged = new ArrayList<>();
        try (LogStore store = open(2048, Durability.always())) {
            acknowledged.addAll(append(store, 0, 3));
            List<Path> before = files(".log");
            files.failWrites = FaultyFiles.named(".tmp");
            long n = acknowledged.size();
            PartitionFailedException failed = null;
            while (failed == null) {
                try {
                    store.append(0, List.of(record(n)));
                    acknowledged.add(record(n++));
                } catch (PartitionFailedException e) {
                    failed = e;
                }
            }
            assertTrue(failed.getMessage().contains("manifest"), failed.getMessage());
            files.heal();
            assertEquals(before, files(".log"), "the new segment the manifest never named is gone");
            assertTrue(files(".tmp").isEmpty(), "no temporary manifest is left");
        }
        assertReopenHolds(acknowledged);
    }

    @Test
    void aRollWhoseDirectoryFsyncFailsStopsThePartitionAndTheReopenGoesOn() {
        List<Record> acknowledged = new ArrayList<>();
        try (LogStore store = open(2048, Durability.always())) {
            acknowledged.addAll(append(store, 0, 3));
            files.failForces = FaultyFiles.directories();
            long n = acknowledged.size();
            PartitionFailedException failed = null;
            while (failed == null) {
                try {
                    store.append(0, List.of(record(n)));
                    acknowledged.add(record(n++));
                } catch (PartitionFailedException e) {
                    failed = e;
                }
            }
            assertTrue(failed.getMessage().contains("fsync failure"), failed.getMessage());
            files.heal();
            PartitionFailedException refused = assertThrows(PartitionFailedException.class,
                    () -> store.append(0, List.of(record(999))));
            assertFalse(refused.getMessage().contains("FileAlreadyExists"), refused.getMessage());
        }
        assertReopenHolds(acknowledged);
    }

    @Test
    void anInterruptDuringTheWriteStopsThePartitionAndTheReopenKeepsWhatWasAcknowledged() {
        List<Record> acknowledged;
        try (LogStore store = open(1 << 20, Durability.always())) {
            acknowledged = append(store, 0, 20);
            files.interruptWrites = FaultyFiles.named(".log");
            PartitionFailedException failed = assertThrows(PartitionFailedException.class,
                    () -> store.append(0, List.of(record(20))));
            assertTrue(Thread.interrupted(), "the interrupt stays visible to the thread");
            assertTrue(failed.getMessage().contains("interrupted"), failed.getMessage());
            files.heal();
            assertThrows(PartitionFailedException.class, () -> store.append(0, List.of(record(20))));
        } finally {
            Thread.interrupted();
        }
        assertReopenHolds(acknowledged);
    }

    @Test
    void aPartitionCloseThatCannotWriteItsManifestSaysSoAndTheReopenRecovers() {
        List<Record> acknowledged;
        LogStore store = open(1 << 20, Durability.always());
        acknowledged = append(store, 0, 5);
        files.failWrites = FaultyFiles.named(".tmp");
        // Closing one partition writes its clean manifest (a store's close writes one record for all;
        // CleanCloseRecordTest fails that one).
        LogStoreException failed = assertThrows(LogStoreException.class, () -> store.disown(0));
        assertTrue(failed.getMessage().contains("manifest"), failed.getMessage());
        files.heal();
        store.close();
        assertReopenHolds(acknowledged);
    }
}
