package dev.logstore.segment;

/**
 * What a sealed segment holds, as its partition's manifest records it: readers never read past
 * {@code size}, whatever the file holds beyond (a fenced writer's late bytes, a torn tail).
 *
 * @param size         bytes of whole, valid batches
 * @param nextOffset   the offset after the segment's last record (its base offset when empty)
 * @param maxTimestamp the greatest record timestamp, {@code Long.MIN_VALUE} when empty
 */
public record SegmentSummary(long size, long nextOffset, long maxTimestamp) {
}
