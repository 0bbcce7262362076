package dev.logstore;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.logstore.record.LogRecord;
import dev.logstore.record.Record;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An entry of the clean-close record applies only to the very files it was written for. A
 * partition's first manifest (epoch 1, sequence 0, one empty active segment at offset 0) has the
 * same bytes in every new partition, so an entry left by an earlier life of a partition directory
 * must not apply to a new one whose active segment happens to have the same size after a crash;
 * and a close writes its record before it lets go of its partitions, so a store moved away and
 * replaced meanwhile (as the sink does when a topic is re-created) never receives it.
 */
class CleanCloseRecordIdentityTest {

    @TempDir
    Path dir;

    private static final long OLD_TIMESTAMP = 1_000_000_000_000L; // 2001

    private static Record valued(String name, int valueBytes, long timestamp) {
        return new Record(TestRecords.bytes("k"), TestRecords.bytes(name + "x".repeat(valueBytes)), List.of(),
                timestamp);
    }

    /** Bytes a fresh one-partition store's segment holds after appending {@code records} as one batch. */
    private long batchBytes(List<Record> records) throws IOException {
        Path scratch = Files.createTempDirectory(dir, "scratch");
        try (LogStore store = LogStore.open(scratch, 1)) {
            store.append(0, records);
        }
        try (Stream<Path> files = Files.list(scratch.resolve(LogStore.partitionDirectoryName(0)))) {
            return files.filter(f -> f.toString().endsWith(".log")).mapToLong(f -> {
                try {
                    return Files.size(f);
                } catch (IOException e) {
                    throw new IllegalStateException(e);
                }
            }).sum();
        }
    }

    /** Removes partition 0's directory and creates it again, empty, as the open's error message advises. */
    private void recreatePartition() throws IOException {
        Path partition = dir.resolve(LogStore.partitionDirectoryName(0));
        try (Stream<Path> walk = Files.walk(partition)) {
            walk.sorted(Comparator.reverseOrder()).forEach(p -> {
                try {
                    Files.delete(p);
                } catch (IOException e) {
                    throw new IllegalStateException(e);
                }
            });
        }
        Files.createDirectory(partition);
    }

    /** A child JVM that appends to the new life of the partition with Durability.always() and is then killed. */
    private void appendInChildThenKill(String mode) throws Exception {
        try (ChildProcess child = new ChildProcess(AppendThenHang.class, dir.toString(), mode)) {
            assertEquals("acknowledged", child.readLineStartingWith("acknowledged"));
            child.kill();
        }
    }

    /** The value size that makes a batch of one old record as large as {@link #twoRecords()}. */
    private int valueBytesOfOneRecordTheSizeOfTwo() throws IOException {
        long two = batchBytes(twoRecords());
        int value = 0;
        while (batchBytes(List.of(valued("o", value, OLD_TIMESTAMP))) != two) {
            value++;
            if (value > 64) {
                throw new IllegalStateException("no single-record batch of " + two + " bytes");
            }
        }
        return value;
    }

    static List<Record> twoRecords() {
        return List.of(valued("a", 3, System.currentTimeMillis()), valued("b", 3, System.currentTimeMillis()));
    }

    static List<Record> oneNewRecord(int valueBytes) {
        return List.of(valued("n", valueBytes, System.currentTimeMillis()));
    }

    /**
     * Old life of the directory: one record, closed cleanly (entry: epoch 1, sequence 0, size S,
     * next offset 1). New life: one batch of two records, also S bytes, acknowledged
     * (Durability.always()), then kill -9. The stale entry must not apply: the open scans, finds
     * next offset 2, and hands out no acknowledged offset again.
     */
    @Test
    void aStaleEntryOfARecreatedPartitionDirectoryGivesOutAnAcknowledgedOffsetAgain() throws Exception {
        int value = valueBytesOfOneRecordTheSizeOfTwo();
        try (LogStore store = LogStore.open(dir, 1)) {
            store.append(0, List.of(valued("o", value, OLD_TIMESTAMP)));
        }
        recreatePartition();
        appendInChildThenKill("two");

        try (LogStore reopened = LogStore.open(dir, 1)) {
            assertEquals(2, reopened.nextOffset(0),
                    "offsets 0 and 1 were acknowledged in the new life of the partition");
            reopened.append(0, List.of(valued("c", 1, System.currentTimeMillis())));
            List<LogRecord> read = TestRecords.readAll(reopened, 0);
            List<Long> offsets = new ArrayList<>();
            read.forEach(r -> offsets.add(r.offset()));
            assertEquals(List.of(0L, 1L, 2L), offsets);
        }
    }

    /**
     * Same sizes, same record count; only the timestamps differ. Were the stale entry's newest
     * timestamp (2001) taken for the segment holding the new life's acknowledged record, retention
     * by age would delete it.
     */
    @Test
    void aStaleEntryOfARecreatedPartitionDirectoryLetsRetentionDeleteAnAcknowledgedRecord() throws Exception {
        try (LogStore store = LogStore.open(dir, 1)) {
            store.append(0, List.of(valued("n", 10, OLD_TIMESTAMP)));
        }
        recreatePartition();
        appendInChildThenKill("one");

        try (LogStore reopened = LogStore.builder(dir).partitions(1).retentionAge(Duration.ofDays(7)).open()) {
            reopened.enforceRetention();
            List<LogRecord> read = TestRecords.readAll(reopened, 0);
            assertEquals(1, read.size(), "the record appended (acknowledged) a moment ago is kept by a 7-day retention");
        }
    }

    /**
     * LogStore.excludeWriters waits for a store's close to write its clean-close record, so a
     * holder that moves the store aside and puts a new one in its place (as the Connect sink's
     * StoreGenerations does when a topic is re-created) moves the record with the store: the new
     * store receives none, and after a crash of its writer its acknowledged offsets hold.
     */
    @Test
    void aStoreMovedAsideWhenItsWritersAreExcludedTakesItsCloseRecordAlong() throws Exception {
        int value = valueBytesOfOneRecordTheSizeOfTwo();
        Path previous = dir.resolveSibling(dir.getFileName() + ".old-generation");
        HookedFiles hooked = new HookedFiles();
        java.util.concurrent.atomic.AtomicBoolean moved = new java.util.concurrent.atomic.AtomicBoolean();
        java.util.concurrent.CompletableFuture<Void> mover = new java.util.concurrent.CompletableFuture<>();
        hooked.onOpen = path -> {
            if (path.getFileName().toString().equals(".clean-close.lock") && moved.compareAndSet(false, true)) {
                // What another task's StoreGenerations.startNew does once it can keep the writers out:
                // it asks while this close is writing its record, and gets the store after it.
                new Thread(() -> {
                    try (WritersExcluded excluded = LogStore.excludeWriters(dir, Duration.ofSeconds(30))) {
                        Files.move(dir, previous, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
                        Files.createDirectory(dir); // the new generation, created by its first task later
                        mover.complete(null);
                    } catch (Throwable e) {
                        mover.completeExceptionally(e);
                    }
                }).start();
            }
        };
        LogStore old = LogStore.builder(dir).partitions(1).fileOpener(hooked).open();
        old.append(0, List.of(valued("o", value, OLD_TIMESTAMP)));
        old.close();
        mover.get(60, java.util.concurrent.TimeUnit.SECONDS);
        assertEquals(true, moved.get());
        boolean leaked = Files.exists(dir.resolve("clean-close"));
        // The consequence: the new store's first writer crashes with a segment of the same size.
        appendInChildThenKill("two");
        long next;
        try (LogStore reopened = LogStore.open(dir, 1)) {
            next = reopened.nextOffset(0);
        }
        org.junit.jupiter.api.Assertions.assertAll(
                () -> assertEquals(false, leaked, "the old store's close wrote its clean-close record into the "
                        + "directory of the store that replaced it, after writers were excluded and the store moved"),
                () -> assertEquals(true, Files.exists(previous.resolve("clean-close")),
                        "the record moved with the store it describes"),
                () -> assertEquals(2, next, "offsets 0 and 1 were acknowledged in the new store"));
        try (Stream<Path> walk = Files.walk(previous)) { // outside the temporary directory
            walk.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    /**
     * The first manifests of new partitions, which an entry of an earlier life of a partition
     * could otherwise match byte for byte, carry a random tag of their writer.
     */
    @Test
    void theFirstManifestsOfNewPartitionsDiffer() throws IOException {
        java.util.Set<String> manifests = new java.util.HashSet<>();
        for (int store = 0; store < 3; store++) {
            Path storeDir = dir.resolve("store-" + store);
            try (LogStore s = LogStore.builder(storeDir).partitions(1).durability(Durability.always()).open()) {
                s.append(0, List.of(new Record(null, TestRecords.bytes("same"), List.of(), OLD_TIMESTAMP)));
            }
            Path manifest = storeDir.resolve(LogStore.partitionDirectoryName(0)).resolve("manifest.0000000001");
            manifests.add(java.util.HexFormat.of().formatHex(Files.readAllBytes(manifest)));
        }
        // The same appends make the same manifest but for the tag: three alike once in 2^30 runs.
        org.junit.jupiter.api.Assertions.assertTrue(manifests.size() > 1, "three new partitions' manifests " + manifests);
    }

    /** Child: opens the store, appends (acknowledged: Durability.always()), says so, and waits to be killed. */
    public static final class AppendThenHang {
        public static void main(String[] args) throws Exception {
            LogStore store = LogStore.builder(Path.of(args[0])).partitions(1).durability(Durability.always()).open();
            store.append(0, "two".equals(args[1]) ? twoRecords() : oneNewRecord(10));
            System.out.println("acknowledged");
            System.out.flush();
            Thread.sleep(600_000);
        }
    }
}
