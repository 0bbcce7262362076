package dev.logstore;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.logstore.record.Record;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LockTest {

    @TempDir
    Path dir;

    @Test
    void aSecondWriterInTheSameProcessIsRefusedNamingTheStore() {
        try (LogStore first = LogStore.open(dir, 2)) {
            StoreLockedException e = assertThrows(StoreLockedException.class, () -> LogStore.open(dir, 2));
            assertTrue(e.getMessage().contains(dir.toString()), e.getMessage());
            assertTrue(e.getMessage().contains("already open for writing"), e.getMessage());
            first.append(0, List.of(Record.of(null, null, 1)));
        }
        LogStore.open(dir, 2).close();
    }

    @Test
    void handlesOwningDifferentPartitionsWriteSideBySide() {
        try (LogStore zero = LogStore.builder(dir).partitions(2).ownedPartitions(Set.of(0)).open();
             LogStore one = LogStore.builder(dir).partitions(2).ownedPartitions(Set.of(1)).open()) {
            zero.append(0, List.of(Record.of(null, TestRecords.bytes("a"), 1)));
            one.append(1, List.of(Record.of(null, TestRecords.bytes("b"), 1)));
            assertThrows(LogStoreException.class, () -> zero.append(1, List.of(Record.of(null, null, 1))));
            assertThrows(StoreLockedException.class,
                    () -> LogStore.builder(dir).partitions(2).ownedPartitions(Set.of(1)).open());
            assertEquals(1, TestRecords.readAll(zero, 1).size(), "a partition owned elsewhere is readable");
        }
    }

    @Test
    void aSecondWriterInAnotherProcessIsRefusedUntilTheFirstDies() throws Exception {
        LogStore.open(dir, 1).close();
        try (ChildProcess holder = new ChildProcess(LockHolder.class, dir.toString())) {
            assertEquals("locked", holder.readLine());
            StoreLockedException e = assertThrows(StoreLockedException.class, () -> LogStore.open(dir, 1));
            assertTrue(e.getMessage().contains("partition 0 of store " + dir), e.getMessage());
            holder.kill();
        }
        try (LogStore store = LogStore.open(dir, 1)) {
            assertEquals(0, store.nextOffset(0), "the dead holder's lock is gone");
        }
    }

    /** Child process: opens the store, says so, and holds it until killed. */
    public static final class LockHolder {
        public static void main(String[] args) throws Exception {
            LogStore store = LogStore.open(Path.of(args[0]), 1);
            System.out.println("locked");
            System.out.flush();
            Thread.sleep(120_000);
            store.close();
        }
    }
}
