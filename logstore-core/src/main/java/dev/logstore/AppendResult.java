package dev.logstore;

/**
 * Where an append landed.
 *
 * @param partition  the partition written
 * @param baseOffset offset of the first record
 * @param lastOffset offset of the last record (equal to the base offset for one record)
 */
public record AppendResult(int partition, long baseOffset, long lastOffset) {
}
