package dev.logstore;

/**
 * A snapshot of one partition.
 *
 * @param partition    partition number
 * @param startOffset  the lowest offset that can be read (moves up with retention)
 * @param nextOffset   the offset the next appended record gets, at the least
 * @param sizeInBytes  bytes in all segment files
 * @param segments     number of segment files
 * @param maxTimestamp greatest record timestamp, or {@code Long.MIN_VALUE} when empty
 */
public record PartitionInfo(int partition, long startOffset, long nextOffset, long sizeInBytes, int segments,
                            long maxTimestamp) {

    public boolean isEmpty() {
        return startOffset == nextOffset;
    }
}
