package dev.logstore;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.logstore.record.LogRecord;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A store's close that leaves an empty active segment records size 0 for it, while the manifest
 * on disk still names the file as that epoch's active segment. The record does not let the next
 * writer take the empty file over without a durable manifest of its own: otherwise an OS crash
 * before the first flush would leave batches of the new epoch in a file the surviving manifest
 * gives to the old one, which recovery refuses as damage. Nothing acknowledged is lost either way.
 */
class EmptySegmentTakeOverCrashTest {

    @TempDir
    Path dir;

    @Test
    void anOsCrashBeforeTheFirstFlushAfterReopeningAPartitionClosedWithAnEmptySegmentOpens()
            throws Exception {
        Path store = dir.resolve("store");
        Path part = store.resolve(LogStore.partitionDirectoryName(0));
        try (LogStore s = LogStore.builder(store).partitions(1).durability(Durability.onFlush()).open()) {
            s.append(0, List.of(TestRecords.numbered(0, 1L), TestRecords.numbered(1, 1L)));
        }
        // The record is lost (it may be: "read as empty then"), so the next open recovers the partition
        // the ordinary way: a new epoch, its manifest written durably, a new EMPTY active segment.
        Files.delete(store.resolve("clean-close"));
        try (LogStore s = LogStore.builder(store).partitions(1).durability(Durability.onFlush()).open()) {
            assertEquals(2, s.nextOffset(0));
            // closed without a write: the record now says the active segment ended at size 0
        }
        HookedFiles.DirState durable = HookedFiles.snapshot(part); // everything so far on disk
        HookedFiles files = new HookedFiles();
        LogStore s = LogStore.builder(store).partitions(1).durability(Durability.onFlush()).fileOpener(files).open();
        try {
            // Quiet open; the first write claims the next epoch and takes the empty segment over.
            s.append(0, List.of(TestRecords.numbered(2, 1L)));
            s.append(0, List.of(TestRecords.numbered(3, 1L)));
            // Not flushed: nothing acknowledged as durable. A power loss now:
            HookedFiles.crashImage(store, part, files.durable.getOrDefault(part, durable), dir.resolve("crash"));
        } finally {
            s.close();
        }
        try (LogStore crashed = LogStore.builder(dir.resolve("crash")).partitions(1).open()) {
            List<LogRecord> records = TestRecords.readAll(crashed, 0);
            org.junit.jupiter.api.Assertions.assertTrue(records.size() >= 2,
                    "the two records acknowledged before the crash are there");
        }
    }
}
