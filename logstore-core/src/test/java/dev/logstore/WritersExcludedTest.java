package dev.logstore;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.logstore.record.Record;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link LogStore#excludeWriters}: no writer, in this process or another, while a store is moved whole. */
class WritersExcludedTest {

    @TempDir
    Path root;

    private Path storeWithRecords(String name, int partitions) {
        Path dir = root.resolve(name);
        try (LogStore store = LogStore.open(dir, partitions)) {
            for (int p = 0; p < partitions; p++) {
                store.append(p, List.of(Record.of(null, TestRecords.bytes("r" + p), 1)));
            }
        }
        return dir;
    }

    @Test
    void aWriterOfAnyPartitionInThisProcessIsWaitedForAndThenRefused() throws Exception {
        Path dir = storeWithRecords("s", 4);
        LogStore writer = LogStore.builder(dir).partitions(4).ownedPartitions(Set.of(3)).open();
        StoreLockedException busy = assertThrows(StoreLockedException.class,
                () -> LogStore.excludeWriters(dir, Duration.ofMillis(200)));
        assertTrue(busy.getMessage().contains("this process") && busy.getMessage().contains(".partitions.lock"),
                busy.getMessage());

        // A writer that closes while the exclusion waits lets it in.
        CompletableFuture<Void> closing = CompletableFuture.runAsync(() -> {
            sleep(300);
            writer.close();
        });
        try (WritersExcluded excluded = LogStore.excludeWriters(dir, Duration.ofSeconds(10))) {
            closing.get(10, TimeUnit.SECONDS);
            for (int p = 0; p < 4; p++) {
                int partition = p;
                assertThrows(StoreLockedException.class,
                        () -> LogStore.builder(dir).partitions(4).ownedPartitions(Set.of(partition)).open(),
                        "partition " + p + " cannot be opened for writing while writers are excluded");
            }
            try (LogStore reader = LogStore.builder(dir).readOnly().open()) {
                assertEquals(1, TestRecords.readAll(reader, 2).size(), "readers are not excluded");
            }
        }
        try (LogStore again = LogStore.open(dir, 4)) {
            again.append(0, List.of(Record.of(null, TestRecords.bytes("after"), 2)));
            assertEquals(2, again.nextOffset(0), "writers come back once the exclusion is closed");
        }
    }

    @Test
    void aWriterInAnotherProcessKeepsTheExclusionOutAndIsKeptOutByIt() throws Exception {
        Path dir = storeWithRecords("s", 3);
        try (ChildProcess holder = new ChildProcess(LockTest.LockHolder.class, dir.toString(), "3", "1")) {
            assertEquals("locked", holder.readLine());
            StoreLockedException busy = assertThrows(StoreLockedException.class,
                    () -> LogStore.excludeWriters(dir, Duration.ofMillis(300)));
            assertTrue(busy.getMessage().contains("another process"), busy.getMessage());
            holder.kill();
        }
        try (WritersExcluded excluded = LogStore.excludeWriters(dir, Duration.ofSeconds(5));
             ChildProcess writer = new ChildProcess(OpenProbe.class, dir.toString(), "3", "2")) {
            assertEquals("refused", writer.readLine(), "another process cannot open a partition for writing");
        }
        try (ChildProcess writer = new ChildProcess(OpenProbe.class, dir.toString(), "3", "2")) {
            assertEquals("opened", writer.readLine());
        }
    }

    /** Partitions from 1,024 on lock in files of their own: those are held too. */
    @Test
    void partitionsInEveryLockFileAreExcluded() {
        Path dir = root.resolve("wide");
        LogStore.open(dir, 2100).close();
        try (WritersExcluded excluded = LogStore.excludeWriters(dir, Duration.ofSeconds(5))) {
            for (int p : new int[] {0, 1500, 2099}) {
                assertThrows(StoreLockedException.class,
                        () -> LogStore.builder(dir).partitions(2100).ownedPartitions(Set.of(p)).open(), "partition " + p);
            }
        }
    }

    @Test
    void aStoreMovedWhileWritersAreExcludedIsWholeWhereItWentAndItsOldPathStartsEmpty() throws Exception {
        Path dir = storeWithRecords("topic", 2);
        Path moved = root.resolve("topic.old");
        try (WritersExcluded excluded = LogStore.excludeWriters(dir, Duration.ofSeconds(5))) {
            Files.move(dir, moved, StandardCopyOption.ATOMIC_MOVE);
        }
        try (LogStore old = LogStore.open(moved, 2)) {
            assertEquals("r1", new String(TestRecords.readAll(old, 1).get(0).value(), java.nio.charset.StandardCharsets.UTF_8));
            old.append(1, List.of(Record.of(null, TestRecords.bytes("more"), 3)));
            assertEquals(2, old.nextOffset(1), "the moved store is writable where it went");
        }
        try (LogStore fresh = LogStore.open(dir, 2)) {
            assertEquals(0, fresh.nextOffset(1));
        }
    }

    @Test
    void aDirectoryWithoutAStoreIsRefused() throws Exception {
        Path empty = Files.createDirectories(root.resolve("nothing"));
        LogStoreException e = assertThrows(LogStoreException.class,
                () -> LogStore.excludeWriters(empty, Duration.ofMillis(10)));
        assertTrue(e.getMessage().contains("No LogStore at " + empty), e.getMessage());
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Child process: tries to open partition args[2] of the args[1]-partition store args[0] for writing; prints the outcome. */
    public static final class OpenProbe {
        public static void main(String[] args) {
            try (LogStore store = LogStore.builder(Path.of(args[0])).partitions(Integer.parseInt(args[1]))
                    .ownedPartitions(Set.of(Integer.parseInt(args[2]))).open()) {
                System.out.println("opened");
            } catch (StoreLockedException e) {
                System.out.println("refused");
            }
            System.out.flush();
        }
    }
}
