package dev.logstore.index;

import dev.logstore.io.FileOpener;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * Sparse map from offset to file position within one segment: an entry per batch whenever at
 * least {@code indexIntervalBytes} were written since the previous entry. A lookup returns the
 * greatest entry at or below the target (greatest lower bound); the reader scans batch headers
 * from there.
 *
 * <p>File format ({@code NNNN.index}): entries of 8 bytes, big-endian int32 offset relative to
 * the segment's base offset, then int32 position of the batch that starts at that offset; then
 * the trailer: int64 size of the segment when the index was written, int32 CRC-32C of entries and
 * size.
 *
 * <p>One thread appends; any number look up concurrently. Entries are packed into one
 * {@code long} so a reader never sees an offset with another entry's position.
 */
public final class OffsetIndex {

    /** Bytes of one entry in the file. */
    public static final int ENTRY_SIZE = 8;

    private final long baseOffset;
    /**
     * The entries in memory and the pages moved out of it; replaced whole, so a reader sees a tail
     * and page list that belong together. Read {@link #size} first, then this.
     */
    private volatile Tail tail;
    private volatile int size;
    private long recordedSegmentSize = -1;
    /** Where moved pages go once pages move out of memory ({@link #pageOut}); null until then. */
    private volatile PageSpill spill;

    /**
     * Entries {@code from} onwards in {@code entries} ({@code from} a whole number of pages), and
     * the first entry of each page before them ({@code pageFirsts}), whose entries are in the
     * spill file, if anywhere.
     */
    private record Tail(long[] entries, int from, long[] pageFirsts) {
    }

    public OffsetIndex(long baseOffset) {
        this(baseOffset, new long[16], 0);
    }

    private OffsetIndex(long baseOffset, long[] entries, int size) {
        this.baseOffset = baseOffset;
        this.tail = new Tail(entries, 0, new long[0]);
        this.size = size;
    }

    /** Adds an entry; offsets and positions must be greater than the previous entry's. */
    public void append(long offset, int position) {
        long relative = offset - baseOffset;
        if (relative < 0 || relative > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("offset " + offset + " does not fit segment " + baseOffset);
        }
        Tail t = tail;
        int n = size;
        int i = n - t.from;
        if (i == t.entries.length) {
            t = new Tail(Arrays.copyOf(t.entries, i * 2), t.from, t.pageFirsts);
            tail = t;
        }
        t.entries[i] = (relative << 32) | (position & 0xffffffffL);
        size = n + 1;
    }

    /**
     * From now on, once two whole pages are in memory, the older one moves to {@code spill}
     * ({@link PageSpill#NONE}: it is dropped), keeping only its first entry, so an index that grows
     * without end holds at most two pages. A lookup in a moved page reads it back; when it cannot,
     * it starts from the page's first entry. {@link #writeTo} needs every moved page back from the
     * spill.
     */
    public void pageOut(PageSpill spill) {
        this.spill = java.util.Objects.requireNonNull(spill, "spill (PageSpill.NONE keeps no page)");
    }

    /** Moves the oldest page out of memory when two whole pages are in it; called by the appending thread. */
    public void pageOutIfFull() {
        Tail t = tail;
        int inMemory = size - t.from;
        PageSpill moved = spill;
        if (moved == null || inMemory < 2 * PAGE_ENTRIES) {
            return;
        }
        int page = t.from / PAGE_ENTRIES;
        if (moved != PageSpill.NONE) {
            ByteBuffer bytes = ByteBuffer.allocate(PAGE_ENTRIES * ENTRY_SIZE);
            for (int i = 0; i < PAGE_ENTRIES; i++) {
                bytes.putLong(t.entries[i]);
            }
            moved.write(page, bytes.flip()); // when it fails, lookups in the page start at its first entry
        }
        long[] rest = new long[2 * PAGE_ENTRIES];
        System.arraycopy(t.entries, PAGE_ENTRIES, rest, 0, inMemory - PAGE_ENTRIES);
        long[] firsts = Arrays.copyOf(t.pageFirsts, page + 1);
        firsts[page] = t.entries[0];
        tail = new Tail(rest, t.from + PAGE_ENTRIES, firsts);
    }

    /** True when some pages are out of memory: the index is then not whole in memory. */
    public boolean pagedOut() {
        return tail.from > 0;
    }

    /** Entries per page of an index file; a {@link Directory} keeps the first entry of each page. */
    public static final int PAGE_ENTRIES = 512;

    /** What {@link #lookupInFile} returns when no entry is at or below the target: scan from the segment's start. */
    public static final long BEFORE_FIRST = -1;

    /** What {@link #lookupInFile} returns when the file does not hold the page the directory names. */
    public static final long UNREADABLE = -2;

    /**
     * The first entry of every page of {@link #PAGE_ENTRIES} entries of an index file, and how many
     * entries the file holds: enough to look an offset up with one read of one page of the file,
     * in 1/512 of the memory of the whole index.
     */
    public record Directory(long[] firsts, int entries) {
        /** Heap the directory holds. */
        public long memoryBytes() {
            return 32 + 8L * firsts.length;
        }
    }

    /** The directory of this index's pages, as {@link #writeTo} lays them out in its file. */
    public Directory directory() {
        int n = size;
        Tail t = tail;
        long[] firsts = new long[(n + PAGE_ENTRIES - 1) / PAGE_ENTRIES];
        int moved = Math.min(t.pageFirsts.length, firsts.length);
        System.arraycopy(t.pageFirsts, 0, firsts, 0, moved);
        for (int page = moved; page < firsts.length; page++) {
            firsts[page] = t.entries[page * PAGE_ENTRIES - t.from];
        }
        return new Directory(firsts, n);
    }

    /**
     * The greatest entry at or below {@code target} in the index file {@code file}, found through
     * {@code directory} with one read of one page: the entry packed as relative offset (high 32
     * bits) and position (low 32 bits), {@link #BEFORE_FIRST}, or {@link #UNREADABLE}. The file is
     * not checked as a whole (that would read all of it): the caller checks the entry against the
     * segment (a batch with that offset starts at that position) before it trusts it.
     */
    public static long lookupInFile(Path file, long baseOffset, Directory directory, long target) throws IOException {
        long relative = target - baseOffset;
        long[] firsts = directory.firsts();
        if (firsts.length == 0 || relative < relativeOffset(firsts[0])) {
            return BEFORE_FIRST;
        }
        int lo = 0;
        int hi = firsts.length - 1;
        while (lo < hi) {
            int mid = (lo + hi + 1) >>> 1;
            if (relativeOffset(firsts[mid]) <= relative) {
                lo = mid;
            } else {
                hi = mid - 1;
            }
        }
        int first = lo * PAGE_ENTRIES;
        int count = Math.min(PAGE_ENTRIES, directory.entries() - first);
        ByteBuffer page = ByteBuffer.allocate(count * ENTRY_SIZE);
        try (java.nio.channels.FileChannel channel = java.nio.channels.FileChannel.open(file,
                java.nio.file.StandardOpenOption.READ)) {
            long at = (long) first * ENTRY_SIZE;
            while (page.hasRemaining()) {
                if (channel.read(page, at + page.position()) < 0) {
                    return UNREADABLE;
                }
            }
        } catch (java.nio.file.NoSuchFileException e) {
            return UNREADABLE;
        }
        if (page.getLong(0) != firsts[lo]) {
            return UNREADABLE; // not the file the directory was made from
        }
        int a = 0;
        int b = count - 1;
        while (a < b) {
            int mid = (a + b + 1) >>> 1;
            if (relativeOffset(page.getLong(mid * ENTRY_SIZE)) <= relative) {
                a = mid;
            } else {
                b = mid - 1;
            }
        }
        return page.getLong(a * ENTRY_SIZE);
    }

    /** Heap the entries hold: their arrays, allocated capacity included. */
    public long memoryBytes() {
        Tail t = tail;
        return 48 + 8L * t.entries.length + 8L * t.pageFirsts.length;
    }

    /** Number of entries. */
    public int size() {
        return size;
    }

    /**
     * Position to start scanning from for {@code target}: that of the greatest entry whose offset
     * is at or below it, or 0 when there is none.
     */
    public int lookup(long target) {
        long relative = target - baseOffset;
        return position(floorEntry(e -> relativeOffset(e) <= relative, relative < 0));
    }

    /** The greatest indexed batch position at or below {@code maxPosition}, or 0 when there is none. */
    public int floorPosition(long maxPosition) {
        return position(floorEntry(e -> (position(e) & 0xffffffffL) <= maxPosition, maxPosition < 0));
    }

    /** Entries ascend in offset and position alike: a test that holds for a prefix of them. */
    private interface AtOrBelow {
        boolean test(long entry);
    }

    /**
     * The last entry for which {@code below} holds (0, which reads as position 0, when none does),
     * looked for in memory, else in the moved page where it lies: read back from the spill, or
     * that page's first entry when it cannot be.
     */
    private long floorEntry(AtOrBelow below, boolean none) {
        int n = size;
        Tail t = tail;
        if (n == 0 || none) {
            return 0;
        }
        int inMemory = n - t.from;
        if (inMemory > 0 && below.test(t.entries[0])) {
            return t.entries[last(t.entries, inMemory, below)];
        }
        long[] firsts = t.pageFirsts;
        if (firsts.length == 0 || !below.test(firsts[0])) {
            return 0;
        }
        int page = last(firsts, firsts.length, below);
        ByteBuffer bytes = movedPage(t, page);
        if (bytes == null) {
            return firsts[page];
        }
        long[] entries = new long[PAGE_ENTRIES];
        bytes.asLongBuffer().get(entries);
        return entries[last(entries, PAGE_ENTRIES, below)];
    }

    /** Moved page {@code page} of {@code t}, read back and checked against its first entry; null when it cannot be. */
    private ByteBuffer movedPage(Tail t, int page) {
        ByteBuffer bytes = spill.read(page);
        return bytes != null && bytes.getLong(0) == t.pageFirsts[page] ? bytes : null;
    }

    /** Index of the last of the first {@code n} entries for which {@code below} holds; it holds for the first. */
    private static int last(long[] entries, int n, AtOrBelow below) {
        int lo = 0;
        int hi = n - 1;
        while (lo < hi) {
            int mid = (lo + hi + 1) >>> 1;
            if (below.test(entries[mid])) {
                lo = mid;
            } else {
                hi = mid - 1;
            }
        }
        return lo;
    }

    /** The last entry's offset, or -1 when the index is empty. */
    public long lastOffset() {
        long entry = lastEntry();
        return entry == -1 ? -1 : baseOffset + relativeOffset(entry);
    }

    /** The last entry's position, or -1 when the index is empty. */
    public int lastPosition() {
        long entry = lastEntry();
        return entry == -1 ? -1 : position(entry);
    }

    /** The last entry, -1 when there is none (no entry is -1: offsets are below 2^31). */
    private long lastEntry() {
        while (true) {
            int n = size;
            Tail t = tail;
            if (n == 0) {
                return -1;
            }
            if (n > t.from) {
                return t.entries[n - 1 - t.from];
            }
            // Pages moved out between the two reads: read both again (the size now covers them).
        }
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
        Tail t = tail;
        ByteBuffer bytes = ByteBuffer.allocate(n * ENTRY_SIZE);
        for (int page = 0; page < t.pageFirsts.length; page++) {
            ByteBuffer moved = movedPage(t, page);
            if (moved == null) {
                throw new IOException("page " + page + " of the offset index, moved out of memory, cannot be read "
                        + "back from " + spill);
            }
            bytes.put(moved);
        }
        for (int i = 0; i < n - t.from; i++) {
            bytes.putLong(t.entries[i]);
        }
        IndexFiles.writeAtomically(opener, file, bytes.flip(), segmentSize);
    }

    /** The segment size recorded in the index file this index was loaded from (-1 when built in memory). */
    public long recordedSegmentSize() {
        return recordedSegmentSize;
    }

    /**
     * Loads an index written by {@link #writeTo}; returns null when the file is missing or not a
     * well-formed index for the segment size it records (the caller rebuilds it). Whether the
     * segment still has that size is the caller's check: see {@link #recordedSegmentSize()}.
     */
    public static OffsetIndex load(Path file, long baseOffset) throws IOException {
        IndexFiles.Loaded loaded = IndexFiles.readIfPresent(file, ENTRY_SIZE);
        if (loaded == null) {
            return null;
        }
        ByteBuffer bytes = loaded.entries();
        long segmentSize = loaded.segmentSize();
        int n = bytes.remaining() / ENTRY_SIZE;
        long[] e = new long[Math.max(16, n)];
        long previousOffset = -1;
        long previousPosition = -1;
        for (int i = 0; i < n; i++) {
            long entry = bytes.getLong();
            long relative = relativeOffset(entry);
            long position = position(entry) & 0xffffffffL;
            if (relative <= previousOffset || position <= previousPosition || position >= segmentSize
                    || relative > Integer.MAX_VALUE) {
                return null;
            }
            previousOffset = relative;
            previousPosition = position;
            e[i] = entry;
        }
        OffsetIndex index = new OffsetIndex(baseOffset, e, n);
        index.recordedSegmentSize = segmentSize;
        return index;
    }

    private static int relativeOffset(long entry) {
        return (int) (entry >>> 32);
    }

    private static int position(long entry) {
        return (int) entry;
    }
}
