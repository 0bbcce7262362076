package dev.logstore;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.logstore.record.LogRecord;
import dev.logstore.record.Record;
import dev.logstore.verify.Finding;
import dev.logstore.segment.SegmentScanner;
import dev.logstore.verify.StoreVerifier;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Appends copied into a memory map of the active segment ({@link LogStore.Builder#mappedAppends}):
 * what readers in this process and in another see while it runs, the zeros reserved past the data
 * and who cuts them, a failed zero write, damage hidden behind zeros, and the unmapping on newer
 * Javas. The kill -9 runs are in {@link CrashTest}, the real full disk in {@link DiskFullTest}, a
 * stress run with a history checker in {@link StressTest}.
 */
class MappedAppendsTest {

    @TempDir
    Path dir;

    private static Record record(long n, int valueBytes) {
        byte[] value = new byte[valueBytes];
        new Random(n).nextBytes(value);
        return new Record(TestRecords.bytes("k" + n), value, List.of(), 1_000 + n);
    }

    /** Value sizes: mostly small (the map), now and then 40 KiB (past the map's limit, a pwrite in between). */
    private static int valueBytes(long n) {
        return n % 997 == 0 ? 40 * 1024 : (int) (n * 31 % 300);
    }

    private static List<Path> logFiles(Path store) throws IOException {
        try (Stream<Path> files = Files.list(store.resolve("partition-0"))) {
            return files.filter(f -> f.getFileName().toString().endsWith(".log")).sorted(Comparator.naturalOrder())
                    .toList();
        }
    }

    @Test
    void aTailingReaderSeesEveryBatchInOrderAndSealedSegmentsEndAtTheirData() throws Exception {
        int total = 30_000;
        AtomicReference<String> problem = new AtomicReference<>();
        try (LogStore store = LogStore.builder(dir).partitions(1).segmentBytes(512 * 1024)
                .durability(Durability.onFlush()).mappedAppends(true).open()) {
            Thread tail = new Thread(() -> {
                try (LogReader reader = store.reader(0)) {
                    long expected = 0;
                    while (expected < total) {
                        for (LogRecord read : reader.poll(100, 64 * 1024)) {
                            if (read.offset() != expected || !record(expected, valueBytes(expected)).equals(read.record())) {
                                problem.compareAndSet(null, "expected record " + expected + ", read " + read.offset());
                                return;
                            }
                            expected++;
                        }
                        reader.awaitData(java.time.Duration.ofMillis(100));
                    }
                } catch (RuntimeException | InterruptedException e) {
                    problem.compareAndSet(null, e.toString());
                }
            });
            tail.start();
            for (long n = 0; n < total; ) {
                int count = 1 + (int) (n % 4);
                List<Record> batch = new ArrayList<>();
                for (int i = 0; i < count && n + i < total; i++) {
                    batch.add(record(n + i, valueBytes(n + i)));
                }
                store.append(0, batch);
                n += batch.size();
            }
            tail.join(60_000);
            assertEquals(null, problem.get());
            assertTrue(!tail.isAlive(), "the tailing reader read all " + total + " records");

            List<Path> files = logFiles(dir);
            assertTrue(files.size() > 3, "the appends rolled: " + files);
            Path active = files.get(files.size() - 1);
            long data = store.partitionInfo(0).sizeInBytes();
            long sealed = 0;
            for (Path file : files.subList(0, files.size() - 1)) {
                sealed += Files.size(file);
            }
            assertTrue(Files.size(active) > data - sealed, "the active segment holds zeros reserved past its "
                    + (data - sealed) + " bytes of data: " + Files.size(active));
            assertEquals(0, lastByte(active), "what lies past the data is zeros");
        }
        long data;
        try (LogStore reopened = LogStore.builder(dir).readOnly().open()) {
            data = reopened.partitionInfo(0).sizeInBytes();
            assertEquals(total, TestRecords.readAll(reopened, 0).size());
        }
        assertEquals(data, StoreVerifier.logBytes(dir), "sealed segments and the cleanly closed one end at their data");
        assertEquals(List.of(), new StoreVerifier(done -> { }).verify(dir));
    }

    /**
     * Appends {@code count} records with mapped appends, closes, and turns the partition back
     * into what a crash before the close leaves (see {@code Crashes}); the active segment's file.
     */
    private Path crashedWriter(int count, int valueBytes) throws IOException {
        try (LogStore store = LogStore.builder(dir).partitions(1).mappedAppends(true).durability(Durability.onFlush())
                .open()) {
            for (long n = 0; n < count; n++) {
                store.append(0, List.of(record(n, valueBytes)));
            }
        }
        dev.logstore.log.Crashes.forgetCleanClose(dir.resolve("partition-0"));
        List<Path> files = logFiles(dir);
        return files.get(files.size() - 1);
    }

    /** Where each valid batch of the file starts. */
    private static List<Long> batchStarts(FileChannel channel) throws IOException {
        List<Long> starts = new ArrayList<>();
        SegmentScanner.scan((dst, at) -> dev.logstore.io.Directories.readFully(channel, dst, at), 0, channel.size(), 0,
                SegmentScanner.ANY_EPOCH, (at, header) -> starts.add(at));
        return starts;
    }

    private static int lastByte(Path file) throws IOException {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            ByteBuffer last = ByteBuffer.allocate(1);
            channel.read(last, channel.size() - 1);
            return last.get(0);
        }
    }

    /**
     * A writer in a child JVM appends with mapped appends, then idles with its reserved zeros in
     * place; this process follows read-only and reads every record, and takes the zeros for the
     * end of the data, not for damage, however long the writer idles.
     */
    @Test
    void aFollowerInAnotherProcessReadsWhatAMappedWriterAppendsAndTakesItsZerosForTheEnd() throws Exception {
        try (ChildProcess writer = new ChildProcess(MappedWriter.class, dir.toString(), "2000")) {
            assertEquals("appended 2000", writer.readLineStartingWith("appended"));
            try (LogStore follower = LogStore.builder(dir).readOnly().open()) {
                List<LogRecord> read = TestRecords.readAll(follower, 0);
                assertEquals(2000, read.size());
                for (LogRecord r : read) {
                    assertEquals(MappedWriter.record(r.offset()), r.record());
                }
                // Past the grace period in which bad bytes at the end may still be a write in progress.
                Thread.sleep(2_500);
                assertEquals(2000, follower.nextOffset(0));
                try (LogReader reader = follower.reader(0)) {
                    reader.seek(2000);
                    assertEquals(List.of(), reader.poll(10, 4096), "nothing past the data, and no damage reported");
                }
                writer.send("more 500");
                assertEquals("appended 2500", writer.readLineStartingWith("appended"));
                assertEquals(2500, TestRecords.readAll(follower, 0).size());
            }
        }
    }

    /** Child process: appends numbered records with mapped appends when told, and holds the store open. */
    public static final class MappedWriter {
        static Record record(long n) {
            return TestRecords.numbered(n, 1_000 + n);
        }

        public static void main(String[] args) throws IOException {
            try (LogStore store = LogStore.builder(Path.of(args[0])).partitions(1).mappedAppends(true)
                    .durability(Durability.onFlush()).open()) {
                appendUpTo(store, Long.parseLong(args[1]));
                java.io.BufferedReader in = new java.io.BufferedReader(new java.io.InputStreamReader(System.in,
                        StandardCharsets.UTF_8));
                String line;
                while ((line = in.readLine()) != null) {
                    appendUpTo(store, store.nextOffset(0) + Long.parseLong(line.substring("more ".length())));
                }
            }
        }

        private static void appendUpTo(LogStore store, long end) {
            for (long n = store.nextOffset(0); n < end; n++) {
                store.append(0, List.of(record(n)));
            }
            System.out.println("appended " + store.nextOffset(0));
            System.out.flush();
        }
    }

    /**
     * The zeros written ahead of the map are where a full or failing disk shows: that write fails,
     * the partition stops with its error, and every record appended before is kept.
     */
    @Test
    void aFailedWriteOfTheReservedZerosStopsThePartitionAndLosesNothingAppended() {
        FaultyFiles files = new FaultyFiles();
        List<Record> appended = new ArrayList<>();
        try (LogStore store = LogStore.builder(dir).partitions(1).durability(Durability.onFlush()).mappedAppends(true)
                .fileOpener(files).open()) {
            for (long n = 0; n < 10; n++) {
                store.append(0, List.of(record(n, 100)));
                appended.add(record(n, 100));
            }
            files.failWrites = FaultyFiles.named(".log");
            PartitionFailedException failed = null;
            // Appends within the mapped window write nothing through the channel; the next window's zeros do.
            for (long n = 10; failed == null; n++) {
                try {
                    store.append(0, List.of(record(n, 100)));
                    appended.add(record(n, 100));
                } catch (PartitionFailedException e) {
                    failed = e;
                }
                assertTrue(n < 10_000, "a new window is needed within 16 KiB or so");
            }
            assertTrue(failed.getMessage().contains("Input/output error"), failed.getMessage());
            assertTrue(appended.size() > 50, "the window took appends without a system call: " + appended.size());
            files.heal();
            assertEquals(appended.size(), TestRecords.readAll(store, 0).size(), "readers read what was published");
        }
        try (LogStore reopened = LogStore.open(dir, 1)) {
            List<LogRecord> records = TestRecords.readAll(reopened, 0);
            assertEquals(appended.size(), records.size(), "every appended record, and nothing after");
            for (int i = 0; i < records.size(); i++) {
                assertEquals(appended.get(i), records.get(i).record());
            }
        }
    }

    /**
     * A map the system refuses (a process at its {@code vm.max_map_count}, as thousands of
     * partitions written at once can reach) is no failure: the segment is written without maps,
     * every record reads back, and the files end at their data after the close.
     */
    @Test
    void aRefusedMapFallsBackToWritesAndLosesNothing() throws Exception {
        FaultyFiles files = new FaultyFiles();
        files.failMaps = FaultyFiles.named(".log");
        List<Record> appended = new ArrayList<>();
        try (LogStore store = LogStore.builder(dir).partitions(1).segmentBytes(256 * 1024)
                .durability(Durability.onFlush()).mappedAppends(true).fileOpener(files).open()) {
            for (long n = 0; n < 3_000; n++) {
                store.append(0, List.of(record(n, 200)));
                appended.add(record(n, 200));
                if (n == 1_500) {
                    files.heal(); // maps are given again; the segment written without keeps writing so
                }
            }
            List<LogRecord> read = TestRecords.readAll(store, 0);
            assertEquals(appended.size(), read.size());
            for (int i = 0; i < read.size(); i++) {
                assertEquals(appended.get(i), read.get(i).record());
            }
        }
        try (LogStore reopened = LogStore.builder(dir).readOnly().open()) {
            assertEquals(appended.size(), TestRecords.readAll(reopened, 0).size());
            assertEquals(reopened.partitionInfo(0).sizeInBytes(), StoreVerifier.logBytes(dir));
        }
        assertEquals(List.of(), new StoreVerifier(done -> { }).verify(dir));
    }

    /**
     * Zeros are the end of the data only when nothing intact follows them: a page of zeros in the
     * middle of an unclean active segment is damage, and the open refuses rather than cut the
     * batches after it.
     */
    @Test
    void zerosWithIntactBatchesAfterThemAreDamageNotTheEnd() throws Exception {
        Path active = crashedWriter(200, 100);
        try (FileChannel channel = FileChannel.open(active, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            List<Long> starts = batchStarts(channel);
            assertEquals(200, starts.size());
            // Batches 50 to 59 turned to zeros, from one batch's start to another's.
            channel.write(ByteBuffer.allocate((int) (starts.get(60) - starts.get(50))), starts.get(50));
        }
        CorruptLogException refused = assertThrows(CorruptLogException.class, () -> LogStore.open(dir, 1));
        assertTrue(refused.getMessage().contains(dev.logstore.segment.SegmentScanner.ZEROS), refused.getMessage());
        assertTrue(refused.getMessage().contains("an intact batch follows"), refused.getMessage());
    }

    /**
     * On Java 22 and later the map is unmapped by closing an arena, without the deprecated
     * {@code sun.misc.Unsafe} call that Java 24 and later warn about: a child JVM of the newest
     * Java installed appends across many windows and segments and reads everything back.
     */
    @Test
    void onJava22AndLaterTheMapIsUnmappedWithoutUnsafe() throws Exception {
        Path java = newerJava();
        Assumptions.assumeTrue(java != null, "no Java 22 or later installed beside this one (set "
                + "-Dlogstore.test.java22=/path/to/jdk to run it)");
        try (ChildProcess child = ChildProcess.withJava(java, true, NewerJavaWriter.class, dir.toString())) {
            List<String> output = new ArrayList<>();
            String line;
            while ((line = child.readLine()) != null) {
                output.add(line);
            }
            assertEquals(0, child.waitFor(60), String.join("\n", output));
            assertTrue(output.contains("read 20000 records, unmapped by closing a java.lang.foreign.Arena"),
                    String.join("\n", output));
            assertTrue(output.stream().noneMatch(l -> l.contains("WARNING")), "no warning: " + output);
        }
    }

    /** Child process for {@link #onJava22AndLaterTheMapIsUnmappedWithoutUnsafe}. */
    public static final class NewerJavaWriter {
        public static void main(String[] args) {
            Path store = Path.of(args[0]);
            try (LogStore writing = LogStore.builder(store).partitions(1).segmentBytes(256 * 1024).mappedAppends(true)
                    .durability(Durability.onFlush()).open()) {
                for (long n = 0; n < 20_000; n++) {
                    writing.append(0, List.of(record(n, valueBytes(n))));
                }
            }
            try (LogStore reading = LogStore.builder(store).readOnly().open()) {
                List<LogRecord> records = TestRecords.readAll(reading, 0);
                for (LogRecord r : records) {
                    if (!record(r.offset(), valueBytes(r.offset())).equals(r.record())) {
                        throw new AssertionError("record " + r.offset() + " is not what was written");
                    }
                }
                System.out.println("read " + records.size() + " records, unmapped by "
                        + dev.logstore.io.FileMaps.unmapping());
            }
        }
    }

    /**
     * A mapped append that lands while the open-files pool forces the active segment's write
     * channel (to close it under maxOpenFiles) is not counted as covered by that fsync, which
     * began before it: the next flush() forces it. (The copy into the map takes none of the
     * channel's locks, so only counting writes before the force keeps the two apart.)
     */
    @Test
    void aMappedAppendDuringAnEvictionsFsyncIsForcedByTheNextFlush() throws Exception {
        HookedFiles files = new HookedFiles();
        AtomicBoolean armed = new AtomicBoolean();
        CountDownLatch inEvictionForce = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        AtomicLong logForcesStarted = new AtomicLong();
        files.beforeForce = path -> {
            if (path.getFileName().toString().endsWith(".log")) {
                logForcesStarted.incrementAndGet();
            }
        };
        files.afterForce = path -> {
            // The pool's fsync has returned: from here on, it covers nothing newly written.
            if (path.getFileName().toString().endsWith(".log") && HookedFiles.calledFrom("OpenFiles", "evict")
                    && armed.compareAndSet(true, false)) {
                inEvictionForce.countDown();
                try {
                    release.await(20, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        };
        try (LogStore store = LogStore.builder(dir).partitions(1).segmentBytes(64 * 1024).maxOpenFiles(2)
                .durability(Durability.onFlush()).mappedAppends(true).fileOpener(files).open()) {
            long n = 0;
            while (logFiles(dir).size() < 5) {
                store.append(0, List.of(record(n++, 1000)));
            }
            store.flush();
            long sealedEnd = n - 1; // offsets below the active segment's base are in sealed segments
            // A: an unforced mapped append in the active segment.
            store.append(0, List.of(record(n++, 100)));
            armed.set(true);
            AtomicReference<Throwable> readerFailure = new AtomicReference<>();
            Thread reader = new Thread(() -> {
                // Reads of sealed segments open read channels past the cap of 2: the pool closes
                // others, the active segment's write channel (holding A, unforced) among them.
                ByteBuffer buffer = ByteBuffer.allocate(64 * 1024);
                try {
                    for (int round = 0; round < 2_000 && inEvictionForce.getCount() > 0; round++) {
                        for (long offset = 0; offset < sealedEnd && inEvictionForce.getCount() > 0; offset += 60) {
                            buffer.clear();
                            store.read(0, offset, buffer);
                        }
                    }
                } catch (Throwable e) {
                    readerFailure.set(e);
                }
            });
            reader.start();
            assertTrue(inEvictionForce.await(30, TimeUnit.SECONDS), "the pool forced the active write channel to "
                    + "close it (reader failure: " + readerFailure.get() + ")");
            // B: appended while the pool's fsync is returning: copied into the window, no lock taken.
            long forcesBeforeB = logForcesStarted.get();
            // Released from aside after a second, so that an append that waits for the eviction
            // to end does not hang the test.
            Thread releaser = new Thread(() -> {
                try {
                    Thread.sleep(1_000);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                release.countDown();
            });
            releaser.start();
            store.append(0, List.of(record(n++, 100)));
            release.countDown();
            reader.join(30_000);
            store.flush(); // must not return before an fsync that began after B was written
            assertTrue(logForcesStarted.get() > forcesBeforeB, "flush() returned, acknowledging offset " + (n - 1)
                    + " as durable, yet no fsync of a .log file began after it was written ("
                    + logForcesStarted.get() + " began in all, " + forcesBeforeB + " before it)");
        }
    }

    /**
     * A kill -9 while a batch is being copied into the map leaves its first bytes and then the
     * reserved zeros, all within the file. That is a torn end, as a crash leaves it, for
     * {@link StoreVerifier}, for a read-only follower (past its grace period for writes under
     * way) and for the next writable open, which cuts it; never damage.
     */
    @Test
    void aBatchHalfCopiedWhenTheWriterDiedIsATornEndNotDamage() throws Exception {
        int count = 50;
        // As a kill -9 of the writer during the copy of the last batch leaves the files:
        // no clean close, the last batch half copied, the rest of the window still zeros.
        Path active = crashedWriter(count, 500);
        try (FileChannel channel = FileChannel.open(active, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            List<Long> starts = batchStarts(channel);
            assertEquals(count, starts.size());
            long last = starts.get(count - 1);
            long copied = last + (channel.size() - last) / 2;
            long windowEnd = 64 * 1024;
            channel.write(ByteBuffer.allocate((int) (windowEnd - copied)), copied);
        }

        List<String> problems = new ArrayList<>();
        List<Finding> findings = new StoreVerifier(done -> { }).verify(dir);
        for (Finding f : findings) {
            if (f.severity() == Finding.Severity.CORRUPT) {
                problems.add("StoreVerifier: CORRUPT " + f.message());
            }
        }
        try (LogStore follower = LogStore.builder(dir).readOnly().open()) {
            int read = TestRecords.readAll(follower, 0).size();
            if (read != count - 1) {
                problems.add("follower read " + read + " records, not " + (count - 1));
            }
            Thread.sleep(2_500); // past the follower's grace period for writes under way
            try (LogReader reader = follower.reader(0)) {
                reader.seek(count - 1);
                reader.poll(10, 4096);
            } catch (CorruptLogException e) {
                problems.add("follower: " + e.getMessage());
            }
        }
        // The writer's recovery, for its part, takes it for what it is: a torn end, cut.
        try (LogStore reopened = LogStore.open(dir, 1)) {
            assertEquals(count - 1, reopened.nextOffset(0));
        }
        assertEquals(List.of(), problems, "a crash's torn end reported as damage");
    }

    /**
     * The same with real kills: a child JVM appends 30 KiB batches (each copied into the map)
     * and is killed at a random moment, five times; {@link StoreVerifier} never reports
     * corruption for what it leaves.
     */
    @Test
    void killingAMappedWriterMidCopyNeverLeavesWhatVerifyCallsCorruption() throws Exception {
        Random random = new Random();
        List<String> corrupt = new ArrayList<>();
        for (int attempt = 0; attempt < 5; attempt++) {
            Path store = dir.resolve("kill-" + attempt);
            try (ChildProcess child = new ChildProcess(BigBatchWriter.class, store.toString())) {
                assertEquals("appending", child.readLineStartingWith("appending"));
                Thread.sleep(50 + random.nextInt(250));
                child.kill();
            }
            for (Finding f : new StoreVerifier(done -> { }).verify(store)) {
                if (f.severity() == Finding.Severity.CORRUPT) {
                    corrupt.add("kill " + (attempt + 1) + ": " + f.file().getFileName() + " at byte " + f.position()
                            + ": " + f.message());
                }
            }
        }
        assertEquals(List.of(), corrupt, "verify after a kill -9 of a mapped writer");
    }

    /** Child process: appends 30 KiB batches (under the 32 KiB map limit) until killed. */
    public static final class BigBatchWriter {
        public static void main(String[] args) {
            byte[] value = new byte[30 * 1024];
            new Random(7).nextBytes(value);
            try (LogStore store = LogStore.builder(Path.of(args[0])).partitions(1).segmentBytes(64L << 20)
                    .durability(Durability.onFlush()).mappedAppends(true).open()) {
                store.append(0, List.of(new Record(TestRecords.bytes("k"), value, List.of(), 1)));
                System.out.println("appending");
                System.out.flush();
                for (long n = 1; ; n++) {
                    store.append(0, List.of(new Record(TestRecords.bytes("k"), value, List.of(), n)));
                }
            }
        }
    }

    private static Path newerJava() {
        String given = System.getProperty("logstore.test.java22");
        List<Path> candidates = new ArrayList<>();
        if (given != null) {
            candidates.add(Path.of(given));
        }
        try (Stream<Path> installed = Files.list(Path.of("/usr/lib/jvm"))) {
            installed.sorted(Comparator.reverseOrder()).forEach(candidates::add);
        } catch (IOException e) {
            // none there
        }
        for (Path home : candidates) {
            Path java = home.resolve("bin").resolve("java");
            Path release = home.resolve("release");
            if (Files.isExecutable(java) && Files.isReadable(release)) {
                try {
                    String text = Files.readString(release);
                    Matcher version = Pattern.compile("JAVA_VERSION=\"(\\d+)")
                            .matcher(text);
                    if (version.find() && Integer.parseInt(version.group(1)) >= 22) {
                        return java;
                    }
                } catch (IOException | NumberFormatException e) {
                    // not a JDK we can tell
                }
            }
        }
        return null;
    }
}
