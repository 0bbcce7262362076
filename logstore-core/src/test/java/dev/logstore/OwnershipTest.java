package dev.logstore;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.logstore.record.Record;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** One handle taking partitions for writing and giving them back as assignments change. */
class OwnershipTest {

    @TempDir
    Path dir;

    @Test
    void aHandleOwnsAndDisownsPartitionsWhileAnotherHandleTakesThemOver() {
        try (LogStore first = LogStore.builder(dir).partitions(1).growPartitions().ownedPartitions(Set.of()).open();
             LogStore second = LogStore.builder(dir).partitions(1).growPartitions().ownedPartitions(Set.of()).open()) {
            assertFalse(first.isWritable(0));
            first.own(0);
            first.own(0); // owning twice changes nothing
            assertTrue(first.isWritable(0));
            first.append(0, List.of(Record.of(null, TestRecords.bytes("a"), 1)));
            first.own(2);
            assertEquals(3, first.partitionCount(), "owning a partition beyond the count grows the store");
            first.append(2, List.of(Record.of(null, TestRecords.bytes("c"), 1)));

            StoreLockedException taken = assertThrows(StoreLockedException.class, () -> second.own(0));
            assertTrue(taken.getMessage().contains("this process"), taken.getMessage());
            assertThrows(LogStoreException.class, () -> second.append(0, List.of(Record.of(null, null, 1))));

            first.disown(0);
            assertFalse(first.isWritable(0));
            second.own(0);
            assertEquals(1, second.append(0, List.of(Record.of(null, TestRecords.bytes("b"), 2))).baseOffset());
            assertEquals(2, TestRecords.readAll(first, 0).size(), "the disowned partition stays readable");
            first.disown(7); // not owned: nothing to do
        }
        try (LogStore reopened = LogStore.open(dir, 3)) {
            assertEquals(2, reopened.nextOffset(0));
            assertEquals(1, reopened.nextOffset(2));
        }
    }

    @Test
    void ownershipNeedsAWritableHandleAndGrowthNeedsPermission() {
        LogStore.open(dir, 1).close();
        try (LogStore reader = LogStore.builder(dir).readOnly().open()) {
            LogStoreException e = assertThrows(LogStoreException.class, () -> reader.own(0));
            assertTrue(e.getMessage().contains("read-only"), e.getMessage());
        }
        try (LogStore fixed = LogStore.builder(dir).partitions(1).ownedPartitions(Set.of()).open()) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> fixed.own(4));
            assertTrue(e.getMessage().contains("growPartitions()"), e.getMessage());
        }
    }
}
