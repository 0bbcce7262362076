package dev.logstore.verify;

import dev.logstore.LogStore;
import dev.logstore.LogStoreException;
import dev.logstore.index.IndexFiles;
import dev.logstore.index.OffsetIndex;
import dev.logstore.index.TimeIndex;
import dev.logstore.segment.Segment;
import dev.logstore.segment.SegmentScanner;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.LongConsumer;

/**
 * Checks a store's files without changing them and without taking any lock, so it can run next
 * to a live writer: every batch's header, bounds and CRC-32C, offset order within and across
 * segments, and that each index file matches its segment.
 */
public final class StoreVerifier {

    private final LongConsumer progress;

    /** @param progress told the number of log bytes checked so far, as the check goes */
    public StoreVerifier(LongConsumer progress) {
        this.progress = progress;
    }

    /** Total bytes of segment files in a store (for a progress bar's 100%). */
    public static long logBytes(Path storeDir) throws IOException {
        long total = 0;
        try (DirectoryStream<Path> partitions = Files.newDirectoryStream(storeDir, "partition-*")) {
            for (Path partition : partitions) {
                for (Path segment : segments(partition).values()) {
                    total += Files.size(segment);
                }
            }
        }
        return total;
    }

    /** Verifies every partition of the store at {@code storeDir}; returns what was found (empty when all is well). */
    public List<Finding> verify(Path storeDir) throws IOException {
        int partitions;
        try (LogStore store = LogStore.builder(storeDir).readOnly().open()) {
            partitions = store.partitionCount();
        } catch (LogStoreException e) {
            return List.of(new Finding(Finding.Severity.CORRUPT, storeDir, -1, e.getMessage()));
        }
        List<Finding> findings = new ArrayList<>();
        long[] done = {0};
        for (int p = 0; p < partitions; p++) {
            Path dir = storeDir.resolve(LogStore.partitionDirectoryName(p));
            if (Files.isDirectory(dir)) {
                verifyPartition(dir, findings, done);
            }
        }
        return findings;
    }

    private void verifyPartition(Path dir, List<Finding> findings, long[] done) throws IOException {
        TreeMap<Long, Path> segments = segments(dir);
        boolean cleanlyClosed = Files.exists(dir.resolve(".clean-shutdown"));
        long expectedMin = 0;
        int i = 0;
        for (Map.Entry<Long, Path> entry : segments.entrySet()) {
            boolean last = ++i == segments.size();
            long base = entry.getKey();
            Path file = entry.getValue();
            if (base < expectedMin) {
                findings.add(new Finding(Finding.Severity.CORRUPT, file, 0, "segment starts at offset " + base
                        + " but the previous one ends at " + expectedMin));
            }
            Map<Long, Long> batchStarts = new HashMap<>();
            long before = done[0];
            SegmentScanner.Result result;
            try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
                result = SegmentScanner.scan(channel, 0, channel.size(), base, (position, header) -> {
                    batchStarts.put(position, header.baseOffset());
                    progress.accept(before + position);
                });
                done[0] = before + channel.size();
                progress.accept(done[0]);
            }
            if (!result.clean()) {
                boolean tailOfLive = last && result.torn() && !cleanlyClosed;
                findings.add(new Finding(tailOfLive ? Finding.Severity.WARNING : Finding.Severity.CORRUPT, file,
                        result.validEnd(), result.problem() + (tailOfLive
                        ? " (the end of a segment being written, or left by a crash: opening the store cuts it)" : "")));
            }
            expectedMin = result.nextOffset();
            if (!last || cleanlyClosed) {
                checkIndexes(file, base, result, batchStarts, findings);
            }
        }
    }

    private static void checkIndexes(Path log, long base, SegmentScanner.Result result, Map<Long, Long> batchStarts,
                                     List<Finding> findings) throws IOException {
        Path index = log.resolveSibling(Segment.fileName(base, Segment.INDEX_SUFFIX));
        Path timeIndex = log.resolveSibling(Segment.fileName(base, Segment.TIME_INDEX_SUFFIX));
        if (!Files.exists(index) || !Files.exists(timeIndex)) {
            findings.add(new Finding(Finding.Severity.WARNING, log, -1, "index files missing; opening the store "
                    + "for writing rebuilds them"));
            return;
        }
        OffsetIndex offsets = OffsetIndex.load(index, base);
        boolean offsetsOk = offsets != null;
        if (offsets != null && offsets.recordedSegmentSize() != Files.size(log)) {
            findings.add(new Finding(Finding.Severity.CORRUPT, log, Math.min(Files.size(log),
                    offsets.recordedSegmentSize()), "the segment is " + Files.size(log) + " bytes but was "
                    + offsets.recordedSegmentSize() + " bytes when its index was written"));
            return;
        }
        if (offsetsOk) {
            byte[] all = Files.readAllBytes(index);
            ByteBuffer entries = ByteBuffer.wrap(all, 0, all.length - IndexFiles.TRAILER_SIZE);
            while (entries.remaining() >= OffsetIndex.ENTRY_SIZE && offsetsOk) {
                long offset = base + entries.getInt();
                long position = entries.getInt() & 0xffffffffL;
                offsetsOk = Long.valueOf(offset).equals(batchStarts.get(position));
            }
        }
        if (!offsetsOk) {
            findings.add(new Finding(Finding.Severity.WARNING, index, -1, "does not match its segment; opening the "
                    + "store rebuilds it"));
        }
        TimeIndex times = TimeIndex.load(timeIndex, base, Math.max(base, result.nextOffset() - 1));
        if (times == null || (result.maxTimestamp() != Long.MIN_VALUE && times.maxTimestamp() != result.maxTimestamp())) {
            findings.add(new Finding(Finding.Severity.WARNING, timeIndex, -1, "does not match its segment; opening "
                    + "the store rebuilds it"));
        }
    }

    private static TreeMap<Long, Path> segments(Path partitionDir) throws IOException {
        TreeMap<Long, Path> found = new TreeMap<>();
        try (DirectoryStream<Path> files = Files.newDirectoryStream(partitionDir, "*" + Segment.LOG_SUFFIX)) {
            for (Path file : files) {
                long base = Segment.parseBaseOffset(file.getFileName().toString());
                if (base >= 0) {
                    found.put(base, file);
                }
            }
        }
        return found;
    }
}
