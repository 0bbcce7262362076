package dev.logstore;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.logstore.log.Crashes;
import dev.logstore.record.LogRecord;
import dev.logstore.record.Record;
import dev.logstore.segment.IndexMemory;
import dev.logstore.verify.Finding;
import dev.logstore.verify.StoreVerifier;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Segments around the size under which they get no index files: stores written with one index
 * interval and opened with another (writer, read-only view, index cap of 0, after a crash);
 * segments of exactly the interval and one byte more; a small sealed segment cut short after a
 * clean close; stale index files of a larger past; mapped appends, retention and statistics; a
 * sequential read stopping at damage; a read-only view following a writer in another JVM that rolls
 * segments of 1 KiB. Every lookup stays exact and no damaged record is returned.
 */
class SmallSegmentEdgesTest {

    @TempDir
    Path dir;

    private static Record record(long n) {
        return TestRecords.numbered(n, 1_000 + n);
    }

    @Test
    void storesWrittenWithOneIntervalReadExactlyWithAnother() throws IOException {
        int[] intervals = {64, 4096, 1 << 20};
        for (int written : intervals) {
            for (int opened : intervals) {
                Path store = dir.resolve(written + "-" + opened);
                TestRecords.appendNumbered(LogStore.builder(store).segmentBytes(3000).indexIntervalBytes(written), 300);
                IndexMemory none = new IndexMemory(0);
                try (LogStore view = LogStore.builder(store).readOnly().indexIntervalBytes(opened).indexMemory(none)
                        .open()) {
                    TestRecords.assertNumberedLookupsExact(view, 0, 300);
                }
                try (LogStore writer = LogStore.builder(store).partitions(1).segmentBytes(3000)
                        .indexIntervalBytes(opened).indexMemory(none).open()) {
                    TestRecords.assertNumberedLookupsExact(writer, 0, 300);
                    for (int n = 300; n < 600; n++) {
                        writer.append(0, List.of(record(n)));
                    }
                    TestRecords.assertNumberedLookupsExact(writer, 0, 600);
                }
                Crashes.forgetCleanClose(store.resolve("partition-0"));
                try (LogStore writer = LogStore.builder(store).partitions(1).segmentBytes(3000)
                        .indexIntervalBytes(written).open()) {
                    TestRecords.assertNumberedLookupsExact(writer, 0, 600);
                }
                List<Finding> findings = new StoreVerifier(n -> { }).verify(store);
                assertTrue(findings.stream().noneMatch(f -> f.severity() == Finding.Severity.CORRUPT), findings.toString());
            }
        }
    }

    private static Record sized(long n) {
        byte[] value = new byte[400];
        value[0] = (byte) n;
        return Record.of(null, value, 1_100 + n);
    }

    /** Segments of exactly one interval (no index files) and one byte more (index files). */
    @Test
    void segmentsOfExactlyTheIntervalAndOneByteMore() throws IOException {
        long batch;
        Path probe = dir.resolve("probe");
        try (LogStore store = LogStore.builder(probe).partitions(1).open()) {
            store.append(0, List.of(sized(0)));
            batch = store.partitionInfo(0).sizeInBytes();
        }
        for (int extra = 0; extra <= 1; extra++) {
            Path store = dir.resolve("s" + extra);
            int interval = (int) (3 * batch) - extra; // three batches make a segment; its size is interval + extra
            try (LogStore s = LogStore.builder(store).partitions(1).segmentBytes((int) (3 * batch))
                    .indexIntervalBytes(interval).open()) {
                for (int n = 0; n < 90; n++) {
                    s.append(0, List.of(sized(n)));
                }
                assertEquals(30, s.partitionInfo(0).segments());
            }
            Path firstIndex = store.resolve("partition-0/00000000000000000000.index");
            assertEquals(extra == 1, Files.exists(firstIndex), "segment of interval + " + extra);
            assertEquals(List.of(), new StoreVerifier(n -> { }).verify(store));
            try (LogStore s = LogStore.builder(store).partitions(1).indexIntervalBytes(interval).open();
                 LogReader reader = s.reader(0)) {
                for (long offset = 0; offset < 90; offset++) {
                    assertEquals(sized(offset), reader.seek(offset).poll(1, 1 << 16).get(0).record());
                    assertEquals(offset, reader.seekToTimestamp(1_100 + offset).position());
                }
            }
        }
    }

    /** A small sealed segment cut short behind the store's back after a clean close: FAIL names it, TRUNCATE repairs. */
    @Test
    void aSmallSealedSegmentCutShortAfterACleanClose() throws IOException {
        TestRecords.appendNumbered(LogStore.builder(dir).segmentBytes(2048), 400);
        List<Path> logs = TestFiles.segmentLogs(dir.resolve("partition-0"));
        Path cut = logs.get(2);
        long base = TestFiles.baseOffset(cut);
        long size = Files.size(cut);
        try (RandomAccessFile file = new RandomAccessFile(cut.toFile(), "rw")) {
            file.setLength(size - 10);
        }
        try (LogStore store = LogStore.builder(dir).partitions(1).segmentBytes(2048).open()) {
            List<LogRecord> seen = new ArrayList<>();
            CorruptLogException e = assertThrows(CorruptLogException.class, () -> {
                try (LogReader reader = store.reader(0)) {
                    List<LogRecord> batch;
                    while (!(batch = reader.poll(1, 1 << 16)).isEmpty()) {
                        seen.addAll(batch);
                    }
                }
            });
            assertEquals(cut, e.file());
            assertTrue(e.position() >= 0 && e.position() <= size, "position " + e.position());
            for (int i = 0; i < seen.size(); i++) {
                assertEquals(record(i), seen.get(i).record());
            }
            try (LogReader reader = store.reader(0)) {
                long after = TestFiles.baseOffset(logs.get(3));
                assertEquals(after, reader.seek(after).poll(1, 1 << 16).get(0).offset());
            }
        }
        try (LogStore view = LogStore.builder(dir).readOnly().open()) {
            CorruptLogException e = assertThrows(CorruptLogException.class, () -> {
                try (LogReader reader = view.reader(0)) {
                    reader.seek(base).poll(1, 1 << 16);
                }
            });
            assertEquals(cut, e.file());
        }
        assertTrue(new StoreVerifier(n -> { }).verify(dir).stream()
                .anyMatch(f -> f.severity() == Finding.Severity.CORRUPT && f.file().equals(cut)));
        try (LogStore store = LogStore.builder(dir).partitions(1).segmentBytes(2048)
                .corruptionPolicy(CorruptionPolicy.TRUNCATE).open()) {
            List<LogRecord> all = TestRecords.readAll(store, 0);
            assertTrue(all.size() < TestFiles.baseOffset(logs.get(3)) && all.size() >= base, "cut inside " + cut + ": " + all.size());
            for (int i = 0; i < all.size(); i++) {
                assertEquals(record(i), all.get(i).record());
            }
            assertEquals(all.size(), store.append(0, List.of(record(all.size()))).baseOffset());
        }
        assertEquals(List.of(), new StoreVerifier(n -> { }).verify(dir));
    }

    /** Index files left from when the segment was larger (TRUNCATE cut it back below the interval) are not trusted. */
    @Test
    void indexFilesOfALargerPastAreRemovedOrIgnored() throws IOException {
        TestRecords.appendNumbered(LogStore.builder(dir).segmentBytes(20_000), 900);
        List<Path> logs = TestFiles.segmentLogs(dir.resolve("partition-0"));
        assertTrue(logs.size() >= 3);
        Path big = logs.get(1);
        assertTrue(Files.exists(sibling(big, ".index")));
        // Damage at byte 3000 of a 20 KB segment: TRUNCATE cuts it to below 4 KiB.
        try (RandomAccessFile file = new RandomAccessFile(big.toFile(), "rw")) {
            file.seek(3000);
            int b = file.read();
            file.seek(3000);
            file.write(b ^ 1);
        }
        Path keptIndex = dir.resolve("old.index");
        Path keptTimeIndex = dir.resolve("old.timeindex");
        Files.copy(sibling(big, ".index"), keptIndex);
        Files.copy(sibling(big, ".timeindex"), keptTimeIndex);
        // Missing index files make the ordinary open read the segment through and find the damage.
        Files.delete(sibling(big, ".index"));
        Files.delete(sibling(big, ".timeindex"));
        Crashes.forgetCleanClose(dir.resolve("partition-0"));
        int kept;
        try (LogStore store = LogStore.builder(dir).partitions(1).segmentBytes(20_000)
                .corruptionPolicy(CorruptionPolicy.TRUNCATE).open()) {
            kept = (int) store.nextOffset(0);
            assertTrue(Files.size(big) <= 4096, "cut to " + Files.size(big));
            assertFalse(Files.exists(sibling(big, ".index")));
        }
        // Put the stale (larger) index files back beside the small segment, as an older tool might.
        Files.copy(keptIndex, sibling(big, ".index"), StandardCopyOption.REPLACE_EXISTING);
        Files.copy(keptTimeIndex, sibling(big, ".timeindex"), StandardCopyOption.REPLACE_EXISTING);
        for (IndexMemory memory : new IndexMemory[] {new IndexMemory(0), new IndexMemory(1 << 20)}) {
            try (LogStore store = LogStore.builder(dir).partitions(1).segmentBytes(20_000).indexMemory(memory).open()) {
                TestRecords.assertNumberedLookupsExact(store, 0, kept);
            }
            try (LogStore view = LogStore.builder(dir).readOnly().indexMemory(memory).open()) {
                TestRecords.assertNumberedLookupsExact(view, 0, kept);
            }
        }
    }

    @Test
    void mappedAppendsRetentionAndPartitionInfoWithSmallSegments() throws IOException {
        try (LogStore store = LogStore.builder(dir).partitions(1).segmentBytes(1500).mappedAppends(true)
                .retentionBytes(20_000).open()) {
            for (int n = 0; n < 600; n++) {
                store.append(0, List.of(record(n)));
            }
            store.enforceRetention();
            PartitionInfo info = store.partitionInfo(0);
            assertTrue(info.startOffset() > 0);
            assertEquals(600, info.nextOffset());
            assertEquals(1_599, info.maxTimestamp());
        }
        assertEquals(List.of(), indexFiles());
        assertEquals(List.of(), new StoreVerifier(n -> { }).verify(dir));
        Crashes.forgetCleanClose(dir.resolve("partition-0"));
        try (LogStore store = LogStore.builder(dir).partitions(1).segmentBytes(1500).mappedAppends(true)
                .indexMemory(new IndexMemory(0)).open();
             LogReader reader = store.reader(0)) {
            long start = store.startOffset(0);
            for (long offset = 599; offset >= start; offset--) {
                assertEquals(record(offset), reader.seek(offset).poll(1, 1 << 16).get(0).record());
                assertEquals(offset, reader.seekToTimestamp(1_000 + offset).position());
            }
        }
        assertEquals(List.of(), indexFiles());
        assertEquals(List.of(), new StoreVerifier(n -> { }).verify(dir));
    }

    /** A sequential read returns every intact record before damage in a small sealed segment. */
    @Test
    void aSequentialReadStopsExactlyAtTheDamage() throws IOException {
        TestRecords.appendNumbered(LogStore.builder(dir).segmentBytes(2048), 400);
        Path damaged = TestFiles.segmentLogs(dir.resolve("partition-0")).get(3);
        long nextBase = TestFiles.baseOffset(TestFiles.segmentLogs(dir.resolve("partition-0")).get(4));
        try (RandomAccessFile file = new RandomAccessFile(damaged.toFile(), "rw")) {
            file.seek(file.length() - 3);
            int b = file.read();
            file.seek(file.length() - 3);
            file.write(b ^ 0x10);
        }
        try (LogStore store = LogStore.builder(dir).partitions(1).segmentBytes(2048).open();
             LogReader reader = store.reader(0)) {
            long read = 0;
            CorruptLogException e = assertThrows(CorruptLogException.class, () -> {
                List<LogRecord> batch;
                while (!(batch = reader.poll(1, 1 << 16)).isEmpty()) {
                    assertEquals(record(batch.get(0).offset()), batch.get(0).record());
                }
            });
            assertEquals(damaged, e.file());
            assertEquals(nextBase - 1, reader.position());
        }
    }

    /** A read-only view in another JVM's wake: a child writer rolls tiny segments, the view (cap 0) follows, then the writer closes. */
    @Test
    void aViewFollowsAChildWriterRollingTinySegmentsUnderAZeroCap() throws Exception {
        LogStore.builder(dir).partitions(1).open().close();
        try (LogStore view = LogStore.builder(dir).readOnly().indexMemory(new IndexMemory(0)).open()) {
            try (ChildProcess writer = new ChildProcess(TinyRoller.class, dir.toString(), "500")) {
                assertEquals("opened", writer.readLine());
                long seen = 0;
                while (seen < 500) {
                    seen = view.nextOffset(0);
                    if (seen > 0) {
                        try (LogReader reader = view.reader(0)) {
                            for (long offset = seen - 1; offset >= Math.max(0, seen - 40); offset--) {
                                assertEquals(record(offset), reader.seek(offset).poll(1, 1 << 16).get(0).record());
                                assertEquals(offset, reader.seekToTimestamp(1_000 + offset).position());
                            }
                        }
                    }
                    Thread.sleep(5);
                }
                assertEquals("closed", writer.readLine());
            }
            TestRecords.assertNumberedLookupsExact(view, 0, 500);
        }
        assertEquals(List.of(), indexFiles());
        try (LogStore view = LogStore.builder(dir).readOnly().indexMemory(new IndexMemory(0)).open()) {
            TestRecords.assertNumberedLookupsExact(view, 0, 500);
        }
        assertEquals(List.of(), new StoreVerifier(n -> { }).verify(dir));
    }

    /** Child: appends records one per batch to segments of 1 KiB, flushing each, then closes. */
    public static final class TinyRoller {
        public static void main(String[] args) throws Exception {
            int count = Integer.parseInt(args[1]);
            try (LogStore store = LogStore.builder(Path.of(args[0])).partitions(1).segmentBytes(1024)
                    .durability(Durability.always()).open()) {
                System.out.println("opened");
                System.out.flush();
                for (int n = 0; n < count; n++) {
                    store.append(0, List.of(record(n)));
                    if (n % 25 == 0) {
                        Thread.sleep(2);
                    }
                }
            }
            System.out.println("closed");
            System.out.flush();
        }
    }

    private List<Path> indexFiles() throws IOException {
        try (Stream<Path> files = Files.walk(dir)) {
            return files.filter(f -> f.toString().endsWith(".index") || f.toString().endsWith(".timeindex")).toList();
        }
    }

    private static Path sibling(Path log, String suffix) {
        return log.resolveSibling(log.getFileName().toString().replace(".log", suffix));
    }
}
