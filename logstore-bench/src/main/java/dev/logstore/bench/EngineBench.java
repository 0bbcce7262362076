package dev.logstore.bench;

import dev.logstore.Durability;
import dev.logstore.LogReader;
import dev.logstore.LogStore;
import dev.logstore.record.LogRecord;
import dev.logstore.record.Record;
import dev.logstore.record.RecordHandler;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;

/**
 * The engine benchmark: appends, reads, seeks and recovery, each against its baselines measured
 * in the same run on the same data. A plain harness rather than JMH because the runs write and
 * read hundreds of MiB to gigabytes per measurement. Every measurement is repeated
 * ({@code --rounds}) after a discarded warm-up round and the median is reported.
 *
 * <pre>bin/bench engine [--total-mb 256] [--seconds 4] [--rounds 3] [--recovery-mb 1024]
 *                  [--only appends,writers,groupcommit,rolls,reads,seeks,recovery,scale] [--out FILE]</pre>
 */
public final class EngineBench {

    private final Path dir;
    private final long totalBytes;
    private final long maxNanos;
    private final int rounds;
    private final long recoveryBytes;
    private final Report report;

    private EngineBench(Path dir, long totalBytes, double seconds, int rounds, long recoveryBytes, String command) {
        this.dir = dir;
        this.totalBytes = totalBytes;
        this.maxNanos = (long) (seconds * 1e9);
        this.rounds = rounds;
        this.recoveryBytes = recoveryBytes;
        this.report = new Report("LogStore engine benchmark results", command);
    }

    public static void main(String[] args) throws Exception {
        Path dir = Path.of("logstore-bench/target/bench-data");
        long totalMb = 256;
        double seconds = 4;
        int rounds = 3;
        long recoveryMb = 1024;
        Path out = null;
        List<String> only = SECTIONS;
        int scalePartitions = 10_000;
        long indexMb = 2048;
        int segmentsEach = 10;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--dir" -> dir = Path.of(args[++i]);
                case "--total-mb" -> totalMb = Long.parseLong(args[++i]);
                case "--seconds" -> seconds = Double.parseDouble(args[++i]);
                case "--rounds" -> rounds = Integer.parseInt(args[++i]);
                case "--recovery-mb" -> recoveryMb = Long.parseLong(args[++i]);
                case "--out" -> out = Path.of(args[++i]);
                case "--only" -> only = sections(args[++i]);
                case "--partitions" -> scalePartitions = Integer.parseInt(args[++i]);
                case "--index-mb" -> indexMb = Long.parseLong(args[++i]);
                case "--segments" -> segmentsEach = Integer.parseInt(args[++i]);
                default -> throw new IllegalArgumentException("unknown option " + args[i] + "; options: --dir, "
                        + "--total-mb, --seconds, --rounds, --recovery-mb, --only, --partitions, --segments, --index-mb, --out");
            }
        }
        String command = "bin/bench engine --total-mb " + totalMb + " --seconds " + seconds + " --rounds " + rounds
                + " --recovery-mb " + recoveryMb
                + " --partitions " + scalePartitions + " --segments " + segmentsEach + " --index-mb " + indexMb + (only.equals(SECTIONS) ? "" : " --only " + String.join(",", only));
        if (out == null) {
            // A partial run never overwrites the full results.
            out = only.equals(SECTIONS) ? Path.of("logstore-bench/results/engine.md")
                    : Path.of("logstore-bench/target/engine-" + String.join("-", only) + ".md");
        }
        EngineBench bench = new EngineBench(dir, totalMb << 20, seconds, rounds, recoveryMb << 20, command);
        Dirs.deleteTree(dir);
        Files.createDirectories(dir);
        try {
            if (only.contains("appends")) {
                bench.appends();
            }
            if (only.contains("writers")) {
                bench.fourWriters();
            }
            if (only.contains("groupcommit")) {
                bench.groupCommit();
            }
            if (only.contains("rolls")) {
                bench.rolls();
            }
            if (only.contains("reads")) {
                bench.reads();
            }
            if (only.contains("seeks")) {
                bench.seeks();
            }
            if (only.contains("recovery")) {
                bench.recovery();
            }
            if (only.contains("compression")) {
                new CompressionBench(dir, Math.min(totalMb, 64) << 20, rounds, bench.report).run();
            }
            if (only.contains("scale")) {
                ScaleBench scale = new ScaleBench(dir, scalePartitions, indexMb << 20, bench.report);
                scale.run();
                scale.manySegments(segmentsEach);
                scale.indexMemory();
                scale.activeIndexMemory();
            }
        } finally {
            Dirs.deleteTree(dir);
        }
        bench.report.write(out);
        System.out.println("results written to " + out);
    }

    /** Passes over the data before a sequential read is measured (see {@link #median(Callable, int)}). */
    private static final int READ_WARM_UPS = 8;
    private static final List<String> SECTIONS = List.of("appends", "writers", "groupcommit", "rolls", "reads",
            "seeks", "recovery", "compression", "scale");

    private static List<String> sections(String list) {
        List<String> chosen = Arrays.stream(list.split(",")).map(String::trim).toList();
        for (String section : chosen) {
            if (!SECTIONS.contains(section)) {
                throw new IllegalArgumentException("unknown section '" + section + "' in --only; sections: "
                        + String.join(",", SECTIONS));
            }
        }
        return SECTIONS.stream().filter(chosen::contains).toList();
    }

    // ------------------------------------------------------------------ appends

    @FunctionalInterface
    private interface TargetFactory {
        AppendTarget open(Path where) throws Exception;
    }

    private record Named(String name, TargetFactory factory) {
    }

    private void appends() throws Exception {
        List<String> rows = new ArrayList<>();
        List<String> breakdown = new ArrayList<>();
        List<String> mappedRows = new ArrayList<>();
        for (boolean fsync : new boolean[] {false, true}) {
            for (int valueSize : new int[] {100, 1024}) {
                for (int batchSize : new int[] {1, 64}) {
                    Workload workload = new Workload(valueSize, batchSize);
                    double logStore = median(() -> appendRun(workload, fsync,
                            where -> AppendTarget.logStore(where, 1, fsync)));
                    List<Named> baselines = new ArrayList<>();
                    baselines.add(new Named("raw FileChannel", where -> AppendTarget.rawChannel(where.resolve("raw.log"))));
                    baselines.add(new Named("Kafka FileRecords", where -> AppendTarget.kafkaFileRecords(
                            where.resolve("00000000000000000000.log"))));
                    if (!fsync) {
                        baselines.add(new Named("Chronicle Queue", AppendTarget::chronicleQueue));
                    } else if (valueSize == 100) {
                        baselines.add(new Named("tape QueueFile", where -> AppendTarget.tape(where.resolve("queue"))));
                    }
                    if (!fsync) {
                        double mapped = median(() -> appendRun(workload, false,
                                where -> AppendTarget.logStore(where, 1, false, true)));
                        double chronicle = median(() -> appendRun(workload, false, AppendTarget::chronicleQueue));
                        mappedRows.add(String.format(Locale.ROOT, "| %s | %s | %s | %s | %s | %s |", workload.describe(),
                                Report.mb(logStore), Report.mb(mapped), Report.mb(chronicle),
                                Report.ratio(mapped, chronicle), Report.ratio(mapped, logStore)));
                        double encode = median(() -> appendRun(workload, false, where -> AppendTarget.encodeOnly()));
                        double raw = median(() -> appendRun(workload, false,
                                where -> AppendTarget.rawChannel(where.resolve("raw.log"))));
                        double serial = 1 / (1 / raw + 1 / encode);
                        breakdown.add(String.format(Locale.ROOT, "| %s | %s | %s | %s | %s | %s |", workload.describe(),
                                Report.mb(raw), Report.mb(encode), Report.mb(serial), Report.mb(logStore),
                                Report.ratio(logStore, serial)));
                    }
                    for (Named baseline : baselines) {
                        double value = median(() -> appendRun(workload, fsync, baseline.factory()));
                        rows.add(String.format(Locale.ROOT, "| %s | %s | %s | %s | %s | %s | %s |", workload.describe(),
                                fsync ? "per batch" : "never", Report.mb(logStore),
                                String.format(Locale.ROOT, "%.0f", logStore / (8 + valueSize)), baseline.name(),
                                Report.mb(value), Report.ratio(logStore, value)));
                    }
                }
            }
        }
        report.section("Appends, one writer", "| Workload | fsync | LogStore MiB/s | LogStore records/s | Baseline "
                + "| Baseline MiB/s | Ratio |", rows, "MiB/s counts key and value bytes. Each run appends until "
                + (totalBytes >> 20) + " MiB or " + (maxNanos / 1_000_000_000.0) + " s. The raw FileChannel baseline "
                + "writes LogStore's already-encoded batch bytes: no encoding, no index, the disk's limit. tape "
                + "writes synchronously (\"rwd\"), so it only appears with fsync per batch; Chronicle Queue has no "
                + "fsync, so only without.");
        report.section("Appends through a memory map (mappedAppends), one writer", "| Workload | LogStore MiB/s | "
                + "LogStore, mapped appends MiB/s | Chronicle Queue MiB/s | Mapped / Chronicle Queue | Mapped / "
                + "LogStore |", mappedRows, "No fsync. With mappedAppends(true) a batch of up to 32 KiB encoded is "
                + "copied into a memory map of the active segment instead of written with a system call; larger "
                + "batches are still written. Maps are unmapped by " + dev.logstore.io.FileMaps.unmapping() + ".");
        report.section("Where page-cache appends spend their time", "| Workload | raw write MiB/s | LogStore's "
                + "encoding alone MiB/s | raw write + encoding, one after the other, MiB/s | LogStore MiB/s | LogStore / "
                + "that sum |", breakdown, "Without fsync an append is: encode the batch (copy every key and value "
                + "into the batch buffer, compute its CRC-32C), then write it. Measured apart in the same run, the two "
                + "steps predict LogStore's rate; the last column is what the rest of an append (offsets, indexes, "
                + "locking, publishing to readers) costs on top.");
    }

    /** Bytes of payload per second for one fresh target. */
    private double appendRun(Workload workload, boolean fsync, TargetFactory factory) throws Exception {
        Path where = Files.createDirectories(dir.resolve("append-" + System.nanoTime()));
        long bytes = 0;
        long start;
        long elapsed;
        try (AppendTarget target = factory.open(where)) {
            int n = workload.batches.size();
            long perBatch = workload.payloadBytesPerBatch();
            start = System.nanoTime();
            int i = 0;
            while (true) {
                target.append(workload.batches.get(i % n), workload.encoded.get(i % n), fsync);
                bytes += perBatch;
                i++;
                if (bytes >= totalBytes || ((i & 15) == 0 && System.nanoTime() - start > maxNanos)) {
                    break;
                }
            }
            elapsed = System.nanoTime() - start;
        } finally {
            Dirs.deleteTree(where);
        }
        return bytes / (elapsed / 1e9);
    }

    private void fourWriters() throws Exception {
        List<String> rows = new ArrayList<>();
        for (boolean fsync : new boolean[] {false, true}) {
            Workload workload = new Workload(1024, 64);
            double logStore = median(() -> fourWriterRun(workload, fsync, true));
            double raw = median(() -> fourWriterRun(workload, fsync, false));
            rows.add(String.format(Locale.ROOT, "| %s | %s | %s | raw FileChannel, 4 files | %s | %s |",
                    workload.describe(), fsync ? "per batch" : "never", Report.mb(logStore), Report.mb(raw),
                    Report.ratio(logStore, raw)));
        }
        report.section("Appends, 4 writer threads on 4 partitions", "| Workload | fsync | LogStore MiB/s | Baseline "
                + "| Baseline MiB/s | Ratio |", rows, null);
    }

    private double fourWriterRun(Workload workload, boolean fsync, boolean logStore) throws Exception {
        Path where = Files.createDirectories(dir.resolve("four-" + System.nanoTime()));
        ExecutorService pool = Executors.newFixedThreadPool(4);
        LogStore store = logStore ? LogStore.builder(where.resolve("store")).partitions(4)
                .durability(fsync ? Durability.always() : Durability.onFlush()).open() : null;
        try {
            long perBatch = workload.payloadBytesPerBatch();
            long start = System.nanoTime();
            List<Future<Long>> futures = new ArrayList<>();
            for (int t = 0; t < 4; t++) {
                int partition = t;
                futures.add(pool.submit(() -> {
                    AppendTarget raw = logStore ? null : AppendTarget.rawChannel(where.resolve("raw-" + partition));
                    long bytes = 0;
                    int i = 0;
                    int n = workload.batches.size();
                    while (bytes < totalBytes / 4 && ((i & 15) != 0 || System.nanoTime() - start < maxNanos)) {
                        if (logStore) {
                            store.append(partition, workload.batches.get(i % n));
                        } else {
                            raw.append(null, workload.encoded.get(i % n), fsync);
                        }
                        bytes += perBatch;
                        i++;
                    }
                    if (raw != null) {
                        raw.close();
                    }
                    return bytes;
                }));
            }
            return perSecond(futures, start);
        } finally {
            pool.shutdownNow();
            if (store != null) {
                store.close();
            }
            Dirs.deleteTree(where);
        }
    }

    // ------------------------------------------------------------------ group commit

    /**
     * Appends with {@code Durability.always()}: every append returns only once its batch is on
     * disk. Threads appending at once share fsyncs, so four threads should each wait about as long
     * as one does and together append several times as fast.
     */
    private void groupCommit() throws Exception {
        Workload workload = new Workload(1024, 1);
        double one = median(() -> groupRun(workload, 1, 1, false));
        double fourOnOne = median(() -> groupRun(workload, 4, 1, false));
        double fourOnFour = median(() -> groupRun(workload, 4, 4, false));
        double mappedOne = median(() -> groupRun(workload, 1, 1, true));
        double mappedFourOnOne = median(() -> groupRun(workload, 4, 1, true));
        double rawOne = median(() -> rawGroupRun(1));
        double rawFour = median(() -> rawGroupRun(4));
        double rawFourFiles = median(this::rawFourFilesRun);
        List<String> rows = new ArrayList<>();
        rows.add(String.format(Locale.ROOT, "| 4 threads, one partition | %.0f | 1 thread, one partition | %.0f | %s |",
                fourOnOne, one, Report.ratio(fourOnOne, one)));
        rows.add(String.format(Locale.ROOT, "| 4 threads, a partition each | %.0f | 1 thread, one partition | %.0f | %s |",
                fourOnFour, one, Report.ratio(fourOnFour, one)));
        rows.add(String.format(Locale.ROOT, "| 4 threads, one partition, mapped appends | %.0f | 1 thread, one "
                + "partition, mapped appends | %.0f | %s |", mappedFourOnOne, mappedOne,
                Report.ratio(mappedFourOnOne, mappedOne)));
        rows.add(String.format(Locale.ROOT, "| (the disk) raw FileChannel, 4 appends per fdatasync | %.0f | raw "
                + "FileChannel, 1 append per fdatasync | %.0f | %s |", rawFour, rawOne, Report.ratio(rawFour, rawOne)));
        rows.add(String.format(Locale.ROOT, "| (the disk) raw FileChannel, 4 threads, a file each, 1 append per "
                + "fdatasync | %.0f | raw FileChannel, 1 thread | %.0f | %s |", rawFourFiles, rawOne,
                Report.ratio(rawFourFiles, rawOne)));
        report.section("Group commit: appends of one 1 KiB record, each durable before it returns",
                "| LogStore | appends/s | Baseline | appends/s | Ratio |", rows,
                "Durability.always(): an append returns once its batch is forced to disk. Appends made while a force "
                        + "is under way share the next one. The last row is the disk's own answer to the same "
                        + "question: how much faster one thread appends when each fdatasync covers four 1 KiB appends "
                        + "instead of one (an fdatasync costs more the more pages it writes), the most sharing can give.");
    }

    private double groupRun(Workload workload, int threads, int partitions, boolean mapped) throws Exception {
        Path where = Files.createDirectories(dir.resolve("group-" + System.nanoTime()));
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try (LogStore store = LogStore.builder(where).partitions(partitions).durability(Durability.always())
                .mappedAppends(mapped).open()) {
            long seconds = Math.min(maxNanos, 3_000_000_000L);
            long start = System.nanoTime();
            List<Future<Long>> futures = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int partition = t % partitions;
                futures.add(pool.submit(() -> {
                    long appends = 0;
                    int n = workload.batches.size();
                    while (System.nanoTime() - start < seconds) {
                        store.append(partition, workload.batches.get((int) (appends % n)));
                        appends++;
                    }
                    return appends;
                }));
            }
            return perSecond(futures, start);
        } finally {
            pool.shutdownNow();
            Dirs.deleteTree(where);
        }
    }

    /**
     * Appends/s of four threads, each writing 1 KiB appends to a raw file of its own and forcing it
     * after every one: the disk's answer for four partitions, each with one appender.
     */
    private double rawFourFilesRun() throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            long seconds = Math.min(maxNanos, 3_000_000_000L);
            long start = System.nanoTime();
            List<Future<Long>> futures = new ArrayList<>();
            for (int t = 0; t < 4; t++) {
                Path file = dir.resolve("raw-files-" + t + "-" + System.nanoTime());
                futures.add(pool.submit(() -> {
                    ByteBuffer record = ByteBuffer.allocateDirect(1024);
                    long appends = 0;
                    try (FileChannel channel = FileChannel.open(file, StandardOpenOption.CREATE_NEW,
                            StandardOpenOption.WRITE)) {
                        long position = 0;
                        while (System.nanoTime() - start < seconds) {
                            record.clear();
                            while (record.hasRemaining()) {
                                position += channel.write(record, position);
                            }
                            channel.force(false);
                            appends++;
                        }
                    } finally {
                        Files.deleteIfExists(file);
                    }
                    return appends;
                }));
            }
            return perSecond(futures, start);
        } finally {
            pool.shutdownNow();
        }
    }

    /** The sum of what {@code futures} count, per second since {@code start}. */
    private static double perSecond(List<Future<Long>> futures, long start) throws Exception {
        long total = 0;
        for (Future<Long> future : futures) {
            total += future.get();
        }
        return total / ((System.nanoTime() - start) / 1e9);
    }

    /** Appends/s of one thread writing 1 KiB appends to a raw file, forcing it after every {@code perSync}. */
    private double rawGroupRun(int perSync) throws Exception {
        Path file = dir.resolve("raw-group-" + System.nanoTime());
        ByteBuffer record = ByteBuffer.allocateDirect(1024);
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            long seconds = Math.min(maxNanos, 3_000_000_000L);
            long start = System.nanoTime();
            long appends = 0;
            long position = 0;
            while (System.nanoTime() - start < seconds) {
                for (int i = 0; i < perSync; i++) {
                    record.clear();
                    while (record.hasRemaining()) {
                        position += channel.write(record, position);
                    }
                    appends++;
                }
                channel.force(false);
            }
            return appends / ((System.nanoTime() - start) / 1e9);
        } finally {
            Files.deleteIfExists(file);
        }
    }

    // ------------------------------------------------------------------ rolls

    /**
     * Two threads appending to one partition, forced only by flushes (as the sink's writes are):
     * with segments small enough to roll every 32 MiB, against segments that never roll. Besides
     * the rate, the longest time in which no append returned at all: a roll that forces its whole
     * segment under the append lock stops every appender for that long.
     */
    private void rolls() throws Exception {
        Workload workload = new Workload(1024, 16);
        long total = Math.max(256L << 20, Math.min(totalBytes * 2, 1L << 30));
        long segment = 32L << 20;
        List<double[]> rolling = new ArrayList<>();
        List<double[]> flat = new ArrayList<>();
        for (int round = 0; round < rounds; round++) {
            rolling.add(rollRun(workload, total, segment));
            flat.add(rollRun(workload, total, Integer.MAX_VALUE));
        }
        double rollingRate = medianOf(rolling, 0);
        double flatRate = medianOf(flat, 0);
        List<String> rows = new ArrayList<>();
        rows.add(String.format(Locale.ROOT, "| a roll every 32 MiB | %.0f | no roll | %.0f | %s | %.0f | %.0f |",
                rollingRate, flatRate, Report.ratio(rollingRate, flatRate), medianOf(rolling, 1), medianOf(flat, 1)));
        report.section("Rolls under concurrent appends: 2 threads, one partition, batches of 16 x 1 KiB, forced on "
                        + "flush only", "| LogStore | MiB/s | Baseline | MiB/s | Ratio | Longest stall, ms | Longest "
                        + "stall of the baseline, ms |", rows,
                (total >> 20) + " MiB per run, median of " + rounds + " runs. A stall is the longest time in which no "
                        + "append returned in either thread. An appender forces a nearly full segment (its last "
                        + "eighth, at most 4 MiB, still to write) outside the append lock, so the roll's own force "
                        + "under the lock has only the last appends to write, and the other thread goes on appending.");
    }

    private static double medianOf(List<double[]> runs, int index) {
        double[] values = runs.stream().mapToDouble(r -> r[index]).sorted().toArray();
        return values[values.length / 2];
    }

    /** MiB/s and the longest gap between two returning appends (ms) of two threads writing {@code total} bytes. */
    private double[] rollRun(Workload workload, long total, long segmentBytes) throws Exception {
        Path where = Files.createDirectories(dir.resolve("rolls-" + System.nanoTime()));
        ExecutorService pool = Executors.newFixedThreadPool(2);
        long batchBytes = (long) workload.batchSize * workload.valueSize;
        long batchesEach = total / batchBytes / 2;
        java.util.concurrent.atomic.AtomicLong lastReturn = new java.util.concurrent.atomic.AtomicLong();
        java.util.concurrent.atomic.AtomicLong longestGap = new java.util.concurrent.atomic.AtomicLong();
        try (LogStore store = LogStore.builder(where).partitions(1).segmentBytes(segmentBytes)
                .durability(Durability.onFlush()).open()) {
            long start = System.nanoTime();
            lastReturn.set(start);
            List<Future<?>> futures = new ArrayList<>();
            for (int t = 0; t < 2; t++) {
                futures.add(pool.submit(() -> {
                    int n = workload.batches.size();
                    for (long b = 0; b < batchesEach; b++) {
                        store.append(0, workload.batches.get((int) (b % n)));
                        long now = System.nanoTime();
                        long previous = lastReturn.getAndAccumulate(now, Math::max);
                        if (now > previous) {
                            longestGap.accumulateAndGet(now - previous, Math::max);
                        }
                    }
                    return null;
                }));
            }
            for (Future<?> future : futures) {
                future.get();
            }
            store.flush();
            double seconds = (System.nanoTime() - start) / 1e9;
            return new double[] {2.0 * batchesEach * batchBytes / 1048576.0 / seconds, longestGap.get() / 1e6};
        } finally {
            pool.shutdownNow();
            Dirs.deleteTree(where);
        }
    }

    // ------------------------------------------------------------------ reads

    private Path fill(String name, long bytes, long segmentBytes) {
        Path storeDir = dir.resolve(name);
        Workload workload = new Workload(1024, 64);
        try (LogStore store = LogStore.builder(storeDir).partitions(1).segmentBytes(segmentBytes)
                .durability(Durability.onFlush()).open()) {
            long written = 0;
            for (int i = 0; written < bytes; i++) {
                store.append(0, workload.batches.get(i % workload.batches.size()));
                written += workload.payloadBytesPerBatch();
            }
        }
        return storeDir;
    }

    private static List<Path> segmentFiles(Path storeDir) throws IOException {
        try (Stream<Path> files = Files.list(storeDir.resolve("partition-0"))) {
            return files.filter(f -> f.toString().endsWith(".log")).sorted().toList();
        }
    }

    private static long totalSize(List<Path> files) throws IOException {
        long bytes = 0;
        for (Path file : files) {
            bytes += Files.size(file);
        }
        return bytes;
    }

    private void reads() throws Exception {
        Path storeDir = fill("reads", totalBytes, 256L << 20);
        List<Path> files = segmentFiles(storeDir);
        long size = totalSize(files);
        double raw = readRate(size, () -> rawRead(files));
        double inPlace = readRate(size, () -> inPlaceRead(storeDir));
        double decode = readRate(size, () -> decodeRead(storeDir));
        double rawTransfer = readRate(size, () -> rawTransfer(files));
        double transfer = readRate(size, () -> logStoreTransfer(storeDir));
        String rawReadName = "raw FileChannel.read into a 1 MiB buffer";
        List<String> rows = List.of(
                rateRow("LogReader.poll(handler): every record checked and handed in place", inPlace, rawReadName, raw),
                rateRow("LogReader.poll(max, bytes): every record checked and copied into a LogRecord", decode,
                        rawReadName, raw),
                rateRow("LogStore.transfer (zero copy) to /dev/null", transfer, "raw FileChannel.transferTo to /dev/null",
                        rawTransfer));
        report.section("Sequential reads of " + (size >> 20) + " MiB (1 KiB values)", "| LogStore | MiB/s | "
                + "Baseline | Baseline MiB/s | Ratio |", rows, "Both read the same segment files, warm in the page "
                + "cache: the comparison is of CPU cost per byte. Both LogStore reads check every batch's CRC-32C and "
                + "every record's fields; the in-place read hands each record as a view into the read buffer, the "
                + "copying read allocates a record object with fresh key and value arrays per record.");
        gappedTransfers();
    }

    /**
     * Transfers of a partition with offset gaps (as a compacted or transactional topic leaves)
     * against the same batches without gaps: each transfer ends after its last whole batch, which
     * with gaps is an offset in a gap. A transfer from that offset checks the batch before it; the
     * continuation of the transfer that sent that batch whole does not.
     */
    private void gappedTransfers() throws Exception {
        long total = Math.min(totalBytes, 256L << 20);
        Path gapped = batchesOf256KiB("gapped", total, 4);
        Path contiguous = batchesOf256KiB("contiguous", total, 1);
        long size = totalSize(segmentFiles(gapped));
        String noGaps = "the same batches without gaps";
        List<String> rows = List.of(
                rateRow("transfer(partition, previous, 64 KiB), 3 offsets between batches",
                        readRate(size, () -> transfers(gapped, true)), noGaps,
                        readRate(size, () -> transfers(contiguous, true))),
                rateRow("transfer(partition, nextOffset, 64 KiB), 3 offsets between batches",
                        readRate(size, () -> transfers(gapped, false)), noGaps,
                        readRate(size, () -> transfers(contiguous, false))));
        report.section("Transfers of " + (size >> 20) + " MiB with offset gaps (256 KiB batches)", "| LogStore | "
                + "MiB/s | Baseline | Baseline MiB/s | Ratio |", rows, "One batch a transfer, warm in the page cache, "
                + "to /dev/null. A transfer that starts at an offset in a gap reads the batch before it again to "
                + "check it (a damaged header might hide records there). The continuation of a transfer skips that "
                + "read for the batch the previous transfer sent whole, which its receiver checks; a transfer from "
                + "an offset cannot know what was sent, and checks.");
    }

    /** A store of one-record batches of 256 KiB, {@code step} offsets apart. */
    private Path batchesOf256KiB(String name, long total, int step) {
        Path storeDir = dir.resolve(name);
        int batchBytes = 256 << 10;
        try (LogStore store = LogStore.builder(storeDir).partitions(1).segmentBytes(64L << 20)
                .durability(Durability.onFlush()).open()) {
            byte[] value = new byte[batchBytes];
            new Random(3).nextBytes(value);
            long offset = 0;
            for (long written = 0; written < total; written += batchBytes, offset += step) {
                store.append(0, new long[] {offset}, List.of(new Record(null, value, List.of(), offset)));
            }
        }
        return storeDir;
    }

    /** Streams the partition to /dev/null: each call continuing the one before, or from its nextOffset. */
    private static long transfers(Path storeDir, boolean continuing) throws IOException {
        try (LogStore store = LogStore.builder(storeDir).readOnly().open();
             FileChannel devNull = FileChannel.open(Path.of("/dev/null"), StandardOpenOption.WRITE)) {
            store.startOffset(0);
            long start = System.nanoTime();
            dev.logstore.Transfer sent = store.transfer(0, 0, 64 << 10, devNull);
            while (sent.bytes() > 0) {
                sent = continuing ? store.transfer(0, sent, 64 << 10, devNull)
                        : store.transfer(0, sent.nextOffset(), 64 << 10, devNull);
            }
            return System.nanoTime() - start;
        }
    }

    private static long rawRead(List<Path> files) throws IOException {
        ByteBuffer buffer = ByteBuffer.allocateDirect(1 << 20);
        long start = System.nanoTime();
        long sum = 0;
        for (Path file : files) {
            try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
                while (channel.read(buffer.clear()) > 0) {
                    sum += buffer.get(0);
                }
            }
        }
        long elapsed = System.nanoTime() - start;
        return sum == Long.MIN_VALUE ? 1 : elapsed;
    }

    private static long inPlaceRead(Path storeDir) {
        try (LogStore store = LogStore.builder(storeDir).readOnly().open(); LogReader reader = store.reader(0)) {
            long[] sum = {0};
            RecordHandler handler = record -> sum[0] += record.offset() + record.valueLength();
            long start = System.nanoTime();
            while (reader.poll(handler, Integer.MAX_VALUE, 1 << 20) > 0) {
                sum[0]++;
            }
            long elapsed = System.nanoTime() - start;
            return sum[0] == Long.MIN_VALUE ? 1 : elapsed;
        }
    }

    private static long decodeRead(Path storeDir) {
        try (LogStore store = LogStore.builder(storeDir).readOnly().open(); LogReader reader = store.reader(0)) {
            long start = System.nanoTime();
            long sum = 0;
            List<LogRecord> batch;
            while (!(batch = reader.poll(10_000, 1 << 20)).isEmpty()) {
                sum += batch.get(batch.size() - 1).value().length;
            }
            long elapsed = System.nanoTime() - start;
            return sum == Long.MIN_VALUE ? 1 : elapsed;
        }
    }

    private static long rawTransfer(List<Path> files) throws IOException {
        try (FileChannel devNull = FileChannel.open(Path.of("/dev/null"), StandardOpenOption.WRITE)) {
            long start = System.nanoTime();
            for (Path file : files) {
                try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
                    long position = 0;
                    long size = channel.size();
                    while (position < size) {
                        position += channel.transferTo(position, Math.min(1 << 20, size - position), devNull);
                    }
                }
            }
            return System.nanoTime() - start;
        }
    }

    private static long logStoreTransfer(Path storeDir) throws IOException {
        try (LogStore store = LogStore.builder(storeDir).readOnly().open();
             FileChannel devNull = FileChannel.open(Path.of("/dev/null"), StandardOpenOption.WRITE)) {
            long offset = store.startOffset(0); // opens the partition, outside the timed part as for decoding
            long start = System.nanoTime();
            while (true) {
                dev.logstore.Transfer sent = store.transfer(0, offset, 1 << 20, devNull);
                if (sent.bytes() == 0) {
                    break;
                }
                offset = sent.nextOffset();
            }
            return System.nanoTime() - start;
        }
    }

    // ------------------------------------------------------------------ seeks

    private void seeks() throws Exception {
        Path storeDir = fill("seeks", Math.min(totalBytes, 256L << 20), 4L << 20);
        List<Path> files = segmentFiles(storeDir);
        List<String> rows = new ArrayList<>();
        try (LogStore store = LogStore.builder(storeDir).readOnly().open(); LogReader reader = store.reader(0)) {
            long next = store.nextOffset(0);
            long firstTs = reader.poll(1, 1).get(0).timestamp();
            long lastTs = reader.seek(next - 1).poll(1, 1).get(0).timestamp();
            Random random = new Random(5);
            int samples = 20_000;
            long[] byOffset = new long[samples];
            long[] byTime = new long[samples];
            for (int warm = 0; warm < 2; warm++) {
                for (int i = 0; i < samples; i++) {
                    long offset = (long) (random.nextDouble() * next);
                    long t0 = System.nanoTime();
                    reader.seek(offset).poll(1, 1);
                    byOffset[i] = System.nanoTime() - t0;
                    long ts = firstTs + (long) (random.nextDouble() * (lastTs - firstTs));
                    t0 = System.nanoTime();
                    reader.seekToTimestamp(ts).poll(1, 1);
                    byTime[i] = System.nanoTime() - t0;
                }
            }
            long[] pread = new long[samples];
            ByteBuffer page = ByteBuffer.allocateDirect(4096);
            List<FileChannel> channels = new ArrayList<>();
            for (Path file : files) {
                channels.add(FileChannel.open(file, StandardOpenOption.READ));
            }
            for (int i = 0; i < samples; i++) {
                FileChannel channel = channels.get(random.nextInt(channels.size()));
                long position = (long) (random.nextDouble() * Math.max(1, channel.size() - 4096));
                long t0 = System.nanoTime();
                channel.read(page.clear(), position);
                pread[i] = System.nanoTime() - t0;
            }
            for (FileChannel channel : channels) {
                channel.close();
            }
            rows.add(row("seek(offset) + poll(1)", byOffset, pread));
            rows.add(row("seekToTimestamp(ts) + poll(1)", byTime, pread));
            report.section("Seek latency in a partition of " + files.size() + " segments (" + next + " records)",
                    "| Operation | p50 µs | p99 µs | Baseline: one random 4 KiB pread, p50 µs | p50 vs baseline |", rows,
                    "A seek is an index lookup per segment map level plus a scan of at most one index interval "
                            + "(4 KiB); seekToTimestamp also checks the time index of each segment before the hit.");
        }
    }

    private static String row(String name, long[] samples, long[] baseline) {
        long[] sorted = samples.clone();
        Arrays.sort(sorted);
        long[] base = baseline.clone();
        Arrays.sort(base);
        double p50 = sorted[sorted.length / 2] / 1000.0;
        double p99 = sorted[(int) (sorted.length * 0.99)] / 1000.0;
        double b50 = base[base.length / 2] / 1000.0;
        return String.format(Locale.ROOT, "| %s | %.1f | %.1f | %.1f | %.1fx the baseline's time |", name, p50, p99, b50,
                p50 / b50);
    }

    // ------------------------------------------------------------------ recovery

    private void recovery() throws Exception {
        // A writer that dies without closing leaves its active segment to be scanned: fill the
        // store in a child JVM that halts at the end, then time opens of copies of what it left.
        Path crashed = dir.resolve("recovery-crashed");
        Process child = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-cp",
                System.getProperty("java.class.path"), CrashingFiller.class.getName(), crashed.toString(),
                Long.toString(recoveryBytes)).inheritIO().start();
        if (child.waitFor() != 0) {
            throw new IllegalStateException("the filler process failed with exit code " + child.exitValue());
        }
        List<Path> files = segmentFiles(crashed);
        long size = Files.size(files.get(files.size() - 1));
        double raw = median(() -> size / (rawRead(files) / 1e9));
        int[] copies = {0};
        double recover = median(() -> {
            Path copy = linkedCopy(crashed, dir.resolve("recovery-" + copies[0]++));
            long start = System.nanoTime();
            LogStore.builder(copy).partitions(1).segmentBytes(Integer.MAX_VALUE).open().close();
            return size / ((System.nanoTime() - start) / 1e9);
        });
        Path closed = dir.resolve("recovery-0");
        double clean = median(() -> {
            long start = System.nanoTime();
            LogStore.builder(closed).partitions(1).segmentBytes(Integer.MAX_VALUE).open().close();
            return size / ((System.nanoTime() - start) / 1e9);
        });
        report.section("Recovery of a " + (size >> 20) + " MiB active segment", "| Open | Time ms | Scan MiB/s | "
                + "Baseline: raw read of the file, MiB/s | Ratio |", List.of(
                String.format(Locale.ROOT, "| after the writer died (full scan, CRC check, index rebuild) | %.0f | "
                        + "%s | %s | %s |", size / recover * 1000, Report.mb(recover), Report.mb(raw),
                        Report.ratio(recover, raw)),
                String.format(Locale.ROOT, "| after a clean close (the manifest says where it ends: no scan) | %.0f | "
                        + "- | - | - |", size / clean * 1000)), "The file is warm in the page cache, so this is the "
                + "CPU cost of recovery; from a cold disk both sides are bound by the disk. Each open is timed with "
                + "its close: sealing the recovered segment and starting the next.");
    }

    /** A copy of a store whose segment files are hard links (recovery never rewrites a byte of them). */
    private static Path linkedCopy(Path from, Path to) throws IOException {
        try (Stream<Path> files = Files.walk(from)) {
            for (Path file : (Iterable<Path>) files::iterator) {
                Path target = to.resolve(from.relativize(file).toString());
                if (Files.isDirectory(file)) {
                    Files.createDirectories(target);
                } else if (file.toString().endsWith(".log")) {
                    Files.createLink(target, file);
                } else {
                    Files.copy(file, target);
                }
            }
        }
        return to;
    }

    /** Child process: fills a store with about N bytes and halts without closing it, as a crash would. */
    public static final class CrashingFiller {
        public static void main(String[] args) {
            Path storeDir = Path.of(args[0]);
            long bytes = Long.parseLong(args[1]);
            Workload workload = new Workload(1024, 64);
            LogStore store = LogStore.builder(storeDir).partitions(1).segmentBytes(Integer.MAX_VALUE)
                    .durability(Durability.onFlush()).open();
            long written = 0;
            for (int i = 0; written < bytes; i++) {
                store.append(0, workload.batches.get(i % workload.batches.size()));
                written += workload.payloadBytesPerBatch();
            }
            store.flush();
            Runtime.getRuntime().halt(0);
        }
    }

    // ------------------------------------------------------------------ helpers

    /** Bytes per second of a pass over {@code bytes} that {@code nanos} times: the median after {@link #READ_WARM_UPS}. */
    private double readRate(long bytes, Callable<Long> nanos) throws Exception {
        return median(() -> bytes / (nanos.call() / 1e9), READ_WARM_UPS);
    }

    /** A table row of a throughput against its baseline's: name, MiB/s, baseline, MiB/s, ratio. */
    private static String rateRow(String what, double bytesPerSecond, String baseline, double baselinePerSecond) {
        return "| " + what + " | " + Report.mb(bytesPerSecond) + " | " + baseline + " | "
                + Report.mb(baselinePerSecond) + " | " + Report.ratio(bytesPerSecond, baselinePerSecond) + " |";
    }

    /** Runs {@code measure} rounds + 1 times, drops the first (warm-up) and returns the median. */
    private double median(Callable<Double> measure) throws Exception {
        return median(measure, 1);
    }

    /**
     * Runs {@code measure} {@code warmUps} times, then rounds times, and returns the median of the
     * latter. A pass over the data that takes tens of milliseconds needs several runs before the
     * JIT has compiled the read path; until then a comparison with a system call loop measures
     * the interpreter.
     */
    private double median(Callable<Double> measure, int warmUps) throws Exception {
        for (int i = 0; i < warmUps; i++) {
            measure.call();
        }
        double[] values = new double[rounds];
        for (int i = 0; i < rounds; i++) {
            values[i] = measure.call();
        }
        Arrays.sort(values);
        return values[rounds / 2];
    }
}
