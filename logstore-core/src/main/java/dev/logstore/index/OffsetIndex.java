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
    private volatile long[] entries;
    private volatile int size;
    private long recordedSegmentSize = -1;

    public OffsetIndex(long baseOffset) {
        this(baseOffset, new long[16], 0);
    }

    private OffsetIndex(long baseOffset, long[] entries, int size) {
        this.baseOffset = baseOffset;
        this.entries = entries;
        this.size = size;
    }

    /** Adds an entry; offsets and positions must be greater than the previous entry's. */
    public void append(long offset, int position) {
        long relative = offset - baseOffset;
        if (relative < 0 || relative > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("offset " + offset + " does not fit segment " + baseOffset);
        }
        long[] current = entries;
        int n = size;
        if (n == current.length) {
            current = Arrays.copyOf(current, n * 2);
            entries = current;
        }
        current[n] = (relative << 32) | (position & 0xffffffffL);
        size = n + 1;
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
        long[] e = entries;
        long[] firsts = new long[(n + PAGE_ENTRIES - 1) / PAGE_ENTRIES];
        for (int page = 0; page < firsts.length; page++) {
            firsts[page] = e[page * PAGE_ENTRIES];
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

    /** Heap the entries hold: their array, allocated capacity included. */
    public long memoryBytes() {
        return 16 + 8L * entries.length;
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
        int n = size;
        long[] e = entries;
        long relative = target - baseOffset;
        if (n == 0 || relative < relativeOffset(e[0])) {
            return 0;
        }
        if (relative > Integer.MAX_VALUE) {
            return position(e[n - 1]);
        }
        int lo = 0;
        int hi = n - 1;
        while (lo < hi) {
            int mid = (lo + hi + 1) >>> 1;
            if (relativeOffset(e[mid]) <= relative) {
                lo = mid;
            } else {
                hi = mid - 1;
            }
        }
        return position(e[lo]);
    }

    /** The greatest indexed batch position at or below {@code maxPosition}, or 0 when there is none. */
    public int floorPosition(long maxPosition) {
        int n = size;
        long[] e = entries;
        int lo = -1;
        int hi = n - 1;
        while (lo < hi) {
            int mid = (lo + hi + 1) >>> 1;
            if ((position(e[mid]) & 0xffffffffL) <= maxPosition) {
                lo = mid;
            } else {
                hi = mid - 1;
            }
        }
        return lo < 0 ? 0 : position(e[lo]);
    }

    /** The last entry's offset, or -1 when the index is empty. */
    public long lastOffset() {
        int n = size;
        return n == 0 ? -1 : baseOffset + relativeOffset(entries[n - 1]);
    }

    /** The last entry's position, or -1 when the index is empty. */
    public int lastPosition() {
        int n = size;
        return n == 0 ? -1 : position(entries[n - 1]);
    }

    /** Writes the index of a segment of {@code segmentSize} bytes to {@code file} atomically. */
    public void writeTo(FileOpener opener, Path file, long segmentSize) throws IOException {
        int n = size;
        long[] e = entries;
        ByteBuffer bytes = ByteBuffer.allocate(n * ENTRY_SIZE);
        for (int i = 0; i < n; i++) {
            bytes.putLong(e[i]);
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
