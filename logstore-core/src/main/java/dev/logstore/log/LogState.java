package dev.logstore.log;

import dev.logstore.CorruptLogException;
import dev.logstore.segment.Segment;
import java.nio.file.Path;

/**
 * One immutable snapshot of a partition, published through a single volatile reference: its
 * segments, start offset and published end. A reader takes one snapshot and decides everything
 * from it (which segment holds an offset, how far it may read, whether an offset was removed),
 * so no decision rests on two reads of state that may change in between.
 *
 * <p>The segments are in ascending base offset order. Every segment but the last is sealed, and
 * is read up to the size its summary records. The last is the active segment, read up to
 * {@link #activeSize()} as of this snapshot, even if it was sealed since; or, when
 * {@link #lastSealed()}, a sealed one too.
 */
public final class LogState {

    /** Damage found where a followed partition's valid data ends. */
    record Damage(Path file, long position, String reason) {
        CorruptLogException exception() {
            return new CorruptLogException(file, position, reason);
        }
    }

    private final Segment[] segments;
    private final long startOffset;
    private final long nextOffset;
    private final long activeSize;
    private final long activeMaxTimestamp;
    private final boolean lastSealed;
    private final Damage damage;

    LogState(Segment[] segments, long startOffset, long nextOffset, long activeSize, long activeMaxTimestamp,
             boolean lastSealed, Damage damage) {
        this.segments = segments;
        this.startOffset = startOffset;
        this.nextOffset = nextOffset;
        this.activeSize = activeSize;
        this.activeMaxTimestamp = activeMaxTimestamp;
        this.lastSealed = lastSealed;
        this.damage = damage;
    }

    /** A partition with no segment (a read-only view of a partition never written). */
    static LogState empty(long startOffset) {
        return new LogState(new Segment[0], startOffset, startOffset, 0, Long.MIN_VALUE, true, null);
    }

    /** Offsets below this were removed by retention, or never written. */
    public long startOffset() {
        return startOffset;
    }

    /** One past the last published record. */
    public long nextOffset() {
        return nextOffset;
    }

    public int segmentCount() {
        return segments.length;
    }

    public Segment segment(int index) {
        return segments[index];
    }

    /** True when the last segment is sealed too (a followed partition whose writer closed cleanly). */
    public boolean lastSealed() {
        return lastSealed;
    }

    /** Published end of the last segment, when it is active. */
    public long activeSize() {
        return activeSize;
    }

    /** How far segment {@code index} may be read in this snapshot. */
    public long end(int index) {
        if (index == segments.length - 1 && !lastSealed) {
            return activeSize;
        }
        return segments[index].summary().size();
    }

    /** The greatest record timestamp of segment {@code index} in this snapshot. */
    public long maxTimestamp(int index) {
        if (index == segments.length - 1 && !lastSealed) {
            return activeMaxTimestamp;
        }
        return segments[index].summary().maxTimestamp();
    }

    /** True when segment {@code index} is sealed in this snapshot: nothing will ever follow its end. */
    public boolean sealed(int index) {
        return index < segments.length - 1 || lastSealed;
    }

    /**
     * Index of the segment that holds {@code offset}: the last whose base offset is at or below
     * it, or 0 when the offset lies before every segment. -1 when there are no segments.
     */
    public int floorIndex(long offset) {
        int lo = 0;
        int hi = segments.length - 1;
        if (hi < 0) {
            return -1;
        }
        while (lo < hi) {
            int mid = (lo + hi + 1) >>> 1;
            if (segments[mid].baseOffset() <= offset) {
                lo = mid;
            } else {
                hi = mid - 1;
            }
        }
        return lo;
    }

    /** Index of exactly this segment object, or -1 when it is not part of this snapshot. */
    public int indexOf(Segment segment) {
        int i = floorIndex(segment.baseOffset());
        return i >= 0 && segments[i] == segment ? i : -1;
    }

    /** Bytes of every segment as far as this snapshot may read them. */
    public long sizeInBytes() {
        long total = 0;
        for (int i = 0; i < segments.length; i++) {
            total += end(i);
        }
        return total;
    }

    /** The greatest record timestamp, {@code Long.MIN_VALUE} when empty. */
    public long maxTimestamp() {
        long max = Long.MIN_VALUE;
        for (int i = 0; i < segments.length; i++) {
            max = Math.max(max, maxTimestamp(i));
        }
        return max;
    }

    /** Throws the damage a follower found where the valid data ends, if any. */
    public void checkDamage() {
        if (damage != null) {
            throw damage.exception();
        }
    }

    Damage damage() {
        return damage;
    }
}
