package dev.logstore;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.logstore.record.LogRecord;
import dev.logstore.record.Record;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Large active segments whose index pages move to spill files, under what the world does to
 * them: readers seeking while the writer appends and rolls, timestamps that go back now and then,
 * an interrupt inside a spill write, a writer killed while its spill files exist.
 */
class ActiveSegmentIndexRacesTest {

    private static final long T0 = 1_700_000_000_000L;

    @TempDir
    Path dir;

    private LogStore.Builder builder() {
        return ActiveSegmentIndexTest.largeActiveSegment(dir);
    }

    private List<String> files(String suffix) throws IOException {
        try (Stream<Path> files = Files.list(dir.resolve("partition-0"))) {
            return files.map(f -> f.getFileName().toString()).filter(n -> n.endsWith(suffix)).sorted().toList();
        }
    }

    private List<String> allFiles() throws IOException {
        try (Stream<Path> files = Files.list(dir.resolve("partition-0"))) {
            return files.map(f -> f.getFileName().toString()).sorted().toList();
        }
    }

    // ------------------------------------------------------------------ interrupts

    /**
     * The appending thread is interrupted while its spill page is written (a cancelled task): the
     * spill swallows the ClosedByInterruptException, the append goes on and reports success, and
     * the partition must still take appends (from a thread that is not interrupted) and read back
     * everything.
     */
    @Test
    void anInterruptDuringASpillWriteDoesNotStopThePartition() throws Exception {
        FaultyFiles faults = new FaultyFiles();
        try (LogStore store = builder().durability(Durability.always()).fileOpener(faults).open()) {
            for (int i = 0; i < 1023; i++) {
                store.append(0, List.of(Record.of(null, new byte[] {(byte) i}, T0 + i)));
            }
            faults.interruptWrites = FaultyFiles.named(".pages.tmp");
            AtomicReference<Throwable> thrown = new AtomicReference<>();
            int[] interruptedAppends = {0};
            Thread t = new Thread(() -> {
                try {
                    for (int i = 1023; i < 2100; i++) {
                        try {
                            store.append(0, List.of(Record.of(null, new byte[] {(byte) i}, T0 + i)));
                        } catch (LogStoreInterruptedException e) {
                            // Durability.always: written, then the sync saw the flag the spill write left
                            // (as for any interrupt landing after the write): not a fail-stop.
                        }
                        if (Thread.interrupted()) {
                            interruptedAppends[0]++; // the spill write was interrupted inside this append
                        }
                    }
                } catch (Throwable e) {
                    thrown.set(e);
                }
            });
            t.start();
            t.join();
            faults.heal();
            assertEquals(null, thrown.get(), "an append interrupted in its spill write");
            assertTrue(interruptedAppends[0] >= 1, "the interrupt hit a spill write: " + interruptedAppends[0]);
            for (int i = 2100; i < 3000; i++) {
                store.append(0, List.of(Record.of(null, new byte[] {(byte) i}, T0 + i)));
            }
            assertEquals(3000, TestRecords.readAll(store, 0).size(),
                    "interrupted append's outcome: " + thrown.get());
        }
    }

    // ------------------------------------------------------------------ crash with spill files

    /** A child writer with spill files on disk, killed; the reopen must remove them and stay quiet afterwards. */
    @Test
    void spillFilesLeftByACrashAreRemovedAndTheNextCleanOpenIsQuiet() throws Exception {
        crashThenReopenTwice(5000);
    }

    /** The same without any spill file (fewer than 1024 index entries). */
    @Test
    void aWriterKilledBeforeAnyPageMovedOutReopensTheSameWay() throws Exception {
        crashThenReopenTwice(500);
    }

    private void crashThenReopenTwice(int count) throws Exception {
        try (ChildProcess child = new ChildProcess(SpillWriter.class, dir.toString(), String.valueOf(count))) {
            assertEquals("ready", child.readLineStartingWith("ready"));
            assertEquals(count > 1024 ? 2 : 0, files(".pages.tmp").size(), "spill files exist at the kill");
            child.kill();
        }
        try (LogStore store = builder().open()) {
            assertEquals(List.of(), files(".pages.tmp"));
            assertEquals(count, TestRecords.readAll(store, 0).size());
        }
        try (LogStore store = builder().open()) {
            // (A recovery leaves an empty active segment, which the next open takes over, not
            // quietly.) One append makes the next close leave a quietly openable partition.
            store.append(0, List.of(Record.of(null, new byte[] {1}, T0 + count)));
        }
        count++;
        List<String> before = allFiles();
        try (LogStore store = builder().open()) {
            assertEquals(before, allFiles(), "a quiet open creates no file");
            assertEquals(count, TestRecords.readAll(store, 0).size());
        }
    }

    /** seekToTimestamp with timestamps that go back now and then, across many spilled time-index pages. */
    @Test
    void seekToTimestampWithNonMonotonicTimestampsMatchesAScan() throws IOException {
        for (boolean mapped : new boolean[] {false, true}) {
            Path store = dir.resolve("s" + mapped);
            int n = 6000;
            long[] ts = new long[n];
            Random random = new Random(42);
            try (LogStore log = LogStore.builder(store).partitions(1).segmentBytes(64 << 20).indexIntervalBytes(64)
                    .mappedAppends(mapped).durability(Durability.onFlush()).open()) {
                for (int i = 0; i < n; i++) {
                    ts[i] = random.nextInt(5) == 0 ? T0 + random.nextInt(3 * n) : T0 + 3L * i;
                    log.append(0, List.of(Record.of(null, new byte[] {(byte) i}, ts[i])));
                }
                try (LogReader reader = log.reader(0)) {
                    for (int q = 0; q < 2000; q++) {
                        long target = T0 + random.nextInt(3 * n + 10);
                        long expected = n;
                        for (int i = 0; i < n; i++) {
                            if (ts[i] >= target) {
                                expected = i;
                                break;
                            }
                        }
                        List<LogRecord> read = reader.seekToTimestamp(target).poll(1, 1 << 16);
                        long got = read.isEmpty() ? n : read.get(0).offset();
                        assertEquals(expected, got, "mapped=" + mapped + " target " + (target - T0));
                    }
                }
            }
        }
    }

    public static final class SpillWriter {
        public static void main(String[] args) throws Exception {
            LogStore store = LogStore.builder(Path.of(args[0])).partitions(1).segmentBytes(64 << 20)
                    .indexIntervalBytes(64).durability(Durability.always()).open();
            for (int i = 0; i < Integer.parseInt(args[1]); i++) {
                store.append(0, List.of(Record.of(null, new byte[] {(byte) i}, T0 + i)));
            }
            System.out.println("ready");
            System.out.flush();
            Thread.sleep(60_000);
        }
    }

    // ------------------------------------------------------------------ readers racing appends and rolls

    /** Readers seek by offset and by timestamp while the writer appends and rolls segments with spilled pages. */
    @Test
    void readersRacingAppendsAndRollsSeekExactly() throws Exception {
        LogStore.Builder rolling = LogStore.builder(dir).partitions(1).segmentBytes(1 << 20).indexIntervalBytes(64)
                .durability(Durability.onFlush());
        int total = 120_000;
        try (LogStore store = rolling.open()) {
            AtomicBoolean done = new AtomicBoolean();
            AtomicReference<Throwable> failure = new AtomicReference<>();
            List<Thread> readers = new ArrayList<>();
            for (int r = 0; r < 4; r++) {
                long seed = r;
                Thread t = new Thread(() -> {
                    Random random = new Random(seed);
                    try (LogReader reader = store.reader(0)) {
                        while (!done.get() && failure.get() == null) {
                            long next = store.nextOffset(0);
                            if (next < 2) {
                                continue;
                            }
                            long i = random.nextInt((int) next);
                            List<LogRecord> read = reader.seek(i).poll(1, 1 << 16);
                            assertEquals(i, read.get(0).offset(), "seek(" + i + ")");
                            read = reader.seekToTimestamp(T0 + 2 * i - 1).poll(1, 1 << 16);
                            assertEquals(i, read.get(0).offset(), "seekToTimestamp for " + i);
                        }
                    } catch (Throwable e) {
                        failure.compareAndSet(null, e);
                    }
                });
                readers.add(t);
                t.start();
            }
            for (int i = 0; i < total && failure.get() == null; i++) {
                store.append(0, List.of(Record.of(null, new byte[20], T0 + 2L * i)));
            }
            done.set(true);
            for (Thread t : readers) {
                t.join();
            }
            if (failure.get() != null) {
                throw new AssertionError(failure.get());
            }
            assertTrue(store.partitionInfo(0).segments() >= 3);
        }
        assertFalse(files(".pages.tmp").size() > 0);
    }
}
