package dev.logstore.cli;

import static dev.logstore.cli.CliRuns.flip;
import static dev.logstore.cli.CliRuns.run;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.logstore.LogReader;
import dev.logstore.LogStore;
import dev.logstore.cli.CliRuns.Run;
import dev.logstore.record.BatchFormat;
import dev.logstore.record.BatchHeader;
import dev.logstore.record.LogRecord;
import dev.logstore.record.Record;
import dev.logstore.segment.SegmentScanner;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Random;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * logstore salvage against damage of every kind: the target holds exactly the source records that
 * are intact, each once, with the same offsets, and the lost ranges are exactly the offsets missing.
 */
class SalvageTest {

    @TempDir
    Path root;

    private record Batch(long position, BatchHeader header) {
    }

    static List<Batch> batches(Path segment) throws Exception {
        List<Batch> list = new ArrayList<>();
        try (FileChannel ch = FileChannel.open(segment, StandardOpenOption.READ)) {
            SegmentScanner.scan((dst, at) -> {
                long p = at;
                while (dst.hasRemaining()) {
                    int n = ch.read(dst, p);
                    if (n < 0) throw new java.io.EOFException();
                    p += n;
                }
            }, 0, ch.size(), 0, SegmentScanner.ANY_EPOCH, (at, h) -> list.add(new Batch(at, h)));
        }
        return list;
    }

    static TreeMap<Long, LogRecord> all(Path store, int partition) {
        TreeMap<Long, LogRecord> map = new TreeMap<>();
        try (LogStore s = LogStore.builder(store).readOnly().open(); LogReader r = s.reader(partition)) {
            r.seek(s.startOffset(partition));
            while (true) {
                List<LogRecord> got = r.poll(1000, 1 << 20);
                if (got.isEmpty()) break;
                for (LogRecord x : got) map.put(x.offset(), x);
            }
        }
        return map;
    }

    static Record rec(int i) {
        return new Record(("k" + i).getBytes(UTF_8), ("v" + i).getBytes(UTF_8), List.of(), 1_700_000_000_000L + i);
    }

    private static final Pattern LOST = Pattern.compile(
            "partition (\\d+): lost (?:offsets (\\d+) to (\\d+)|offset (\\d+)|offsets from (\\d+) on):");

    /** Reported lost ranges of one partition as [from, to] pairs. */
    static List<long[]> lost(String out, int partition) {
        List<long[]> ranges = new ArrayList<>();
        Matcher m = LOST.matcher(out);
        while (m.find()) {
            if (Integer.parseInt(m.group(1)) != partition) continue;
            if (m.group(2) != null) ranges.add(new long[] {Long.parseLong(m.group(2)), Long.parseLong(m.group(3))});
            else if (m.group(4) != null) ranges.add(new long[] {Long.parseLong(m.group(4)), Long.parseLong(m.group(4))});
            else ranges.add(new long[] {Long.parseLong(m.group(5)), Long.MAX_VALUE});
        }
        return ranges;
    }

    static void flip(Path file, long at, int mask) throws Exception {
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
            f.seek(at);
            int b = f.read();
            f.seek(at);
            f.write(b ^ mask);
        }
    }

    /** Target holds only source records, unchanged; missing source offsets == offsets in reported ranges. */
    static void assertExact(TreeMap<Long, LogRecord> source, TreeMap<Long, LogRecord> target, List<long[]> ranges,
                            String ctx) {
        for (var e : target.entrySet()) {
            assertEquals(source.get(e.getKey()), e.getValue(), "target offset " + e.getKey() + " differs from source; " + ctx);
        }
        TreeSet<Long> missing = new TreeSet<>(source.keySet());
        missing.removeAll(target.keySet());
        TreeSet<Long> reported = new TreeSet<>();
        for (long[] r : ranges) {
            assertTrue(r[0] <= r[1], "malformed range " + r[0] + ".." + r[1] + "; " + ctx);
            for (long o : source.keySet()) if (o >= r[0] && o <= r[1]) reported.add(o);
        }
        assertEquals(missing, reported, "missing offsets vs reported; " + ctx);
    }

    private Path buildOnePartition(String name, int n) {
        Path store = root.resolve(name);
        try (LogStore s = LogStore.builder(store).partitions(1).segmentBytes(2048).open()) {
            for (int i = 0; i < n; i++) s.append(0, List.of(rec(i)));
        }
        return store;
    }

    static List<Path> segments(Path partitionDir) throws Exception {
        try (Stream<Path> s = Files.list(partitionDir)) {
            return s.filter(p -> p.toString().endsWith(".log")).sorted().toList();
        }
    }

    // --- 1: a sealed segment cut short mid-batch: its loss is reported twice
    @Test
    void cutShortSealedSegmentReportsItsLossOnce() throws Exception {
        Path store = buildOnePartition("cut", 80);
        TreeMap<Long, LogRecord> before = all(store, 0);
        Path first = segments(store.resolve("partition-0")).get(0);
        List<Batch> b = batches(first);
        Batch last = b.get(b.size() - 1);
        try (FileChannel ch = FileChannel.open(first, StandardOpenOption.WRITE)) {
            ch.truncate(last.position() + 10);
        }
        Run r = run("salvage", store.toString(), root.resolve("cut-saved").toString());
        assertEquals(1, r.code(), r.out() + r.err());
        List<long[]> ranges = lost(r.out(), 0);
        assertEquals(1, ranges.size(), r.out());
        assertExact(before, all(root.resolve("cut-saved"), 0), ranges, r.out());
    }

    // --- 2: a partition directory that is gone: salvage says nothing was lost
    @Test
    void missingPartitionDirectoryIsReportedAsLost() throws Exception {
        Path store = root.resolve("two");
        try (LogStore s = LogStore.builder(store).partitions(2).open()) {
            for (int i = 0; i < 10; i++) s.append(i % 2, List.of(rec(i)));
        }
        try (Stream<Path> w = Files.walk(store.resolve("partition-1"))) {
            w.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
        Run r = run("salvage", store.toString(), root.resolve("two-saved").toString());
        assertEquals(1, r.code(), "five records of partition 1 are gone: " + r.out() + r.err());
    }

    /** Bytes of the first batch of a store holding one record at {@code offset}. */
    private byte[] innerBatch(long offset, String value) throws Exception {
        Path inner = root.resolve("inner" + offset);
        try (LogStore s = LogStore.builder(inner).partitions(1).open()) {
            s.append(0, new long[] {offset}, List.of(new Record("INNER".getBytes(UTF_8), value.getBytes(UTF_8),
                    List.of(), 42L)));
        }
        Path seg = segments(inner.resolve("partition-0")).get(0);
        Batch b = batches(seg).get(0);
        byte[] all = Files.readAllBytes(seg);
        return java.util.Arrays.copyOfRange(all, (int) b.position(), (int) b.position() + b.header().sizeInBytes());
    }

    private Path storeWithNestedBatch(String name, byte[] nested) throws Exception {
        Path store = root.resolve(name);
        try (LogStore s = LogStore.builder(store).partitions(1).open()) {
            for (int i = 0; i < 3; i++) s.append(0, List.of(rec(i)));
            s.append(0, List.of(new Record("outer".getBytes(UTF_8), nested, List.of(), 1_700_000_000_003L)));
            for (int i = 4; i < 10; i++) s.append(0, List.of(rec(i)));
        }
        return store;
    }

    // --- 3: a record value that holds a whole batch (an archive of segment bytes) is taken for the resync point
    @Test
    void resyncNeverCopiesABatchNestedInsideADamagedBatch() throws Exception {
        Path store = storeWithNestedBatch("nested", innerBatch(3, "FAKE"));
        TreeMap<Long, LogRecord> before = all(store, 0);
        Path seg = segments(store.resolve("partition-0")).get(0);
        Batch outer = batches(seg).get(3);
        flip(seg, outer.position() + BatchFormat.CRC_OFFSET, 0x01); // only the outer batch's checksum is wrong
        Path saved = root.resolve("nested-saved");
        Run r = run("salvage", store.toString(), saved.toString());
        assertEquals(1, r.code(), r.out() + r.err());
        assertExact(before, all(saved, 0), lost(r.out(), 0), r.out());
    }

    // --- 3b: same, nested batch with a high offset: every later intact batch of the segment is lost
    @Test
    void oneBadBatchHoldingANestedBatchDoesNotCostTheRestOfTheSegment() throws Exception {
        Path store = storeWithNestedBatch("nested2", innerBatch(1000, "FAKE"));
        TreeMap<Long, LogRecord> before = all(store, 0);
        Path seg = segments(store.resolve("partition-0")).get(0);
        Batch outer = batches(seg).get(3);
        flip(seg, outer.position() + BatchFormat.CRC_OFFSET, 0x01);
        Path saved = root.resolve("nested2-saved");
        Run r = run("salvage", store.toString(), saved.toString());
        TreeMap<Long, LogRecord> after = all(saved, 0);
        assertEquals(before.size() - 1, after.size(), "only offset 3 lost: " + r.out() + " target " + after.keySet());
    }

    // --- 4: a damaged manifest of one partition aborts the salvage of every partition
    @Test
    void damagedManifestOfOnePartitionStillSalvagesTheOthers() throws Exception {
        Path store = root.resolve("man");
        try (LogStore s = LogStore.builder(store).partitions(2).open()) {
            for (int i = 0; i < 10; i++) s.append(i % 2, List.of(rec(i)));
        }
        try (Stream<Path> l = Files.list(store.resolve("partition-0"))) {
            for (Path m : l.filter(p -> p.getFileName().toString().startsWith("manifest.")).toList()) {
                long size = Files.size(m);
                for (long at = 0; at < size; at += 7) flip(m, at, 0x55);
            }
        }
        Path saved = root.resolve("man-saved");
        Run r = run("salvage", store.toString(), saved.toString());
        assertEquals(1, r.code(), r.out() + r.err());
        assertEquals(5, all(saved, 1).size(), "partition 1 salvaged: " + r.out() + r.err());
    }

    // --- 5: legacy fixture, undamaged
    @Test
    void legacyStoreIsCopiedWhole() throws Exception {
        Path fixture = Path.of("..", "logstore-core", "src", "test", "resources", "fixtures", "v1-store");
        Path copy = root.resolve("v1");
        try (Stream<Path> w = Files.walk(fixture)) {
            for (Path p : w.toList()) {
                Path to = copy.resolve(fixture.relativize(p).toString());
                if (Files.isDirectory(p)) Files.createDirectories(to); else Files.copy(p, to);
            }
        }
        int n;
        try (LogStore s = LogStore.builder(copy).readOnly().open()) { n = s.partitionCount(); }
        List<TreeMap<Long, LogRecord>> before = new ArrayList<>();
        for (int p = 0; p < n; p++) before.add(all(copy, p));
        Path saved = root.resolve("v1-saved");
        Run r = run("salvage", copy.toString(), saved.toString());
        assertEquals(0, r.code(), r.out() + r.err());
        for (int p = 0; p < n; p++) assertEquals(before.get(p), all(saved, p));
    }

    // --- 6: random damage; invariant: target == source minus exactly the reported offsets
    @Test
    void randomDamageReportsExactlyWhatIsMissing() throws Exception {
        Random random = new Random(7);
        for (int round = 0; round < 30; round++) {
            Path store = root.resolve("r" + round);
            try (LogStore s = LogStore.builder(store).partitions(1).segmentBytes(4096).open()) {
                long offset = random.nextInt(5);
                for (int i = 0; i < 40; i++) {
                    int count = 1 + random.nextInt(4);
                    long[] offsets = new long[count];
                    List<Record> records = new ArrayList<>();
                    for (int j = 0; j < count; j++) {
                        offsets[j] = offset;
                        offset += 1 + (random.nextInt(4) == 0 ? random.nextInt(20) : 0);
                        records.add(rec(i * 10 + j));
                    }
                    s.append(0, offsets, records);
                }
            }
            TreeMap<Long, LogRecord> before = all(store, 0);
            List<Path> segs = segments(store.resolve("partition-0"));
            Path seg = segs.get(random.nextInt(segs.size()));
            long size = Files.size(seg);
            if (size == 0) continue;
            String what;
            switch (random.nextInt(4)) {
                case 0 -> {
                    long at = random.nextLong(size);
                    flip(seg, at, 1 << random.nextInt(8));
                    what = "flip at " + at;
                }
                case 1 -> {
                    long at = random.nextLong(size);
                    int len = (int) Math.min(size - at, 1 + random.nextInt(300));
                    try (RandomAccessFile f = new RandomAccessFile(seg.toFile(), "rw")) {
                        f.seek(at);
                        f.write(new byte[len]);
                    }
                    what = "zero " + len + " at " + at;
                }
                case 2 -> {
                    List<Batch> b = batches(seg);
                    Batch victim = b.get(random.nextInt(b.size()));
                    try (RandomAccessFile f = new RandomAccessFile(seg.toFile(), "rw")) {
                        f.seek(victim.position() + BatchFormat.LENGTH_OFFSET);
                        f.writeInt(BatchFormat.MAX_BATCH_SIZE - BatchFormat.LOG_OVERHEAD - random.nextInt(3000));
                    }
                    what = "huge length at batch " + victim.position();
                }
                default -> {
                    long at = random.nextLong(size);
                    try (FileChannel ch = FileChannel.open(seg, StandardOpenOption.WRITE)) {
                        ch.truncate(at);
                    }
                    what = "truncate to " + at;
                }
            }
            Path saved = root.resolve("r" + round + "-saved");
            Run r = run("salvage", store.toString(), saved.toString());
            String ctx = "round " + round + " " + seg.getFileName() + " " + what + "\n" + r.out() + r.err();
            assertTrue(r.code() == 0 || r.code() == 1, ctx);
            assertExact(before, all(saved, 0), lost(r.out(), 0), ctx);
        }
    }

    // --- 7: target inside the source
    @Test
    void targetInsideTheSourceLeavesTheSourceVerifiable() throws Exception {
        Path store = buildOnePartition("inside", 20);
        assertEquals(0, run("verify", store.toString()).code());
        Run r = run("salvage", store.toString(), store.resolve("partition-0").resolve("saved").toString());
        Run v = run("verify", store.toString());
        assertEquals(0, v.code(), "salvage said: " + r.code() + r.out() + r.err() + "\nverify said: " + v.out() + v.err());
    }

    // --- 8: source still open by its writer
    @Test
    void sourceOpenByAWriter() throws Exception {
        Path store = root.resolve("open");
        try (LogStore s = LogStore.builder(store).partitions(1).segmentBytes(2048).open()) {
            for (int i = 0; i < 50; i++) s.append(0, List.of(rec(i)));
            s.flush();
            Path saved = root.resolve("open-saved");
            Run r = run("salvage", store.toString(), saved.toString());
            assertEquals(0, r.code(), r.out() + r.err());
            assertEquals(50, all(saved, 0).size());
        }
    }

    // --- 9: offset gaps: the report names offsets that never existed (informational)
    @Test
    void gapsAroundADamagedBatchAreNotCalledLost() throws Exception {
        Path store = root.resolve("gaps");
        try (LogStore s = LogStore.builder(store).partitions(1).open()) {
            for (long base : new long[] {0, 100, 200}) {
                s.append(0, new long[] {base, base + 1}, List.of(rec((int) base), rec((int) base + 1)));
            }
        }
        Path seg = segments(store.resolve("partition-0")).get(0);
        flip(seg, batches(seg).get(1).position() + BatchFormat.CRC_OFFSET, 1);
        Run r = run("salvage", store.toString(), root.resolve("gaps-saved").toString());
        assertTrue(r.out().contains("lost offsets 100 to 101") || r.out().contains("lost offsets 100 to 199"), r.out());
    }

    // --- 10: retention moved the start offset
    @Test
    void retainedStoreIsCopiedWhole() throws Exception {
        Path store = root.resolve("ret");
        try (LogStore s = LogStore.builder(store).partitions(1).segmentBytes(1024).retentionBytes(2048)
                .retentionCheckInterval(java.time.Duration.ofMillis(10)).open()) {
            for (int i = 0; i < 200; i++) s.append(0, List.of(rec(i)));
            Thread.sleep(300);
        }
        TreeMap<Long, LogRecord> before = all(store, 0);
        Path saved = root.resolve("ret-saved");
        Run r = run("salvage", store.toString(), saved.toString());
        assertEquals(0, r.code(), "start " + before.firstKey() + " " + r.out() + r.err());
        assertEquals(before, all(saved, 0));
    }

    /**
     * A compressed batch whose checksum holds but whose records do not unpack (its records' size
     * altered and the checksum recomputed) is lost alone: the batches around it are copied, and
     * the report names exactly its offsets.
     */
    @Test
    void aBatchThatDoesNotUnpackIsLostAlone() throws Exception {
        Path store = root.resolve("packed");
        Path copy = root.resolve("packed-copy");
        try (LogStore s = LogStore.builder(store).partitions(1).compression(dev.logstore.record.Codec.LZ4).open()) {
            for (int b = 0; b < 3; b++) {
                java.util.List<dev.logstore.record.Record> records = new java.util.ArrayList<>();
                for (int i = 0; i < 100; i++) {
                    records.add(dev.logstore.record.Record.of(null, ("{\"order\":" + i + "}").getBytes(), 1L));
                }
                s.append(0, records);
            }
        }
        Path log = store.resolve("partition-0/00000000000000000000.log");
        java.nio.ByteBuffer bytes = java.nio.ByteBuffer.wrap(java.nio.file.Files.readAllBytes(log));
        int at = dev.logstore.record.BatchHeader.read(bytes, 0).sizeInBytes(); // the second batch
        bytes.putInt(at + dev.logstore.record.BatchFormat.HEADER_SIZE,
                bytes.getInt(at + dev.logstore.record.BatchFormat.HEADER_SIZE) + 1);
        int size = dev.logstore.record.BatchHeader.read(bytes, at).sizeInBytes();
        bytes.putInt(at + dev.logstore.record.BatchFormat.CRC_OFFSET,
                dev.logstore.record.BatchHeader.computeCrc(bytes.slice(at, size), 0, size));
        java.nio.file.Files.write(log, bytes.array());
        CliRuns.Run run = CliRuns.run("salvage", store.toString(), copy.toString());
        assertEquals(1, run.code(), run.out() + run.err());
        assertTrue(run.out().contains("partition 0: lost offsets 100 to 199: the batch at byte " + at)
                && run.out().contains("does not unpack"), run.out());
        assertTrue(run.out().contains("salvaged 200 record(s)"), run.out());
        try (LogStore c = LogStore.builder(copy).readOnly().open()) {
            java.util.List<dev.logstore.record.LogRecord> all = new java.util.ArrayList<>();
            try (dev.logstore.LogReader r = c.reader(0)) {
                java.util.List<dev.logstore.record.LogRecord> got;
                while (!(got = r.poll(1000, 1 << 20)).isEmpty()) {
                    all.addAll(got);
                }
            }
            assertEquals(200, all.size());
            assertEquals(99, all.get(99).offset());
            assertEquals(200, all.get(100).offset());
        }
    }
}
