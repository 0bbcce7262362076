package dev.logstore;

/**
 * What one zero-copy transfer sent, and where the next one continues.
 *
 * @param bytes            bytes written to the target channel; 0 at the end of the partition
 * @param nextOffset       where to continue: the offset after the last batch wholly sent (in a
 *                         partition with offset gaps, it may fall in the gap before the next
 *                         batch); after part of a batch, that batch's base offset (when
 *                         the batch's checksum fails, the offset that found it, and the
 *                         continuation or the receiver's decoder reports the damage)
 * @param nextBatchBytesSent bytes of the batch at {@code nextOffset} that a non-blocking target
 *                         already took (0 when the transfer ended at a batch boundary); pass this
 *                         {@code Transfer} to {@link LogStore#transfer(int, Transfer, long,
 *                         java.nio.channels.WritableByteChannel)} to send the rest without
 *                         sending those bytes twice
 */
public record Transfer(long bytes, long nextOffset, int nextBatchBytesSent) {

    /** True when the transfer ended between two batches. */
    public boolean atBatchBoundary() {
        return nextBatchBytesSent == 0;
    }
}
