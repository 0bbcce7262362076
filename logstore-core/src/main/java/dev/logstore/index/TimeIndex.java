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

    /** Immutable pair of array references, so a reader always sees matching arrays. */
    private record Entries(long[] timestamps, int[] offsets) {
    }

    private final long baseOffset;
    private volatile Entries entries;
    private volatile int size;

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
        return 48 + 8L * e.timestamps.length + 4L * e.offsets.length;
    }

    /** Adds an entry if {@code maxTimestamp} is greater than the last entry's timestamp. */
    public void maybeAppend(long maxTimestamp, long offset) {
        int n = size;
        Entries e = entries;
        if (n > 0 && e.timestamps[n - 1] >= maxTimestamp) {
            return;
        }
        if (n == e.timestamps.length) {
            e = new Entries(Arrays.copyOf(e.timestamps, n * 2), Arrays.copyOf(e.offsets, n * 2));
            entries = e;
        }
        e.timestamps[n] = maxTimestamp;
        e.offsets[n] = (int) (offset - baseOffset);
        size = n + 1;
    }

    /** The greatest timestamp recorded, or {@code Long.MIN_VALUE} when empty. */
    public long maxTimestamp() {
        int n = size;
        return n == 0 ? Long.MIN_VALUE : entries.timestamps[n - 1];
    }

    public int size() {
        return size;
    }

    /**
     * Offset to start scanning from for the first record with a timestamp at or above
     * {@code target}: that of the greatest entry whose timestamp is below it, or the base offset.
     */
    public long lookup(long target) {
        int n = size;
        Entries e = entries;
        int lo = -1;
        int hi = n - 1;
        while (lo < hi) {
            int mid = (lo + hi + 1) >>> 1;
            if (e.timestamps[mid] < target) {
                lo = mid;
            } else {
                hi = mid - 1;
            }
        }
        return lo < 0 ? baseOffset : baseOffset + e.offsets[lo];
    }

    /** Writes the index of a segment of {@code segmentSize} bytes to {@code file} atomically. */
    public void writeTo(FileOpener opener, Path file, long segmentSize) throws IOException {
        int n = size;
        Entries e = entries;
        ByteBuffer bytes = ByteBuffer.allocate(n * ENTRY_SIZE);
        for (int i = 0; i < n; i++) {
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
