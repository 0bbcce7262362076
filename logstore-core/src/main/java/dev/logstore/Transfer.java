package dev.logstore;

import dev.logstore.log.BatchReads;
import java.util.Objects;

/**
 * What one zero-copy transfer sent, and where the next one continues.
 *
 * <p>{@link #bytes}, {@link #nextOffset} and {@link #nextBatchBytesSent} say all a caller needs.
 * A transfer made by the store also remembers, for its continuation ({@link LogStore#transfer(int,
 * Transfer, long, java.nio.channels.WritableByteChannel)}), which stored batch it sent last: where
 * {@code nextOffset} falls in a gap of offsets, the continuation then knows the batch before the
 * gap went out whole and does not read it again to check it. A {@code Transfer} built with the
 * public constructor has no such memory, and its continuation checks that batch; so does the
 * continuation through another partition, another store, this store opened again, or into a
 * segment a writer taking over made anew with the same base offset.
 */
public final class Transfer {

    private final long bytes;
    private final long nextOffset;
    private final int nextBatchBytesSent;
    /** The last batch sent whole, by which partition handle; null when not known. */
    private final BatchReads.SentBatch lastSent;

    /**
     * A transfer's outcome as the caller knows it ({@link #bytes}, {@link #nextOffset},
     * {@link #nextBatchBytesSent}), for instance kept from an earlier run, to continue from with
     * {@link LogStore#transfer(int, Transfer, long, java.nio.channels.WritableByteChannel)}.
     */
    public Transfer(long bytes, long nextOffset, int nextBatchBytesSent) {
        this(bytes, nextOffset, nextBatchBytesSent, null);
    }

    Transfer(long bytes, long nextOffset, int nextBatchBytesSent, BatchReads.SentBatch lastSent) {
        this.bytes = bytes;
        this.nextOffset = nextOffset;
        this.nextBatchBytesSent = nextBatchBytesSent;
        this.lastSent = lastSent;
    }

    /** Bytes written to the target channel; 0 at the end of the partition. */
    public long bytes() {
        return bytes;
    }

    /**
     * Where to continue: the offset after the last batch wholly sent (in a partition with offset
     * gaps, it may fall in the gap before the next batch); after part of a batch, that batch's
     * base offset (when the batch's checksum fails, the offset that found it, and the continuation
     * or the receiver's decoder reports the damage).
     */
    public long nextOffset() {
        return nextOffset;
    }

    /**
     * Bytes of the batch at {@link #nextOffset} that a non-blocking target already took (0 when
     * the transfer ended at a batch boundary); pass this {@code Transfer} to {@link
     * LogStore#transfer(int, Transfer, long, java.nio.channels.WritableByteChannel)} to send the
     * rest without sending those bytes twice.
     */
    public int nextBatchBytesSent() {
        return nextBatchBytesSent;
    }

    /** True when the transfer ended between two batches. */
    public boolean atBatchBoundary() {
        return nextBatchBytesSent == 0;
    }

    BatchReads.SentBatch lastSent() {
        return lastSent;
    }

    /** Equal when bytes, next offset and bytes of the next batch sent are; what it remembers does not count. */
    @Override
    public boolean equals(Object o) {
        return o instanceof Transfer other && bytes == other.bytes && nextOffset == other.nextOffset
                && nextBatchBytesSent == other.nextBatchBytesSent;
    }

    @Override
    public int hashCode() {
        return Objects.hash(bytes, nextOffset, nextBatchBytesSent);
    }

    @Override
    public String toString() {
        return "Transfer[bytes=" + bytes + ", nextOffset=" + nextOffset + ", nextBatchBytesSent="
                + nextBatchBytesSent + "]";
    }
}
