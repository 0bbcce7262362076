package dev.logstore;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.logstore.record.Record;
import java.nio.file.Files;
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

    @Test
    void processesOwningDifferentPartitionsShareTheLockFileAndAreRefusedEachOthers() throws Exception {
        LogStore.open(dir, 4).close();
        try (ChildProcess holder = new ChildProcess(LockHolder.class, dir.toString(), "4", "1,3")) {
            assertEquals("locked", holder.readLine());
            try (LogStore mine = LogStore.builder(dir).partitions(4).ownedPartitions(Set.of(0, 2)).open()) {
                mine.append(2, List.of(Record.of(null, TestRecords.bytes("x"), 1)));
                StoreLockedException e = assertThrows(StoreLockedException.class,
                        () -> LogStore.builder(dir).partitions(4).ownedPartitions(Set.of(3)).open());
                assertTrue(e.getMessage().contains("another process"), e.getMessage());
            }
            holder.kill();
        }
    }

    @Test
    void manyOwnedPartitionsHoldOneLockDescriptor() throws Exception {
        LogStore.open(dir, 200).close();
        long before = openDescriptors();
        try (LogStore store = LogStore.open(dir, 200)) {
            long locks = lockDescriptors();
            assertEquals(1, locks, "one descriptor for the locks of 200 partitions");
            assertTrue(openDescriptors() - before < 200 + 20, "one active segment each at most, not two files each");
        }
    }

    /**
     * Partitions from 1024 on lock a byte of a lock file of their own group of 1,024 (one list of
     * locks per file is what Java checks each new lock against); another process is refused them
     * all the same, and a process writing 2,100 partitions holds three lock descriptors.
     */
    @Test
    void partitionsBeyondTheFirstThousandAndTwentyFourLockInFilesOfTheirOwnAcrossProcesses() throws Exception {
        LogStore.open(dir, 2100).close();
        try (ChildProcess holder = new ChildProcess(LockHolder.class, dir.toString(), "2100", "5,1500,2099")) {
            assertEquals("locked", holder.readLine());
            assertTrue(Files.exists(dir.resolve(".partitions-1.lock")), "partition 1500 locks in .partitions-1.lock");
            assertTrue(Files.exists(dir.resolve(".partitions-2.lock")), "partition 2099 locks in .partitions-2.lock");
            for (int refused : new int[] {5, 1500, 2099}) {
                StoreLockedException e = assertThrows(StoreLockedException.class,
                        () -> LogStore.builder(dir).partitions(2100).ownedPartitions(Set.of(refused)).open());
                assertTrue(e.getMessage().contains("another process"), e.getMessage());
            }
            // Bytes 5, 1500 % 1024 and 2099 % 1024 of the other files are other partitions: free.
            try (LogStore mine = LogStore.builder(dir).partitions(2100)
                    .ownedPartitions(Set.of(1029, 5 + 1024 * 2, 1500 - 1024)).open()) {
                mine.append(1029, List.of(Record.of(null, TestRecords.bytes("x"), 1)));
            }
            holder.kill();
        }
        long before = openDescriptors();
        try (LogStore store = LogStore.open(dir, 2100)) {
            long locks = lockDescriptors();
            assertEquals(3, locks, "one descriptor per lock file");
            assertTrue(openDescriptors() > before);
        }
    }

    /** A refused writer is told which lock file and byte another holds. */
    @Test
    void theRefusalNamesTheByteThatIsLocked() {
        LogStore.open(dir, 1100).close();
        try (LogStore holder = LogStore.builder(dir).partitions(1100).ownedPartitions(Set.of(1050)).open()) {
            StoreLockedException e = assertThrows(StoreLockedException.class,
                    () -> LogStore.builder(dir).partitions(1100).ownedPartitions(Set.of(1050)).open());
            assertTrue(e.getMessage().contains(".partitions-1.lock"), e.getMessage());
            assertTrue(e.getMessage().contains("byte 26"), e.getMessage());
        }
    }

    /** Growing a store across 1024 partitions: the new partitions lock in the new file, one writer each. (Held up.) */
    @Test
    void growingAcross1024KeepsOneWriterPerPartition() {
        LogStore.open(dir, 1000).close();
        try (LogStore grown = LogStore.builder(dir).partitions(1030).growPartitions().open()) {
            grown.append(1029, List.of(Record.of(null, TestRecords.bytes("x"), 1)));
            assertTrue(Files.exists(dir.resolve(".partitions-1.lock")));
            for (int p : new int[] {5, 1023, 1024, 1029}) {
                assertThrows(StoreLockedException.class,
                        () -> LogStore.builder(dir).partitions(1030).ownedPartitions(Set.of(p)).open(), "partition " + p);
            }
        }
        try (LogStore a = LogStore.builder(dir).partitions(1030).ownedPartitions(Set.of(5)).open();
             LogStore b = LogStore.builder(dir).partitions(1030).ownedPartitions(Set.of(1029)).open()) {
            // byte 5 of .partitions.lock and byte 5 of .partitions-1.lock are different partitions
            b.append(1029, List.of(Record.of(null, TestRecords.bytes("y"), 2)));
            a.append(5, List.of(Record.of(null, TestRecords.bytes("z"), 3)));
            assertThrows(StoreLockedException.class,
                    () -> LogStore.builder(dir).partitions(1030).ownedPartitions(Set.of(1029)).open());
        }
    }

    /** Descriptors this process holds on lock files. */
    private static long lockDescriptors() throws java.io.IOException {
        try (java.util.stream.Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
            return fds.filter(fd -> {
                try {
                    return Files.readSymbolicLink(fd).getFileName().toString().endsWith(".lock");
                } catch (java.io.IOException e) {
                    return false; // closed meanwhile
                }
            }).count();
        }
    }

    private static long openDescriptors() throws java.io.IOException {
        try (java.util.stream.Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
            return fds.count();
        }
    }

    @Test
    void aSecondPathToTheLockFileFindsTheSameLocks() throws Exception {
        // A hard link stands for any second path to the same file (a bind mount, another mount of the share).
        Path lockFile = dir.resolve("locks");
        Files.createFile(lockFile);
        Path link = Files.createLink(dir.resolve("same-locks"), lockFile);
        try (dev.logstore.io.FileLocks.Held held = dev.logstore.io.FileLocks.tryLock(dev.logstore.io.FileOpener.DEFAULT,
                lockFile, 5)) {
            dev.logstore.io.FileLocks.BusyException busy = assertThrows(dev.logstore.io.FileLocks.BusyException.class,
                    () -> dev.logstore.io.FileLocks.tryLock(dev.logstore.io.FileOpener.DEFAULT, link, 5));
            assertEquals(dev.logstore.io.FileLocks.Busy.THIS_PROCESS, busy.busy());
            // Taking and giving back another byte through the second path must not release byte 5.
            dev.logstore.io.FileLocks.tryLock(dev.logstore.io.FileOpener.DEFAULT, link, 6).close();
            try (ChildProcess other = new ChildProcess(RegionProbe.class, lockFile.toString(), "5")) {
                assertEquals("busy", other.readLine(), "another process still finds byte 5 locked");
            }
        }
        try (ChildProcess other = new ChildProcess(RegionProbe.class, lockFile.toString(), "5")) {
            assertEquals("free", other.readLine());
        }
    }

    @Test
    void aLogStore01WriterStillHoldingAPartitionIsRefused() throws Exception {
        LogStore.open(dir, 2).close();
        Path legacyLock = dir.resolve("partition-1/.lock");
        Files.createFile(legacyLock);
        try (ChildProcess legacyWriter = new ChildProcess(WholeFileLockHolder.class, legacyLock.toString())) {
            assertEquals("locked", legacyWriter.readLine());
            StoreLockedException e = assertThrows(StoreLockedException.class, () -> LogStore.open(dir, 2));
            assertTrue(e.getMessage().contains("LogStore 0.1"), e.getMessage());
            legacyWriter.kill();
        }
        try (LogStore store = LogStore.open(dir, 2)) {
            store.append(1, List.of(Record.of(null, TestRecords.bytes("y"), 1)));
        }
        assertTrue(Files.notExists(legacyLock), "the old lock file is removed once no one holds it");
    }

    /** Child process: opens the store owning the given partitions, says so, and holds it until killed. */
    public static final class LockHolder {
        public static void main(String[] args) throws Exception {
            LogStore.Builder builder = LogStore.builder(Path.of(args[0]));
            if (args.length > 1) {
                java.util.Set<Integer> owned = new java.util.HashSet<>();
                for (String p : args[2].split(",")) {
                    owned.add(Integer.parseInt(p));
                }
                builder.partitions(Integer.parseInt(args[1])).ownedPartitions(owned);
            } else {
                builder.partitions(1);
            }
            LogStore store = builder.open();
            System.out.println("locked");
            System.out.flush();
            Thread.sleep(120_000);
            store.close();
        }
    }

    /** Child process: says whether byte args[1] of file args[0] can be locked, and exits. */
    public static final class RegionProbe {
        public static void main(String[] args) throws Exception {
            try (java.nio.channels.FileChannel channel = java.nio.channels.FileChannel.open(Path.of(args[0]),
                    java.nio.file.StandardOpenOption.WRITE)) {
                java.nio.channels.FileLock lock = channel.tryLock(Long.parseLong(args[1]), 1, false);
                System.out.println(lock == null ? "busy" : "free");
            }
        }
    }

    /** Child process: locks the whole file, as LogStore 0.1 locked a partition, and holds it until killed. */
    public static final class WholeFileLockHolder {
        public static void main(String[] args) throws Exception {
            try (java.nio.channels.FileChannel channel = java.nio.channels.FileChannel.open(Path.of(args[0]),
                    java.nio.file.StandardOpenOption.WRITE)) {
                channel.lock();
                System.out.println("locked");
                System.out.flush();
                Thread.sleep(120_000);
            }
        }
    }
}
