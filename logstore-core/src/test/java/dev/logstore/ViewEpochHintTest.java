package dev.logstore;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.logstore.record.LogRecord;
import dev.logstore.record.Record;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A read-only view's first look at a partition starts from the writer epoch the store's
 * clean-close record names: views opened while writers reopen and close over and over, after the
 * partition directory was removed and made again, and before a quietly opened writer's first
 * append, see everything they should; an open under TRUNCATE repairs cut segments in several
 * partitions closed through the record.
 */
class ViewEpochHintTest {

    @TempDir
    Path dir;

    private List<Path> logs(int p) throws IOException {
        try (Stream<Path> files = Files.list(dir.resolve("partition-" + p))) {
            return files.filter(f -> f.toString().endsWith(".log")).sorted().toList();
        }
    }

    /** Views opened while writers in this JVM open, append, close (record) over and over. */
    @Test
    void viewsOpenedDuringWriterChurnSeeEverythingClosedBefore() throws Exception {
        LogStore.open(dir, 1).close();
        AtomicLong closedCount = new AtomicLong();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Thread writer = new Thread(() -> {
            try {
                for (int i = 0; i < 300; i++) {
                    try (LogStore store = LogStore.open(dir, 1)) {
                        store.append(0, List.of(TestRecords.numbered(i, i + 1)));
                    }
                    closedCount.set(i + 1);
                }
            } catch (Throwable e) {
                failure.set(e);
            }
        });
        writer.start();
        while (writer.isAlive()) {
            long before = closedCount.get();
            try (LogStore view = LogStore.builder(dir).readOnly().open()) {
                int seen = TestRecords.readAll(view, 0).size();
                assertTrue(seen >= before, "view saw " + seen + " of " + before + " closed before it opened");
            }
        }
        writer.join();
        if (failure.get() != null) {
            throw new AssertionError(failure.get());
        }
        try (LogStore view = LogStore.builder(dir).readOnly().open()) {
            assertEquals(300, TestRecords.readAll(view, 0).size());
        }
    }

    /** The record names epoch N of an earlier life; the partition directory was made again. */
    @Test
    void aRecordFromAnEarlierLifeOfTheDirectory() throws Exception {
        for (int i = 0; i < 4; i++) {
            try (LogStore store = LogStore.open(dir, 1)) {
                store.append(0, List.of(TestRecords.numbered(i, i + 1)));
            }
        }
        Path p0 = dir.resolve("partition-0");
        try (Stream<Path> files = Files.walk(p0)) {
            for (Path f : files.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(f);
            }
        }
        Files.createDirectory(p0);
        for (int life = 0; life < 6; life++) {
            try (LogStore writer = LogStore.builder(dir).durability(Durability.onFlush()).open()) {
                writer.append(0, List.of(TestRecords.numbered(100 + life, 1)));
                try (LogStore view = LogStore.builder(dir).readOnly().open()) {
                    assertEquals(life + 1, TestRecords.readAll(view, 0).size(), "life epoch " + (life + 1));
                }
                if (life % 2 == 0) {
                    continue; // closes by the store: a record
                }
            }
        }
    }

    /** TRUNCATE after cuts in two sealed segments of two partitions, record and clean manifest closes. */
    @Test
    void truncateRepairsCutsInSeveralPartitions() throws Exception {
        try (LogStore store = LogStore.builder(dir).partitions(2).segmentBytes(1024).open()) {
            for (int i = 0; i < 6; i++) {
                for (int p = 0; p < 2; p++) {
                    store.append(p, List.of(Record.of(null, new byte[900], i + 1)));
                }
            }
        }
        for (int p = 0; p < 2; p++) {
            Path cut = logs(p).get(2 + p);
            try (FileChannel channel = FileChannel.open(cut, StandardOpenOption.WRITE)) {
                channel.truncate(Files.size(cut) - 1);
            }
        }
        for (int reopen = 0; reopen < 3; reopen++) {
            try (LogStore store = LogStore.builder(dir).corruptionPolicy(CorruptionPolicy.TRUNCATE).open()) {
                for (int p = 0; p < 2; p++) {
                    List<LogRecord> all = TestRecords.readAll(store, p);
                    int want = 2 + p + (p == 0 && reopen >= 2 ? 1 : 0);
                    assertEquals(want, all.size(), "partition " + p + " reopen " + reopen);
                    assertEquals(want, store.nextOffset(p));
                }
                if (reopen == 1) {
                    store.append(0, List.of(Record.of(null, new byte[10], 99)));
                }
            }
            try (LogStore view = LogStore.builder(dir).readOnly().open()) {
                assertEquals(reopen >= 1 ? 3 : 2, TestRecords.readAll(view, 0).size());
            }
        }
    }

    /** A view opened before a writer's first append after a quiet open, then following it. */
    @Test
    void aViewOpenedBeforeAQuietWritersFirstAppendFollowsIt() throws Exception {
        try (LogStore store = LogStore.open(dir, 1)) {
            store.append(0, List.of(TestRecords.numbered(0, 1)));
        }
        try (LogStore writer = LogStore.builder(dir).durability(Durability.onFlush()).open();
             LogStore view = LogStore.builder(dir).readOnly().open()) {
            assertEquals(1, TestRecords.readAll(view, 0).size());
            try (LogReader reader = view.reader(0)) {
                reader.poll(10, 1 << 20);
                for (int i = 1; i < 5; i++) {
                    writer.append(0, List.of(TestRecords.numbered(i, i + 1)));
                    assertEquals(1, reader.poll(10, 1 << 20, java.time.Duration.ofSeconds(2)).size(), "append " + i);
                }
            }
            assertEquals(5, TestRecords.readAll(view, 0).size());
        }
    }
}
