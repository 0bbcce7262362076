package dev.logstore;

/**
 * How a partition's records are stored: the bytes its batches take on disk against the bytes of
 * their records once decompressed and decrypted. Read from the batch headers alone, so it needs
 * no key.
 *
 * @param partition      the partition
 * @param batches        batches in the partition
 * @param storedBytes    bytes of those batches as stored (headers included)
 * @param recordBytes    bytes of their records once unpacked (without batch headers)
 * @param firstTimestamp the first timestamp of the first batch, or {@link Long#MIN_VALUE} when empty
 */
public record StoredBytes(int partition, long batches, long storedBytes, long recordBytes, long firstTimestamp) {

    /** How many times smaller the records are stored than they are: {@code recordBytes / storedBytes}; 0 when empty. */
    public double ratio() {
        return storedBytes == 0 ? 0 : (double) recordBytes / storedBytes;
    }
}
