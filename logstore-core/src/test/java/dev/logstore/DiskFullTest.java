package dev.logstore;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.logstore.record.LogRecord;
import dev.logstore.record.Record;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A full disk and a read-only filesystem, for real: a 1 MiB tmpfs mounted for the test. Needs the
 * right to mount (root on Linux); elsewhere the tests are skipped, saying so.
 */
class DiskFullTest {

    @TempDir
    Path work;

    private Path mountPoint;

    @BeforeEach
    void mountSmallTmpfs() throws Exception {
        mountPoint = Files.createDirectories(work.resolve("small"));
        String problem = run("mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", mountPoint.toString());
        Assumptions.assumeTrue(problem == null, "cannot mount a 1 MiB tmpfs here (" + problem
                + "); the disk-full tests need root on Linux");
    }

    @AfterEach
    void unmount() throws Exception {
        if (mountPoint != null) {
            run("umount", mountPoint.toString());
        }
    }

    /** Runs a command; null when it succeeded, else what it said. */
    private static String run(String... command) throws IOException, InterruptedException {
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
        return process.waitFor() == 0 ? null : "exit " + process.exitValue() + ": " + output;
    }

    /** With mapped appends, the full disk is met by the zeros written ahead of the map, not by a store into it. */
    @ParameterizedTest(name = "mapped appends: {0}")
    @ValueSource(booleans = {false, true})
    void aFullDiskGivesAClearErrorAndLosesNothingAcknowledged(boolean mapped) throws Exception {
        Path dir = mountPoint.resolve("store");
        List<Record> acknowledged = new ArrayList<>();
        LogStoreException full = null;
        LogStore store = LogStore.builder(dir).partitions(1).segmentBytes(64 * 1024).durability(Durability.always())
                .mappedAppends(mapped).open();
        try {
            for (int i = 0; i < 100_000 && full == null; i++) {
                Record record = TestRecords.numbered(i, i);
                try {
                    store.append(0, List.of(record));
                    acknowledged.add(record);
                } catch (LogStoreException e) {
                    full = e;
                }
            }
        } finally {
            try {
                store.close();
            } catch (LogStoreException closeFailed) {
                // Writing the indexes on close may find no room either; recovery covers it.
            }
        }
        assertTrue(full != null, "a 1 MiB filesystem must fill up");
        assertTrue(full.getMessage().contains("No space left on device"), full.getMessage());
        assertTrue(full instanceof PartitionFailedException, "a failed write stops the partition: " + full);
        assertTrue(acknowledged.size() > 1000);
        // Read-only, the full disk holds exactly what was acknowledged.
        try (LogStore reader = LogStore.builder(dir).readOnly().open()) {
            assertAcknowledged(acknowledged, TestRecords.readAll(reader, 0));
        }
        // Opening for writing needs room for a new segment and manifest: refused clearly, nothing lost.
        // With mapped appends the failed writer may have left zeros it reserved, which the recovery
        // gives back: then the open finds room, and holds exactly the acknowledged records.
        try (LogStore opened = LogStore.builder(dir).partitions(1).segmentBytes(64 * 1024).open()) {
            assertTrue(mapped, "a plain writer leaves no room for the open to find");
            assertAcknowledged(acknowledged, TestRecords.readAll(opened, 0));
        } catch (LogStoreException refused) {
            assertTrue(refused.getMessage().contains("No space left on device"), refused.getMessage());
        }
        try (LogStore reader = LogStore.builder(dir).readOnly().open()) {
            assertAcknowledged(acknowledged, TestRecords.readAll(reader, 0));
        }
        // With room again, the writer recovers the partition and goes on after the last acknowledged record.
        String grow = run("mount", "-o", "remount,size=4m", mountPoint.toString());
        Assumptions.assumeTrue(grow == null, "cannot grow the tmpfs: " + grow);
        try (LogStore reopened = LogStore.builder(dir).partitions(1).segmentBytes(64 * 1024).open()) {
            assertAcknowledged(acknowledged, TestRecords.readAll(reopened, 0));
            assertEquals(acknowledged.size(), reopened.append(0, List.of(TestRecords.numbered(-1, 1))).baseOffset());
        }
    }

    private static void assertAcknowledged(List<Record> acknowledged, List<LogRecord> records) {
        assertEquals(acknowledged.size(), records.size(), "every acknowledged record, nothing more");
        for (int i = 0; i < records.size(); i++) {
            assertEquals(acknowledged.get(i), records.get(i).record());
        }
    }

    @Test
    void aReadOnlyFilesystemRefusesWritersClearlyAndServesReaders() throws Exception {
        Path dir = mountPoint.resolve("store");
        try (LogStore store = LogStore.open(dir, 1)) {
            store.append(0, List.of(TestRecords.numbered(0, 1)));
        }
        String remount = run("mount", "-o", "remount,ro", mountPoint.toString());
        Assumptions.assumeTrue(remount == null, "cannot remount read-only: " + remount);
        LogStoreException e = assertThrows(LogStoreException.class, () -> LogStore.open(dir, 1));
        assertTrue(e.getMessage().contains(dir.toString()), e.getMessage());
        try (LogStore reader = LogStore.builder(dir).readOnly().open()) {
            assertEquals(1, TestRecords.readAll(reader, 0).size());
        }
    }
}
