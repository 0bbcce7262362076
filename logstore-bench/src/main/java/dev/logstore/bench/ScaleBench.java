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
            long direct = 0;
            for (BufferPoolMXBean pool : ManagementFactory.getPlatformMXBeans(BufferPoolMXBean.class)) {
                if (pool.getName().equals("direct")) {
                    direct = pool.getMemoryUsed();
                }
            }
            long descriptors;
            try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
                descriptors = fds.count();
            } catch (IOException e) {
                descriptors = -1;
            }
            return new Footprint(descriptors, heap, direct);
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

    void run() throws IOException {
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
        rows.add(row("close (every partition forced, manifest marked clean)", seconds(start),
                Footprint.now().minus(base)));

        start = System.nanoTime();
        LogStore reopened = builder(store).open();
        rows.add(row("reopen for writing after a clean close", seconds(start), Footprint.now().minus(base)));
        for (int p = 0; p < partitions; p++) {
            reopened.append(p, one);
        }
        start = System.nanoTime();
        reopened.flush();
        rows.add(row("flush every partition (one record each)", seconds(start), Footprint.now().minus(base)));
        start = System.nanoTime();
        reopened.close();
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
     * Index memory of a log read once end to end: every segment's indexes are used (a lookup and a
     * timestamp seek in each), once with the indexes held under a cap and once with no cap, as
     * before there was one. The cap here is small so that a log that fits this machine's disk
     * passes it many times over; the default cap (32 MiB) bounds a 1 TiB archive the same way.
     */
    void indexMemory() throws IOException {
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
            long start = System.nanoTime();
            long lookups = 0;
            try (LogStore reader = LogStore.builder(store).readOnly().maxIndexMemory(max).open()) {
                long perSegment = Math.max(1, records * segmentBytes / written);
                for (long offset = perSegment / 2; offset < records; offset += perSegment) {
                    try (LogReader r = reader.reader(0).seek(offset)) {
                        if (r.poll(1, 4096).isEmpty()) {
                            throw new IllegalStateException("nothing at offset " + offset);
                        }
                    }
                    try (LogReader r = reader.reader(0).seekToTimestamp(t0 + offset + 1)) {
                        List<dev.logstore.record.LogRecord> got = r.poll(1, 4096);
                        if (got.isEmpty() || got.get(0).offset() != offset + 1) {
                            throw new IllegalStateException("timestamp seek to offset " + (offset + 1) + " found " + got);
                        }
                    }
                    lookups++;
                }
                double secs = seconds(start);
                Footprint after = Footprint.now();
                rows.add(String.format(Locale.ROOT, "| %s | %.2f | %d | %.1f | %.1f |",
                        max == Long.MAX_VALUE ? "none (as before the cap)" : (cap >> 20) + " MiB", written / 1073741824.0,
                        lookups, secs * 1e6 / lookups / 2, (after.heapBytes() - before.heapBytes()) / 1048576.0));
            }
        }
        Dirs.deleteTree(store);
        report.section("Index memory: a log read once end to end", "| Cap on index memory | Log GiB | Segments "
                + "looked up | µs per lookup | Heap MiB held (+) |", rows, "Every segment's indexes are used once "
                + "(a seek to an offset in its middle, and a timestamp seek). Heap is measured after a GC with the "
                + "store still open. Without a cap the indexes of every segment read stay loaded, about 5 MiB per GiB "
                + "of log at the default 4 KiB index interval (5 GiB for 1 TiB); with one they stay under it, and "
                + "every store of a process shares the default cap of 32 MiB.");
    }

    private static String row(String what, double seconds, String footprint) {
        return String.format(Locale.ROOT, "| %s | %.2f | %s |", what, seconds, footprint);
    }
}
