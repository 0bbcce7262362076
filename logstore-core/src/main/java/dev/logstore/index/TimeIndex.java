package dev.logstore.index;

import dev.logstore.io.FileOpener;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * Sparse map from timestamp to offset within one segment. Each entry {@code (T, o)} says: every
 * record in the batches up to and including the batch starting at offset {@code o} has a
 * timestamp of at most {@code T}. Entries are added at most once per index interval of bytes
 * (like the offset index's), and only when the segment's running maximum timestamp grew since
 * the last one, so timestamps and offsets both increase. Indexes written by earlier versions,
 * with an entry for every batch that raised the maximum, read the same way.
 *
 * <p>To find the first record with a timestamp at or above a target, start scanning at the
 * offset of the greatest entry whose timestamp is below the target: nothing before that batch can
 * qualify. When a segment is sealed its last entry carries the segment's maximum timestamp.
 *
 * <p>File format ({@code NNNN.timeindex}): entries of 12 bytes, big-endian int64 timestamp, then
 * int32 offset relative to the segment's base offset; then the same trailer as the offset index.
 */
public final class TimeIndex {

    /** Bytes of one entry in the file. */
    public static final int ENTRY_SIZE = 12;

    /**
     * Entries {@code from} onwards in matching arrays ({@code from} a whole number of pages), and
     * the first entry of each page before them, whose entries are in the spill file, if anywhere.
     * Replaced whole, so a reader always sees arrays that belong together.
     */
    private record Entries(long[] timestamps, int[] offsets, int from, long[] pageTimestamps, int[] pageOffsets) {
        Entries(long[] timestamps, int[] offsets) {
            this(timestamps, offsets, 0, new long[0], new int[0]);
        }
    }

    private static final int PAGE_ENTRIES = OffsetIndex.PAGE_ENTRIES;

    private final long baseOffset;
    /** Read {@link #size} first, then this. */
    private volatile Entries entries;
    private volatile int size;
    /** Where moved pages go once pages move out of memory ({@link #pageOut}); null until then. */
    private volatile PageSpill spill;

    public TimeIndex(long baseOffset) {
        this(baseOffset, new Entries(new long[8], new int[8]), 0);
    }

    private TimeIndex(long baseOffset, Entries entries, int size) {
        this.baseOffset = baseOffset;
        this.entries = entries;
        this.size = size;
    }

    /** Heap the entries hold: their arrays, allocated capacity included. */
    public long memoryBytes() {
        Entries e = entries;
        return 80 + 12L * e.timestamps.length + 12L * e.pageTimestamps.length;
    }

    /** Adds an entry if {@code maxTimestamp} is greater than the last entry's timestamp. */
    public void maybeAppend(long maxTimestamp, long offset) {
        int n = size;
        Entries e = entries;
        int i = n - e.from;
        if (n > 0 && e.timestamps[i - 1] >= maxTimestamp) {
            return;
        }
        if (i == e.timestamps.length) {
            e = new Entries(Arrays.copyOf(e.timestamps, i * 2), Arrays.copyOf(e.offsets, i * 2), e.from,
                    e.pageTimestamps, e.pageOffsets);
            entries = e;
        }
        e.timestamps[i] = maxTimestamp;
        e.offsets[i] = (int) (offset - baseOffset);
        size = n + 1;
    }

    /** Pages move out of memory from now on; see {@link OffsetIndex#pageOut}. */
    public void pageOut(PageSpill spill) {
        this.spill = java.util.Objects.requireNonNull(spill, "spill (PageSpill.NONE keeps no page)");
    }

    /** Moves the oldest page out of memory when two whole pages are in it; called by the appending thread. */
    public void pageOutIfFull() {
        Entries e = entries;
        int inMemory = size - e.from;
        PageSpill moved = spill;
        if (moved == null || inMemory < 2 * PAGE_ENTRIES) {
            return;
        }
        int page = e.from / PAGE_ENTRIES;
        if (moved != PageSpill.NONE) {
            ByteBuffer bytes = ByteBuffer.allocate(PAGE_ENTRIES * ENTRY_SIZE);
            for (int i = 0; i < PAGE_ENTRIES; i++) {
                bytes.putLong(e.timestamps[i]).putInt(e.offsets[i]);
            }
            moved.write(page, bytes.flip()); // when it fails, lookups in the page start at its first entry
        }
        long[] timestamps = new long[2 * PAGE_ENTRIES];
        int[] offsets = new int[2 * PAGE_ENTRIES];
        System.arraycopy(e.timestamps, PAGE_ENTRIES, timestamps, 0, inMemory - PAGE_ENTRIES);
        System.arraycopy(e.offsets, PAGE_ENTRIES, offsets, 0, inMemory - PAGE_ENTRIES);
        long[] pageTimestamps = Arrays.copyOf(e.pageTimestamps, page + 1);
        int[] pageOffsets = Arrays.copyOf(e.pageOffsets, page + 1);
        pageTimestamps[page] = e.timestamps[0];
        pageOffsets[page] = e.offsets[0];
        entries = new Entries(timestamps, offsets, e.from + PAGE_ENTRIES, pageTimestamps, pageOffsets);
    }

    /** True when some pages are out of memory. */
    public boolean pagedOut() {
        return entries.from > 0;
    }

    /** The greatest timestamp recorded, or {@code Long.MIN_VALUE} when empty. */
    public long maxTimestamp() {
        while (true) {
            int n = size;
            Entries e = entries;
            if (n == 0) {
                return Long.MIN_VALUE;
            }
            if (n > e.from) {
                return e.timestamps[n - 1 - e.from];
            }
            // Pages moved out between the two reads: read both again (the size now covers them).
        }
    }

    public int size() {
        return size;
    }

    /**
     * Offset to start scanning from for the first record with a timestamp at or above
     * {@code target}: that of the greatest entry whose timestamp is below it, or the base offset.
     * In a page moved out of memory, the entry is read back from the spill; when it cannot be,
     * the page's first entry answers (its timestamp is below the target too, so nothing before it
     * qualifies either).
     */
    public long lookup(long target) {
        long entry = entryBelow(target);
        return entry >= 0 ? entry : baseOffset;
    }

    /**
     * The offset of the greatest entry whose timestamp is below {@code target}, or -1 when there
     * is none: the entry vouches that the batch starting there, and every batch before it, holds
     * only older records, so a scan may step over that batch without reading it.
     */
    public long entryBelow(long target) {
        int n = size;
        Entries e = entries;
        int inMemory = n - e.from;
        if (inMemory > 0 && e.timestamps[0] < target) {
            return baseOffset + e.offsets[lastBelow(e.timestamps, inMemory, target)];
        }
        int pages = e.pageTimestamps.length;
        if (pages == 0 || e.pageTimestamps[0] >= target) {
            return -1;
        }
        int page = lastBelow(e.pageTimestamps, pages, target);
        ByteBuffer bytes = movedPage(e, page);
        if (bytes == null) {
            return baseOffset + e.pageOffsets[page];
        }
        long[] timestamps = new long[PAGE_ENTRIES];
        for (int i = 0; i < PAGE_ENTRIES; i++) {
            timestamps[i] = bytes.getLong(i * ENTRY_SIZE);
        }
        return baseOffset + bytes.getInt(lastBelow(timestamps, PAGE_ENTRIES, target) * ENTRY_SIZE + Long.BYTES);
    }

    /** Moved page {@code page} of {@code e}, read back and checked against its first entry; null when it cannot be. */
    private ByteBuffer movedPage(Entries e, int page) {
        ByteBuffer bytes = spill.read(page);
        boolean first = bytes != null && bytes.getLong(0) == e.pageTimestamps[page]
                && bytes.getInt(Long.BYTES) == e.pageOffsets[page];
        return first ? bytes : null;
    }

    /** Index of the last of the first {@code n} (ascending) timestamps below {@code target}; the first is. */
    private static int lastBelow(long[] timestamps, int n, long target) {
        int lo = 0;
        int hi = n - 1;
        while (lo < hi) {
            int mid = (lo + hi + 1) >>> 1;
            if (timestamps[mid] < target) {
                lo = mid;
            } else {
                hi = mid - 1;
            }
        }
        return lo;
    }

    /**
     * Writes the index of a segment of {@code segmentSize} bytes to {@code file} atomically, moved
     * pages read back from the spill.
     *
     * @throws IOException when a moved page cannot be read back (the index is rebuilt from the
     *                     segment when next needed)
     */
    public void writeTo(FileOpener opener, Path file, long segmentSize) throws IOException {
        int n = size;
        Entries e = entries;
        ByteBuffer bytes = ByteBuffer.allocate(n * ENTRY_SIZE);
        for (int page = 0; page < e.pageTimestamps.length; page++) {
            ByteBuffer moved = movedPage(e, page);
            if (moved == null) {
                throw new IOException("page " + page + " of the time index, moved out of memory, cannot be read "
                        + "back from " + spill);
            }
            bytes.put(moved);
        }
        for (int i = 0; i < n - e.from; i++) {
            bytes.putLong(e.timestamps[i]).putInt(e.offsets[i]);
        }
        IndexFiles.writeAtomically(opener, file, bytes.flip(), segmentSize);
    }

    /**
     * Loads an index written by {@link #writeTo}; returns null when it is missing or malformed, or
     * names offsets beyond {@code lastOffset} (the caller rebuilds it).
     */
    public static TimeIndex load(Path file, long baseOffset, long lastOffset) throws IOException {
        IndexFiles.Loaded loaded = IndexFiles.readIfPresent(file, ENTRY_SIZE);
        if (loaded == null) {
            return null;
        }
        ByteBuffer bytes = loaded.entries();
        int n = bytes.remaining() / ENTRY_SIZE;
        long[] timestamps = new long[Math.max(8, n)];
        int[] offsets = new int[Math.max(8, n)];
        for (int i = 0; i < n; i++) {
            timestamps[i] = bytes.getLong();
            offsets[i] = bytes.getInt();
            boolean ordered = i == 0 || (timestamps[i] > timestamps[i - 1] && offsets[i] >= offsets[i - 1]);
            if (!ordered || offsets[i] < 0 || baseOffset + offsets[i] > lastOffset) {
                return null;
            }
        }
        return new TimeIndex(baseOffset, new Entries(timestamps, offsets), n);
    }
}
