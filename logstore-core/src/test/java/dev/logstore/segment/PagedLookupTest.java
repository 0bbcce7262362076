package dev.logstore.segment;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.logstore.Durability;
import dev.logstore.LogStore;
import dev.logstore.index.OffsetIndex;
import dev.logstore.io.FileOpener;
import dev.logstore.record.BatchHeader;
import dev.logstore.record.Record;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.TreeSet;
import java.util.function.Consumer;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A sealed segment whose indexes the cap keeps dropping is looked up through its directory of pages
 * while its .index file is replaced behind it: rewritten with another index interval, cut short,
 * shifted by an entry, entries pointing into batches, garbage, an empty index, the trailer read as
 * entries. Every lookup (offsets in gaps, page boundaries, the first and last page) must give the
 * position a scan of the headers gives.
 */
class PagedLookupTest {

    @TempDir
    Path dir;

    private static final int INTERVAL = 64;

    /** One sealed segment of batches of 1 to 3 records, with gaps between and inside batches. */
    private Path writeSealedSegment() {
        try (LogStore writer = LogStore.builder(dir).partitions(1).segmentBytes(160 * 1024).indexIntervalBytes(INTERVAL)
                .durability(Durability.onFlush()).open()) {
            long next = 3;
            for (int i = 0; writer.partitionInfo(0).segments() < 2; i++) {
                int n = 1 + i % 3;
                long[] offsets = new long[n];
                List<Record> records = new ArrayList<>();
                for (int k = 0; k < n; k++) {
                    offsets[k] = next + k * (i % 2 == 0 ? 1 : 2);
                    records.add(Record.of(null, ("value-" + i + "-" + k).getBytes(StandardCharsets.UTF_8),
                            1_700_000_000_000L + i));
                }
                writer.append(0, offsets, records);
                next = offsets[n - 1] + 1 + (i % 5 == 0 ? 4 : 0);
            }
        }
        return dir.resolve(LogStore.partitionDirectoryName(0));
    }

    private record Batch(long position, long base, long last) {
    }

    private static List<Batch> batches(Segment segment, long size) throws Exception {
        List<Batch> all = new ArrayList<>();
        long position = 0;
        while (position < size) {
            BatchHeader h = segment.headerAt(position, size);
            all.add(new Batch(position, h.baseOffset(), h.lastOffset()));
            position += h.sizeInBytes();
        }
        return all;
    }

    private static long expected(List<Batch> batches, long target, long end) {
        for (Batch b : batches) {
            if (b.position() >= end) {
                return end;
            }
            if (b.last() >= target) {
                return b.position();
            }
        }
        return end;
    }

    private static void rewrite(Path file, Consumer<ByteBuffer> change) throws Exception {
        ByteBuffer bytes = ByteBuffer.wrap(Files.readAllBytes(file));
        change.accept(bytes);
        Files.write(file, bytes.array());
    }

    @ParameterizedTest
    @ValueSource(strings = {"none", "interval16", "interval4096", "truncatedHalf", "dropFirstEntry", "dropLastEntry",
            "positionsPlusOne", "offsetsPlusOne", "garbage", "empty", "missing", "shuffledWithinPages", "allSameEntry"})
    void pageLookupsThroughAReplacedIndexFileAreAlwaysRight(String mutation) throws Exception {
        Path part = writeSealedSegment();
        IndexMemory memory = new IndexMemory(0); // drops every segment's indexes as soon as they are counted
        long base;
        try (java.util.stream.Stream<Path> files = Files.list(part)) {
            base = files.map(f -> Segment.parseBaseOffset(f.getFileName().toString())).filter(b -> b >= 0).sorted()
                    .findFirst().orElseThrow();
        }
        Segment segment = Segment.open(FileOpener.DEFAULT, new OpenFiles(8), memory, part, base, 0, null, -1,
                INTERVAL, false);
        long size = Files.size(segment.path());
        SegmentIndexes loaded = segment.indexes(size);
        segment.seal(new SegmentSummary(size, loaded.nextOffset(), loaded.maxTimestamp()));
        assertEquals(0, memory.bytes(), "the sealed segment's indexes were dropped");

        List<Batch> batches = batches(segment, size);
        OffsetIndex original = OffsetIndex.load(segment.indexFile(), base);
        assertTrue(original.size() > 3 * OffsetIndex.PAGE_ENTRIES, "several pages: " + original.size());

        Path index = segment.indexFile();
        Random random = new Random(mutation.hashCode());
        switch (mutation) {
            case "none" -> { }
            case "interval16", "interval4096" -> {
                Segment scanner = Segment.open(FileOpener.DEFAULT, new OpenFiles(8), new IndexMemory(1 << 30), part, base,
                        0, null, -1, INTERVAL, false);
                SegmentIndexes other = SegmentIndexes.empty(base, mutation.equals("interval16") ? 16 : 4096);
                scanner.scan(0, size, base, other);
                other.writeTo(FileOpener.DEFAULT, index, segment.timeIndexFile(), size);
            }
            case "truncatedHalf" -> {
                byte[] b = Files.readAllBytes(index);
                Files.write(index, java.util.Arrays.copyOf(b, b.length / 2));
            }
            case "dropFirstEntry" -> {
                byte[] b = Files.readAllBytes(index);
                Files.write(index, java.util.Arrays.copyOfRange(b, 8, b.length));
            }
            case "dropLastEntry" -> {
                byte[] b = Files.readAllBytes(index);
                byte[] c = new byte[b.length - 8];
                System.arraycopy(b, 0, c, 0, b.length - 20);
                System.arraycopy(b, b.length - 12, c, b.length - 20, 12);
                Files.write(index, c);
            }
            case "positionsPlusOne" -> rewrite(index, bytes -> {
                for (int i = 0; i < original.size(); i++) {
                    if (i % OffsetIndex.PAGE_ENTRIES != 0) {
                        bytes.putLong(i * 8, bytes.getLong(i * 8) + 1);
                    }
                }
            });
            case "offsetsPlusOne" -> rewrite(index, bytes -> {
                for (int i = 0; i < original.size(); i++) {
                    if (i % OffsetIndex.PAGE_ENTRIES != 0) {
                        bytes.putLong(i * 8, bytes.getLong(i * 8) + (1L << 32));
                    }
                }
            });
            case "garbage" -> rewrite(index, bytes -> {
                for (int i = 0; i < original.size(); i++) {
                    if (i % OffsetIndex.PAGE_ENTRIES != 0) {
                        bytes.putLong(i * 8, random.nextLong());
                    }
                }
            });
            case "shuffledWithinPages" -> rewrite(index, bytes -> {
                for (int i = 0; i < original.size(); i++) {
                    int j = i - i % OffsetIndex.PAGE_ENTRIES + random.nextInt(
                            Math.min(OffsetIndex.PAGE_ENTRIES, original.size() - (i - i % OffsetIndex.PAGE_ENTRIES)));
                    if (i % OffsetIndex.PAGE_ENTRIES != 0 && j % OffsetIndex.PAGE_ENTRIES != 0) {
                        long a = bytes.getLong(i * 8);
                        bytes.putLong(i * 8, bytes.getLong(j * 8));
                        bytes.putLong(j * 8, a);
                    }
                }
            });
            case "allSameEntry" -> rewrite(index, bytes -> {
                // Every entry but the pages' first ones names the first batch after page 0's first.
                long e = bytes.getLong(8);
                for (int i = 0; i < original.size(); i++) {
                    if (i % OffsetIndex.PAGE_ENTRIES != 0) {
                        bytes.putLong(i * 8, e);
                    }
                }
            });
            case "empty" -> SegmentIndexes.empty(base, INTERVAL).writeTo(FileOpener.DEFAULT, index,
                    segment.timeIndexFile(), size);
            case "missing" -> Files.delete(index);
            default -> throw new IllegalArgumentException(mutation);
        }

        TreeSet<Long> targets = new TreeSet<>();
        long lastOffset = batches.get(batches.size() - 1).last();
        for (long t = -1; t <= lastOffset + 3; t += 17) {
            targets.add(t);
        }
        for (int i = 0; i < original.size(); i += OffsetIndex.PAGE_ENTRIES) {
            long pageFirst = base + pageFirstOffset(original, i);
            for (long d = -2; d <= 2; d++) {
                targets.add(pageFirst + d);
            }
        }
        for (int i = 0; i < 60; i++) { // offsets in gaps between batches
            Batch a = batches.get(random.nextInt(batches.size() - 1));
            targets.add(a.last() + 1);
        }
        targets.add(0L);
        targets.add(lastOffset);
        targets.add(batches.get(batches.size() - 1).base());
        long staleEnd = batches.get(batches.size() / 3).position();
        long fullEndLoads = 0;
        List<Long> loadedFor = new ArrayList<>();
        for (long target : targets) {
            long before = memory.drops();
            assertEquals(expected(batches, target, size), segment.positionOf(target, size),
                    mutation + ": positionOf(" + target + ")");
            if (memory.drops() > before) {
                fullEndLoads++;
                if (loadedFor.size() < 20) {
                    loadedFor.add(target);
                }
            }
            if (target % 3 == 0) {
                assertEquals(expected(batches, target, staleEnd), segment.positionOf(target, staleEnd),
                        mutation + ": positionOf(" + target + ") with an older end " + staleEnd);
            }
        }
        if (mutation.equals("none")) {
            assertEquals(0, fullEndLoads, "lookups with the sealed end that loaded the whole index: " + loadedFor
                    + " of " + targets.size() + "; last offset " + lastOffset);
        } else {
            System.out.println(mutation + ": " + fullEndLoads + " loads for " + targets.size() + " lookups");
        }
    }

    private static long pageFirstOffset(OffsetIndex index, int entry) {
        // The offset of entry number `entry`, a page's first: the page boundaries the directory keeps.
        return index.directory().firsts()[entry / OffsetIndex.PAGE_ENTRIES] >>> 32;
    }
}
