package dev.logstore.log;

import dev.logstore.segment.Segment;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * What a partition directory holds according to its newest complete manifest (or, for a
 * partition of LogStore 0.1, a listing), for tools that check the files without opening the
 * store: the segments in order, how far each may be read, and segment files nothing names.
 *
 * @param legacy      true for a partition no writer of format version 2 opened yet (no manifest)
 * @param epoch       the writer epoch of the manifest (0 for a legacy partition)
 * @param clean       whether the last writer closed the partition cleanly
 * @param startOffset offsets below it were removed or never written
 * @param segments    the segments, by base offset
 * @param unlisted    segment files the manifest does not name (a roll that never committed, or
 *                    removed by retention before a crash); the next writable open removes them.
 *                    Not listed: the empty file at a cleanly closed partition's next offset, which
 *                    a writer that opened and closed without appending leaves for the next one
 */
public record PartitionLayout(boolean legacy, int epoch, boolean clean, long startOffset, List<SegmentEntry> segments,
                              List<Path> unlisted) {

    /**
     * One segment.
     *
     * @param recordedSize the size its manifest records (readers never read past it), or -1 for
     *                     an active segment, which is valid as far as its batches are
     */
    public record SegmentEntry(long baseOffset, int epoch, Path file, long recordedSize) {
    }

    /**
     * Reads the layout of {@code partitionDir}.
     *
     * @throws dev.logstore.CorruptLogException when the manifest is damaged
     */
    /** The partition number a directory named {@code partition-<n>} holds, or -1 for another name. */
    private static int partitionNumber(Path partitionDir) {
        String name = partitionDir.getFileName().toString();
        String prefix = "partition-";
        if (!name.startsWith(prefix)) {
            return -1;
        }
        try {
            return Integer.parseInt(name.substring(prefix.length()));
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    public static PartitionLayout read(Path partitionDir) throws IOException {
        Manifests manifests = new Manifests(partitionDir, dev.logstore.io.FileOpener.DEFAULT);
        int newest = manifests.newestClaimed();
        Manifest manifest = newest == 0 ? null : manifests.newestComplete(newest);
        // Completed by the store's clean-close record, as an open would: the last segment's size.
        int partition = partitionNumber(partitionDir);
        if (manifest != null && partition >= 0 && partitionDir.getParent() != null) {
            manifest = new CleanCloses(partitionDir.getParent(), dev.logstore.io.FileOpener.DEFAULT)
                    .complete(partition, manifest, partitionDir);
        }
        List<Long> files = LegacyLayout.listSegments(partitionDir);
        boolean legacy = manifest == null;
        if (legacy) {
            manifest = LegacyLayout.manifestOf(partitionDir, files,
                    Files.exists(partitionDir.resolve(LegacyLayout.CLEAN_MARKER)));
        }
        List<SegmentEntry> entries = new ArrayList<>();
        Set<Long> named = new HashSet<>();
        for (Manifest.Entry entry : manifest.segments()) {
            named.add(entry.baseOffset());
            entries.add(new SegmentEntry(entry.baseOffset(), entry.epoch(),
                    partitionDir.resolve(Segment.fileName(entry.baseOffset(), Segment.LOG_SUFFIX)), entry.size()));
        }
        // A writer that reopened a cleanly closed partition and closed it again without appending
        // leaves the empty segment at its next offset, for the next writer to take over.
        long nextWriters = -1;
        if (!legacy && manifest.clean() && !manifest.segments().isEmpty()) {
            nextWriters = manifest.segments().get(manifest.segments().size() - 1).nextOffset();
        }
        List<Path> unlisted = new ArrayList<>();
        for (long base : files) {
            Path file = partitionDir.resolve(Segment.fileName(base, Segment.LOG_SUFFIX));
            if (base == nextWriters && Files.size(file) == 0) {
                continue;
            }
            if (!named.contains(base)) {
                unlisted.add(partitionDir.resolve(Segment.fileName(base, Segment.LOG_SUFFIX)));
            }
        }
        return new PartitionLayout(legacy, manifest.epoch(), manifest.clean(), manifest.startOffset(),
                List.copyOf(entries), List.copyOf(unlisted));
    }
}
