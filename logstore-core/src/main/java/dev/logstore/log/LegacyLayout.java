package dev.logstore.log;

import dev.logstore.segment.Segment;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Partitions written by LogStore 0.1 (format version 1): no manifest and no writer epochs; the
 * segments are whatever {@code *.log} files the directory holds, every one but the last sealed,
 * and a {@code .clean-shutdown} marker says the last one was closed cleanly. A writable open
 * upgrades such a partition (it writes its first manifest); a read-only view of one that has not
 * been upgraded yet lists its directory.
 */
final class LegacyLayout {

    static final String CLEAN_MARKER = ".clean-shutdown";

    private LegacyLayout() {
    }

    /** Base offsets of the segment files in {@code dir}, ascending. */
    static List<Long> listSegments(Path dir) throws IOException {
        List<Long> found = new ArrayList<>();
        if (!Files.isDirectory(dir)) {
            return found;
        }
        try (DirectoryStream<Path> files = Files.newDirectoryStream(dir, "*" + Segment.LOG_SUFFIX)) {
            for (Path file : files) {
                long base = Segment.parseBaseOffset(file.getFileName().toString());
                if (base >= 0) {
                    found.add(base);
                }
            }
        }
        found.sort(null);
        return found;
    }

    /**
     * The manifest a LogStore 0.1 partition would have had: every segment but the last sealed at
     * its file's size (next offsets and timestamps unknown until its indexes are read), the last
     * active, or complete when {@code clean}. A new partition has no segments.
     */
    static Manifest manifestOf(Path dir, List<Long> bases, boolean clean) throws IOException {
        List<Manifest.Entry> entries = new ArrayList<>();
        for (int i = 0; i < bases.size(); i++) {
            long base = bases.get(i);
            boolean last = i == bases.size() - 1;
            long size;
            try {
                size = Files.size(dir.resolve(Segment.fileName(base, Segment.LOG_SUFFIX)));
            } catch (NoSuchFileException e) {
                continue;
            }
            boolean complete = !last || clean;
            entries.add(new Manifest.Entry(base, 0, -1, complete ? size : -1, -1, Long.MIN_VALUE));
        }
        return new Manifest(0, 0, clean, entries.isEmpty() ? 0 : entries.get(0).baseOffset(), entries);
    }
}
