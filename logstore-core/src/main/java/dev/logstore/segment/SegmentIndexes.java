package dev.logstore.segment;

import dev.logstore.index.OffsetIndex;
import dev.logstore.index.PageSpill;
import dev.logstore.index.TimeIndex;
import dev.logstore.io.FileOpener;
import java.io.IOException;
import java.nio.file.Path;

/**
 * The offset and time index of one segment, and what adding its batches taught: the offset
 * after the last batch and the greatest timestamp. One thread adds batches (the writer, or a
 * follower catching up); any number of readers look up concurrently. A reader bounds what it
 * uses by the end it read from its snapshot: an entry past that end belongs to a batch it cannot
 * see yet.
 */
public final class SegmentIndexes {

    private final long baseOffset;
    private final int intervalBytes;
    private final OffsetIndex offsets;
    private final TimeIndex times;
    private long bytesSinceEntry;
    private long bytesSinceTimeEntry;
    private volatile long lastBatchBase = -1;
    private volatile long nextOffset;
    private volatile long maxTimestamp = Long.MIN_VALUE;

    private SegmentIndexes(long baseOffset, int intervalBytes, OffsetIndex offsets, TimeIndex times) {
        this.baseOffset = baseOffset;
        this.intervalBytes = intervalBytes;
        this.offsets = offsets;
        this.times = times;
        this.bytesSinceEntry = intervalBytes;
        this.bytesSinceTimeEntry = intervalBytes;
        this.nextOffset = baseOffset;
    }

    /** Indexes of an empty segment, to add batches to. */
    public static SegmentIndexes empty(long baseOffset, int intervalBytes) {
        return new SegmentIndexes(baseOffset, intervalBytes, new OffsetIndex(baseOffset), new TimeIndex(baseOffset));
    }

    /** Indexes read from their files, for a segment whose last batch starts at {@code lastBatchBase}. */
    static SegmentIndexes loaded(long baseOffset, int intervalBytes, OffsetIndex offsets, TimeIndex times,
                                 long lastBatchBase, long nextOffset) {
        SegmentIndexes indexes = new SegmentIndexes(baseOffset, intervalBytes, offsets, times);
        indexes.lastBatchBase = lastBatchBase;
        indexes.nextOffset = nextOffset;
        indexes.maxTimestamp = times.maxTimestamp();
        return indexes;
    }

    /** Adds a batch that starts at {@code position}; batches come in file order. */
    public void add(long position, int length, long batchBaseOffset, long batchNextOffset, long batchMaxTimestamp) {
        if (bytesSinceEntry >= intervalBytes) {
            offsets.append(batchBaseOffset, (int) position);
            bytesSinceEntry = 0;
        }
        bytesSinceEntry += length;
        bytesSinceTimeEntry += length;
        lastBatchBase = batchBaseOffset;
        long runningMax = Math.max(maxTimestamp, batchMaxTimestamp);
        // Sparse, like the offset index: an entry (the greatest timestamp up to and including this
        // batch, this batch's offset) once an interval of bytes has passed since the last one. A
        // lookup starts scanning at the last entry whose timestamp is below the target, so it
        // scans about one interval, and a segment of small batches keeps a small index.
        if (bytesSinceTimeEntry >= intervalBytes && runningMax > Long.MIN_VALUE) {
            times.maybeAppend(runningMax, batchBaseOffset);
            bytesSinceTimeEntry = 0;
        }
        maxTimestamp = runningMax;
        nextOffset = batchNextOffset;
        offsets.pageOutIfFull();
        times.pageOutIfFull();
    }

    /**
     * From now on both indexes keep at most two pages in memory, moving older ones to
     * {@code offsetPages} and {@code timePages} ({@link PageSpill#NONE}: dropped, keeping each
     * page's first entry);
     * see {@link OffsetIndex#pageOut}. For an active segment, whose indexes grow with it.
     */
    void pageOut(PageSpill offsetPages, PageSpill timePages) {
        offsets.pageOut(offsetPages);
        times.pageOut(timePages);
    }

    /** True when pages of either index are out of memory. */
    boolean pagedOut() {
        return offsets.pagedOut() || times.pagedOut();
    }

    /** The offset after the last batch added (the base offset when none was). */
    public long nextOffset() {
        return nextOffset;
    }

    /** The greatest timestamp added, {@code Long.MIN_VALUE} when none was. */
    public long maxTimestamp() {
        return maxTimestamp;
    }

    /** Position to start scanning at for {@code target}: that of the greatest indexed batch at or below it. */
    public int lookup(long target) {
        return offsets.lookup(target);
    }

    /** The greatest indexed batch position at or below {@code maxPosition}. */
    public int floorPosition(long maxPosition) {
        return offsets.floorPosition(maxPosition);
    }

    /** The offset to start scanning at for the first record with a timestamp at or above {@code timestamp}. */
    public long offsetForTimestamp(long timestamp) {
        return times.lookup(timestamp);
    }

    /** The time index entry below {@code timestamp}, or -1 when none; see {@link TimeIndex#entryBelow}. */
    public long timeEntryBelow(long timestamp) {
        return times.entryBelow(timestamp);
    }

    /** Writes both index files for a segment of {@code segmentSize} bytes (not forced: see IndexFiles). */
    public void writeTo(FileOpener opener, Path indexFile, Path timeIndexFile, long segmentSize) throws IOException {
        long last = lastBatchBase;
        if (last >= 0) {
            times.maybeAppend(maxTimestamp, last);
        }
        offsets.writeTo(opener, indexFile, segmentSize);
        times.writeTo(opener, timeIndexFile, segmentSize);
    }

    /** The directory of the offset index's pages; see {@link OffsetIndex#directory()}. */
    public OffsetIndex.Directory offsetDirectory() {
        return offsets.directory();
    }

    /** Heap these indexes hold, about: their arrays and the objects around them. */
    public long memoryBytes() {
        return 96 + offsets.memoryBytes() + times.memoryBytes();
    }

    long baseOffset() {
        return baseOffset;
    }
}
