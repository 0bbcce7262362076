package dev.logstore.bench;

import dev.logstore.Durability;
import dev.logstore.LogReader;
import dev.logstore.LogStore;
import dev.logstore.record.Record;
import java.io.IOException;
import java.lang.management.BufferPoolMXBean;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;

/**
 * A whole cluster's topics in one archive: opening, appending to, closing and reopening a store of
 * many partitions, with the descriptors, heap and direct memory it takes. Each figure is a bound or
 * a time, beside what the process held before the store was opened.
 */
final class ScaleBench {

    private final Path dir;
    private final int partitions;
    private final long indexLogBytes;
    private final Report report;

    ScaleBench(Path dir, int partitions, long indexLogBytes, Report report) {
        this.dir = dir;
        this.partitions = partitions;
        this.indexLogBytes = indexLogBytes;
        this.report = report;
    }

    /** What the process holds now: open descriptors, heap in use after a GC, direct memory. */
    private record Footprint(long descriptors, long heapBytes, long directBytes) {
        static Footprint now() {
            System.gc();
            long heap = Runtime.getRuntime().totalMemory() - Runtime.getRuntime().freeMemory();
            // Direct buffers of closed readers are freed by their cleaners after the GC, on another
            // thread: wait until the figure stops falling (at most 1 s).
            long direct = directUsed();
            for (int i = 0; i < 50; i++) {
                try {
                    Thread.sleep(20);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    break;
                }
                long now = directUsed();
                if (now == direct) {
                    break;
                }
                direct = now;
            }
            long descriptors;
            try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
                descriptors = fds.count();
            } catch (IOException e) {
                descriptors = -1;
            }
            return new Footprint(descriptors, heap, direct);
        }

        private static long directUsed() {
            for (BufferPoolMXBean pool : ManagementFactory.getPlatformMXBeans(BufferPoolMXBean.class)) {
                if (pool.getName().equals("direct")) {
                    return pool.getMemoryUsed();
                }
            }
            return 0;
        }

        String minus(Footprint before) {
            return String.format(Locale.ROOT, "%d | %.1f | %.1f", descriptors - before.descriptors,
                    (heapBytes - before.heapBytes) / 1048576.0, (directBytes - before.directBytes) / 1048576.0);
        }
    }

    private static double seconds(long startNanos) {
        return (System.nanoTime() - startNanos) / 1e9;
    }

    private LogStore.Builder builder(Path store) {
        return LogStore.builder(store).partitions(partitions).durability(Durability.onFlush());
    }

    void run() throws Exception {
        Path store = dir.resolve("scale");
        List<Record> one = List.of(Record.of(null, new byte[100], System.currentTimeMillis()));
        List<String> rows = new ArrayList<>();
        Footprint base = Footprint.now();

        long start = System.nanoTime();
        LogStore created = builder(store).open();
        rows.add(row("create and open for writing", seconds(start), Footprint.now().minus(base)));
        start = System.nanoTime();
        for (int p = 0; p < partitions; p++) {
            created.append(p, one);
        }
        double appendAll = seconds(start);
        rows.add(row("append one record to every partition", appendAll, Footprint.now().minus(base)));
        start = System.nanoTime();
        created.close();
        created = null; // a closed store still referenced would count in the heap measured next
        rows.add(row("close (every partition forced, one clean-close record)", seconds(start),
                Footprint.now().minus(base)));

        start = System.nanoTime();
        LogStore reopened = builder(store).open();
        rows.add(row("reopen for writing after a clean close", seconds(start), Footprint.now().minus(base)));
        start = System.nanoTime();
        for (int p = 0; p < partitions; p++) {
            reopened.append(p, one);
        }
        rows.add(row("append one record to every partition (each first append claims a writer epoch)",
                seconds(start), Footprint.now().minus(base)));
        start = System.nanoTime();
        reopened.flush();
        rows.add(row("flush every partition (one record each)", seconds(start), Footprint.now().minus(base)));
        start = System.nanoTime();
        reopened.close();
        reopened = null;
        rows.add(row("close again", seconds(start), Footprint.now().minus(base)));

        start = System.nanoTime();
        try (LogStore follower = LogStore.builder(store).readOnly().open()) {
            long records = 0;
            for (int p = 0; p < partitions; p++) {
                try (LogReader reader = follower.reader(p)) {
                    records += reader.poll(10, 4096).size();
                }
            }
            if (records != 2L * partitions) {
                throw new IllegalStateException("read " + records + " records, expected " + 2L * partitions);
            }
            rows.add(row("open read-only and read every partition", seconds(start), Footprint.now().minus(base)));
        }
        Dirs.deleteTree(store);
        report.section("Scale: one store of " + partitions + " partitions", "| Operation | Seconds | Descriptors held "
                + "(+) | Heap MiB (+) | Direct MiB (+) |", rows, "Descriptors, heap (after a GC) and direct memory are "
                + "what the process held after the operation, beyond what it held before the store was opened.");
    }

    /**
     * Many segments in many partitions: every partition gets {@code segmentsEach} segments (one
     * batch each, written from 16 threads), then the store is closed, reopened for writing and
     * read-only, and the oldest record of every partition is read, which opens every partition's
     * first segment through the pool of open files.
     */
    void manySegments(int segmentsEach) throws Exception {
        Path store = dir.resolve("segments");
        // Larger than the index interval (4 KiB): every sealed segment has its two index files, as large ones do.
        int recordBytes = 8192;
        LogStore.Builder builder = LogStore.builder(store).partitions(partitions).segmentBytes(recordBytes + 200)
                .durability(Durability.onFlush());
        List<String> rows = new ArrayList<>();
        Footprint base = Footprint.now();
        long start = System.nanoTime();
        // In a method of its own, so that no local variable keeps the closed writer reachable.
        long segments = writeSegments(store, builder, segmentsEach, recordBytes);
        rows.add(row("write " + segmentsEach + " segments to every partition, close", seconds(start),
                Footprint.now().minus(base)));
        start = System.nanoTime();
        LogStore reopened = builder.open();
        rows.add(row("reopen for writing after a clean close", seconds(start), Footprint.now().minus(base)));
        start = System.nanoTime();
        List<Record> small = List.of(Record.of(null, new byte[100], System.currentTimeMillis()));
        for (int p = 0; p < partitions; p++) {
            reopened.append(p, small);
        }
        rows.add(row("append one record to every partition", seconds(start), Footprint.now().minus(base)));
        start = System.nanoTime();
        reopened.close();
        reopened = null;
        rows.add(row("close", seconds(start), Footprint.now().minus(base)));
        start = System.nanoTime();
        builder.open().close();
        rows.add(row("reopen for writing and close again", seconds(start), Footprint.now().minus(base)));
        // The same, with every partition directory changed since the close (a file made and
        // removed in each): the clean-close record's directory stamps no longer match, and the
        // open lists every directory, as it did before stamps.
        for (int p = 0; p < partitions; p++) {
            Path touched = store.resolve(LogStore.partitionDirectoryName(p)).resolve("touched.tmp");
            Files.write(touched, new byte[0]);
            Files.delete(touched);
        }
        Thread.sleep(100);
        start = System.nanoTime();
        builder.open().close();
        rows.add(row("the same, every directory changed since the close (each one listed)", seconds(start),
                Footprint.now().minus(base)));
        start = System.nanoTime();
        try (LogStore follower = LogStore.builder(store).readOnly().open()) {
            for (int p = 0; p < partitions; p++) {
                try (LogReader reader = follower.reader(p)) {
                    List<dev.logstore.record.LogRecord> first = reader.poll(1, 4096);
                    if (first.isEmpty() || first.get(0).offset() != 0) {
                        throw new IllegalStateException("partition " + p + " starts with " + first);
                    }
                }
            }
            rows.add(row("open read-only, read every partition's oldest record", seconds(start),
                    Footprint.now().minus(base)));
        }
        report.section("Scale: " + partitions + " partitions of " + segmentsEach + " segments (" + segments
                + " segments)", "| Operation | Seconds | Descriptors held (+) | Heap MiB (+) | Direct MiB (+) |",
                rows, "Segments of one 8 KiB record each, so each sealed segment has its two index files (a segment of "
                        + "at most 4 KiB has none). Descriptors, heap (after a GC) and direct memory are what "
                        + "the process held after the operation, beyond what it held before the store was opened.");
        Dirs.deleteTree(store);
    }

    /** Writes {@code segmentsEach} one-record segments to every partition from 16 threads, closes; returns the segments. */
    private long writeSegments(Path store, LogStore.Builder builder, int segmentsEach, int recordBytes)
            throws Exception {
        try (LogStore writer = builder.open()) {
            java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(16);
            try {
                List<java.util.concurrent.Future<?>> done = new ArrayList<>();
                for (int t = 0; t < 16; t++) {
                    int first = t;
                    done.add(pool.submit(() -> {
                        byte[] value = new byte[recordBytes];
                        for (int p = first; p < partitions; p += 16) {
                            for (int s = 0; s < segmentsEach; s++) {
                                writer.append(p, List.of(Record.of(null, value, 1_700_000_000_000L + s)));
                            }
                        }
                        return null;
                    }));
                }
                for (java.util.concurrent.Future<?> future : done) {
                    future.get();
                }
            } finally {
                pool.shutdown();
            }
        }
        long segments = 0;
        try (LogStore reader = LogStore.builder(store).readOnly().open()) {
            for (int p = 0; p < partitions; p++) {
                segments += reader.partitionInfo(p).segments();
            }
        }
        return segments;
    }

    /**
     * Index memory of lookups spread over a whole log: two passes of seeks into every segment, once
     * with no cap on index memory and once under one. The cap here is small so that a log that fits
     * this machine's disk passes it many times over; the default cap (32 MiB) bounds a 1 TiB
     * archive the same way.
     */
    void indexMemory() throws Exception {
        Path store = dir.resolve("index-memory");
        long segmentBytes = 16L << 20;
        long cap = 1L << 20;
        byte[] value = new byte[100];
        long t0 = 1_700_000_000_000L;
        long written = 0;
        long records = 0;
        try (LogStore writer = LogStore.builder(store).partitions(1).segmentBytes(segmentBytes)
                .durability(Durability.onFlush()).open()) {
            List<Record> batch = new ArrayList<>(40);
            for (int appends = 0; written < indexLogBytes; appends++) {
                batch.clear();
                for (int i = 0; i < 40; i++) {
                    batch.add(Record.of(null, value, t0 + records + i)); // timestamp: t0 + offset
                }
                writer.append(0, batch);
                records += batch.size();
                if (appends % 1024 == 0) {
                    written = writer.partitionInfo(0).sizeInBytes();
                }
            }
        }
        List<String> rows = new ArrayList<>();
        for (long max : new long[] {Long.MAX_VALUE, cap}) {
            Footprint before = Footprint.now();
            try (LogStore reader = LogStore.builder(store).readOnly().maxIndexMemory(max).open()) {
                long perSegment = Math.max(1, records * segmentBytes / written);
                double[] micros = new double[2];
                long lookups = 0;
                for (int pass = 0; pass < 2; pass++) {
                    long start = System.nanoTime();
                    lookups = checkedSeeks(reader, perSegment / 2 + pass, perSegment, records);
                    micros[pass] = (System.nanoTime() - start) / 1e3 / lookups;
                }
                Footprint after = Footprint.now();
                rows.add(String.format(Locale.ROOT, "| %s | %.2f | %d | %.1f | %.1f | %.1f |",
                        max == Long.MAX_VALUE ? "none" : (cap >> 20) + " MiB", written / 1073741824.0, lookups,
                        micros[0], micros[1], (after.heapBytes() - before.heapBytes()) / 1048576.0));
            }
        }
        Dirs.deleteTree(store);
        report.section("Index memory: lookups in every segment of a log", "| Cap on index memory | Log GiB | "
                + "Segments looked up | µs per seek, first pass | µs per seek, second pass | Heap MiB held (+) |", rows,
                "Two passes of seeks by offset, one into the middle of every sealed segment, each checked. Heap is "
                + "measured after a GC with the store still open. Without a cap the indexes of every segment looked "
                + "up stay loaded, about 5 MiB per GiB of log at the default 4 KiB index interval; under a cap they "
                + "stay within it, and a segment whose indexes were dropped is looked up in one page of its index "
                + "file (the second pass). Sequential reads use no index.");
    }

    /**
     * Heap of a large active segment's indexes: one partition whose single segment never rolls
     * takes as many bytes as the index-memory section's log, then seeks into it are timed in the
     * writer and in a read-only view, each checked. The same log in 16 MiB segments, sealed, is
     * the baseline for the seeks.
     */
    void activeIndexMemory() throws Exception {
        Path store = dir.resolve("active-index");
        byte[] value = new byte[100];
        long records = 0;
        Footprint before = Footprint.now();
        List<String> rows = new ArrayList<>();
        try (LogStore writer = LogStore.builder(store).partitions(1).segmentBytes(Integer.MAX_VALUE)
                .durability(Durability.onFlush()).open()) {
            List<Record> batch = new ArrayList<>(40);
            long target = Math.min(indexLogBytes, Integer.MAX_VALUE - (64L << 20));
            Footprint held = null;
            for (long part : new long[] {target / 8, target}) {
                long written = 0;
                for (int appends = 0; written < part; appends++) {
                    batch.clear();
                    for (int i = 0; i < 40; i++) {
                        batch.add(Record.of(null, value, 1_700_000_000_000L + records + i));
                    }
                    writer.append(0, batch);
                    records += batch.size();
                    if (appends % 1024 == 0) {
                        written = writer.partitionInfo(0).sizeInBytes();
                    }
                }
                written = writer.partitionInfo(0).sizeInBytes();
                held = Footprint.now();
                rows.add(activeRow("writer", written, seekMicros(writer, records),
                        held.heapBytes() - before.heapBytes()));
            }
            long written = writer.partitionInfo(0).sizeInBytes();
            try (LogStore view = LogStore.builder(store).readOnly().open()) {
                double micros = seekMicros(view, records);
                Footprint both = Footprint.now();
                rows.add(activeRow("read-only view of it (besides the writer)", written, micros,
                        both.heapBytes() - held.heapBytes()));
            }
        }
        Dirs.deleteTree(store);
        report.section("Index memory: one large active segment", "| Handle | Active segment GiB | µs per seek | Heap MiB "
                + "held (+) |", rows, "One partition whose only segment never rolls, written in batches of 40 records "
                + "of 100 bytes, measured at an eighth of its size and at all of it; 1,000 seeks by offset spread over "
                + "it, each checked. Heap is measured after a GC with the handle open, against the heap before the "
                + "store was opened (the writer's first row is the fixed cost of an open store): each index keeps at most two pages (512 entries each) in memory, the writer "
                + "moving older ones to a spill file it reads one page of per lookup there, a read-only view keeping "
                + "each moved page's first entry and scanning from it.");
    }

    private static double seekMicros(LogStore store, long records) {
        long step = Math.max(1, records / 1000);
        long start = System.nanoTime();
        long lookups = checkedSeeks(store, step / 2, step, records);
        return (System.nanoTime() - start) / 1e3 / lookups;
    }

    /**
     * Seeks partition 0 to every {@code step}th offset from {@code first} below {@code records},
     * checking that each lands on its offset; returns how many.
     */
    private static long checkedSeeks(LogStore store, long first, long step, long records) {
        long lookups = 0;
        for (long offset = first; offset < records; offset += step) {
            try (LogReader r = store.reader(0).seek(offset)) {
                List<dev.logstore.record.LogRecord> got = r.poll(1, 4096);
                if (got.isEmpty() || got.get(0).offset() != offset) {
                    throw new IllegalStateException("seek to offset " + offset + " found " + got);
                }
            }
            lookups++;
        }
        return lookups;
    }

    private static String activeRow(String handle, long bytes, double micros, long heap) {
        return String.format(Locale.ROOT, "| %s | %.2f | %.1f | %.2f |", handle, bytes / 1073741824.0, micros,
                heap / 1048576.0);
    }

    private static String row(String what, double seconds, String footprint) {
        return String.format(Locale.ROOT, "| %s | %.2f | %s |", what, seconds, footprint);
    }
}
