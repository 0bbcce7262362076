package dev.logstore.verify;

import dev.logstore.CorruptLogException;
import dev.logstore.LogStore;
import dev.logstore.LogStoreException;
import dev.logstore.index.IndexFiles;
import dev.logstore.index.OffsetIndex;
import dev.logstore.index.TimeIndex;
import dev.logstore.io.Directories;
import dev.logstore.log.PartitionLayout;
import dev.logstore.segment.Segment;
import dev.logstore.segment.SegmentScanner;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.LongConsumer;

/**
 * Checks a store's files without changing them and without taking any lock, so it can run next
 * to a live writer: each partition's manifest, every batch's header, bounds and CRC-32C up to the
 * size the manifest records (the last segment's as the clean-close record completes it), offset
 * order within and across segments, and that each index file matches its segment (a segment of at
 * most 4 KiB may have none).
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
                try (DirectoryStream<Path> files = Files.newDirectoryStream(partition, "*" + Segment.LOG_SUFFIX)) {
                    for (Path file : files) {
                        total += Files.size(file);
                    }
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
        PartitionLayout layout;
        try {
            layout = PartitionLayout.read(dir);
        } catch (CorruptLogException e) {
            findings.add(new Finding(Finding.Severity.CORRUPT, e.file(), e.position(), e.getMessage()));
            return;
        }
        for (Path unlisted : layout.unlisted()) {
            if (sizeOrZero(unlisted) == 0) {
                // Holds nothing: the empty segment a writer that opened and closed without a write
                // leaves at the next offset, which the next writer takes over.
                continue;
            }
            findings.add(new Finding(Finding.Severity.WARNING, unlisted, -1, "no manifest names this segment (a roll "
                    + "that never completed, or one retention removed before a crash): it is not read, and the next "
                    + "writable open removes it"));
        }
        long expectedMin = layout.startOffset();
        List<PartitionLayout.SegmentEntry> segments = layout.segments();
        for (int i = 0; i < segments.size(); i++) {
            PartitionLayout.SegmentEntry entry = segments.get(i);
            boolean last = i == segments.size() - 1;
            Path file = entry.file();
            if (entry.baseOffset() < expectedMin && !(i == 0 && layout.legacy())) {
                findings.add(new Finding(Finding.Severity.CORRUPT, file, 0, "segment starts at offset "
                        + entry.baseOffset() + " but the previous one ends at " + expectedMin));
            }
            long fileSize;
            try {
                fileSize = Files.size(file);
            } catch (NoSuchFileException e) {
                findings.add(new Finding(Finding.Severity.CORRUPT, file, -1, "the partition's manifest names this "
                        + "segment but the file is missing"));
                continue;
            }
            boolean recorded = entry.recordedSize() >= 0;
            long end = recorded ? Math.min(fileSize, entry.recordedSize()) : fileSize;
            if (recorded && fileSize < entry.recordedSize()) {
                findings.add(new Finding(Finding.Severity.CORRUPT, file, fileSize, "the segment is " + fileSize
                        + " bytes but was " + entry.recordedSize() + " bytes when it was sealed: bytes were cut off"));
            } else if (recorded && fileSize > entry.recordedSize() && !layout.legacy()) {
                findings.add(new Finding(Finding.Severity.WARNING, file, entry.recordedSize(), (fileSize
                        - entry.recordedSize()) + " bytes past the size the segment was sealed with (a torn write, or "
                        + "a fenced writer's late bytes): never read"));
            }
            Map<Long, Long> batchStarts = new HashMap<>();
            long before = done[0];
            SegmentScanner.Result result;
            try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
                int epoch = entry.epoch() == 0 ? SegmentScanner.ANY_EPOCH : entry.epoch();
                result = SegmentScanner.scan((dst, position) -> Directories.readFully(channel, dst, position), 0, end,
                        entry.baseOffset(), epoch, (position, header) -> {
                            batchStarts.put(position, header.baseOffset());
                            progress.accept(before + position);
                        });
                done[0] = before + fileSize;
                progress.accept(done[0]);
            }
            if (!result.clean()) {
                boolean tailOfLive = last && !recorded && (result.torn() || result.reserved());
                String lost = "";
                if (!tailOfLive) {
                    // Reads stop at the damage: say which offsets that takes away.
                    lost = (last ? ". Offsets from " + result.nextOffset() + " on cannot be read past it."
                            : ". Offsets " + result.nextOffset() + " to " + (segments.get(i + 1).baseOffset() - 1)
                            + " (the rest of this segment) cannot be read past it; the next segment, from offset "
                            + segments.get(i + 1).baseOffset() + ", is unaffected.")
                            + " Intact batches after the damage in this segment are not checked here; `logstore "
                            + "salvage` copies every intact batch and names each damaged one and the offsets it lost.";
                }
                findings.add(new Finding(tailOfLive ? Finding.Severity.WARNING : Finding.Severity.CORRUPT, file,
                        result.validEnd(), result.problem() + (tailOfLive
                        ? " (the end of a segment being written, or left by a crash: opening the store cuts it)" : lost)));
            }
            expectedMin = result.nextOffset();
            // A damaged segment's indexes are not compared with what could be scanned of it: they
            // describe the whole segment, and saying they do not match would only mislead.
            if (result.clean() && recorded && fileSize >= entry.recordedSize()) {
                checkIndexes(file, entry.baseOffset(), layout.legacy() ? fileSize : entry.recordedSize(), result,
                        batchStarts, findings, layout.legacy());
            }
        }
    }

    private static long sizeOrZero(Path file) throws IOException {
        try {
            return Files.size(file);
        } catch (NoSuchFileException e) {
            return 0;
        }
    }

    private static void checkIndexes(Path log, long base, long size, SegmentScanner.Result result,
                                     Map<Long, Long> batchStarts, List<Finding> findings, boolean legacy)
            throws IOException {
        Path index = log.resolveSibling(Segment.fileName(base, Segment.INDEX_SUFFIX));
        Path timeIndex = log.resolveSibling(Segment.fileName(base, Segment.TIME_INDEX_SUFFIX));
        boolean hasIndex = Files.exists(index);
        boolean hasTimeIndex = Files.exists(timeIndex);
        if (size == 0 || (!hasIndex && !hasTimeIndex && Segment.mayLackIndexFiles(size))) {
            return; // too small to need index files, whatever interval wrote it
        }
        if (!hasIndex || !hasTimeIndex) {
            findings.add(new Finding(Finding.Severity.WARNING, log, -1, (hasIndex || hasTimeIndex ? "an index file is"
                    : "index files are") + " missing; they are rebuilt when next needed"));
            return;
        }
        OffsetIndex offsets = OffsetIndex.load(index, base);
        boolean offsetsOk = offsets != null && offsets.recordedSegmentSize() == size;
        if (offsets != null && offsets.recordedSegmentSize() != size && legacy) {
            findings.add(new Finding(Finding.Severity.CORRUPT, log, Math.min(size, offsets.recordedSegmentSize()),
                    "the segment is " + size + " bytes but was " + offsets.recordedSegmentSize()
                    + " bytes when its index was written"));
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
            findings.add(new Finding(Finding.Severity.WARNING, index, -1, "does not match its segment; it is rebuilt "
                    + "when next needed"));
        }
        TimeIndex times = TimeIndex.load(timeIndex, base, Math.max(base, result.nextOffset() - 1));
        if (times == null || (result.maxTimestamp() != Long.MIN_VALUE && times.maxTimestamp() != result.maxTimestamp())) {
            findings.add(new Finding(Finding.Severity.WARNING, timeIndex, -1, "does not match its segment; it is "
                    + "rebuilt when next needed"));
        }
    }
}
