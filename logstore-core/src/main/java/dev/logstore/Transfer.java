package dev.logstore;

/**
 * What one zero-copy transfer sent.
 *
 * @param bytes      bytes written to the target channel; 0 at the end of the partition
 * @param nextOffset the offset to continue from: the first offset of the first batch not sent
 *                   (the given offset when nothing, or only part of a batch, was taken by a
 *                   non-blocking target)
 */
public record Transfer(long bytes, long nextOffset) {
}
