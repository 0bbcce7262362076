package dev.logstore.log;

import dev.logstore.io.FileOpener;
import dev.logstore.segment.Segment;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * What a partition directory holds, by kind: segments (ascending base offsets), those with both
 * index files, leftovers to remove, the newest manifest epoch (0 when none), and whether LogStore
 * 0.1's clean marker is there. {@code fromManifest} is the manifest it was taken from instead of a
 * listing (when the clean-close record says the directory has not changed), else null.
 */
record PartitionListing(List<Long> segments, Set<Long> indexed, List<Path> leftovers, int newestEpoch,
                        boolean legacyMarker, Manifest fromManifest) {

    /** One listing of {@code dir}, through {@code opener}. */
    static PartitionListing of(FileOpener opener, Path dir) throws IOException {
        // Names only (File.list): no Path per entry, which for a partition of thousands of
        // segments (three files each) is most of the listing's own cost.
        String[] names = opener.list(dir);
        List<Long> segments = new ArrayList<>();
        Set<Long> withIndex = new HashSet<>();
        Set<Long> withTimeIndex = new HashSet<>();
        List<Path> leftovers = new ArrayList<>();
        int newestEpoch = 0;
        boolean legacyMarker = false;
        for (String name : names) {
            if (name.endsWith(".tmp") || name.endsWith(".deleted")) {
                leftovers.add(dir.resolve(name));
            } else if (name.endsWith(Segment.LOG_SUFFIX)) {
                long base = Segment.parseBaseOffset(name);
                if (base >= 0) {
                    segments.add(base);
                }
            } else if (name.endsWith(Segment.INDEX_SUFFIX)) {
                addBase(withIndex, name, Segment.INDEX_SUFFIX);
            } else if (name.endsWith(Segment.TIME_INDEX_SUFFIX)) {
                addBase(withTimeIndex, name, Segment.TIME_INDEX_SUFFIX);
            } else if (name.startsWith(Manifests.PREFIX)) {
                newestEpoch = Math.max(newestEpoch, Manifests.parseEpoch(name));
            } else if (name.equals(LegacyLayout.CLEAN_MARKER)) {
                legacyMarker = true;
            }
        }
        segments.sort(null);
        withIndex.retainAll(withTimeIndex);
        return new PartitionListing(segments, withIndex, leftovers, newestEpoch, legacyMarker, null);
    }

    /** Adds the base offset of index file {@code name} (with {@code suffix}), if it names one. */
    private static void addBase(Set<Long> bases, String name, String suffix) {
        long base = Segment.parseBaseOffset(name, suffix);
        if (base >= 0) {
            bases.add(base);
        }
    }

    /**
     * True when the directory holds exactly what a quiet open expects of a partition of these
     * segments, the newest manifest of epoch {@code epoch}: these segment files and no other
     * (none left for a reader, none at the next offset), each of more than 4 KiB
     * ({@code sizes}) with both index files, no leftover, no LogStore 0.1 marker.
     */
    boolean holdsExactly(long[] bases, long[] sizes, int epoch) {
        if (newestEpoch != epoch || legacyMarker || !leftovers.isEmpty() || segments.size() != bases.length) {
            return false;
        }
        for (int i = 0; i < bases.length; i++) {
            if (segments.get(i) != bases[i]
                    || (!Segment.mayLackIndexFiles(sizes[i]) && !indexed.contains(bases[i]))) {
                return false;
            }
        }
        return true;
    }
}
