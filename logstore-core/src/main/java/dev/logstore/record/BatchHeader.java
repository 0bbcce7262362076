package dev.logstore.record;

import static dev.logstore.record.BatchFormat.*;

import java.nio.ByteBuffer;
import java.util.zip.CRC32C;

/**
 * The fixed-size header of one batch, read without touching the records. Readers hop from batch
 * to batch with it; recovery checks it before trusting the bytes behind it.
 */
public record BatchHeader(long baseOffset, int length, int crc, byte magic, byte attributes,
                          int lastOffsetDelta, long firstTimestamp, long maxTimestamp, int recordCount) {

    /** Reads the header that starts at absolute {@code index} of {@code buffer} (needs {@link BatchFormat#HEADER_SIZE} bytes). */
    public static BatchHeader read(ByteBuffer buffer, int index) {
        return new BatchHeader(
                buffer.getLong(index + BASE_OFFSET_OFFSET),
                buffer.getInt(index + LENGTH_OFFSET),
                buffer.getInt(index + CRC_OFFSET),
                buffer.get(index + MAGIC_OFFSET),
                buffer.get(index + ATTRIBUTES_OFFSET),
                buffer.getInt(index + LAST_OFFSET_DELTA_OFFSET),
                buffer.getLong(index + FIRST_TIMESTAMP_OFFSET),
                buffer.getLong(index + MAX_TIMESTAMP_OFFSET),
                buffer.getInt(index + RECORD_COUNT_OFFSET));
    }

    /** Size of the whole batch in bytes. Only meaningful once {@link #problem()} returned null. */
    public int sizeInBytes() {
        return LOG_OVERHEAD + length;
    }

    /** Offset of the last record in the batch. */
    public long lastOffset() {
        return baseOffset + lastOffsetDelta;
    }

    /** Offset that follows this batch. */
    public long nextOffset() {
        return lastOffset() + 1;
    }

    /**
     * Checks the fields that can be checked without the records.
     *
     * @return a description of the first inconsistency, or null when the header is plausible
     */
    public String problem() {
        if (magic != MAGIC) {
            return "unknown format version (magic byte " + magic + ", expected " + MAGIC + ")";
        }
        if (length < HEADER_SIZE - LOG_OVERHEAD || length > MAX_BATCH_SIZE - LOG_OVERHEAD) {
            return "impossible batch length " + length;
        }
        if (baseOffset < 0) {
            return "negative base offset " + baseOffset;
        }
        if (recordCount < 1) {
            return "record count " + recordCount + " is not positive";
        }
        if (lastOffsetDelta < recordCount - 1) {
            return "last offset delta " + lastOffsetDelta + " cannot hold " + recordCount + " records";
        }
        if (baseOffset > Long.MAX_VALUE - lastOffsetDelta - 1) {
            return "base offset " + baseOffset + " overflows";
        }
        if (maxTimestamp < firstTimestamp) {
            return "max timestamp " + maxTimestamp + " is below first timestamp " + firstTimestamp;
        }
        return null;
    }

    /**
     * Computes the CRC-32C of the whole batch that starts at absolute {@code index} of
     * {@code buffer} (the buffer must hold all {@link #sizeInBytes()} bytes).
     */
    public static int computeCrc(ByteBuffer buffer, int index, int sizeInBytes) {
        CRC32C crc32c = new CRC32C();
        ByteBuffer view = buffer.duplicate();
        view.limit(index + CRC_OFFSET).position(index);
        crc32c.update(view);
        view.limit(index + sizeInBytes).position(index + MAGIC_OFFSET);
        crc32c.update(view);
        return (int) crc32c.getValue();
    }
}
