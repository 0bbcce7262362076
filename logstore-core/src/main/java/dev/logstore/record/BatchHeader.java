package dev.logstore.record;

import static dev.logstore.record.BatchFormat.*;

import java.nio.ByteBuffer;
import java.util.zip.CRC32C;

/**
 * The fixed-size header of one batch, read without touching the records. Readers hop from batch
 * to batch with it; recovery checks it before trusting the bytes behind it.
 *
 * @param writerEpoch the epoch of the writer that appended the batch; 0 for version 1 batches,
 *                    which predate epochs
 */
public record BatchHeader(long baseOffset, int length, int crc, byte magic, byte attributes, int writerEpoch,
                          int lastOffsetDelta, long firstTimestamp, long maxTimestamp, int recordCount) {

    /**
     * Reads the header that starts at absolute {@code index} of {@code buffer}. The buffer must
     * hold {@link #sizeAt} bytes from there ({@link BatchFormat#MAX_HEADER_SIZE} always suffice);
     * {@link #readIfComplete} checks that for bytes that may end early.
     */
    public static BatchHeader read(ByteBuffer buffer, int index) {
        long baseOffset = buffer.getLong(index + BASE_OFFSET_OFFSET);
        int length = buffer.getInt(index + LENGTH_OFFSET);
        int crc = buffer.getInt(index + CRC_OFFSET);
        byte magic = buffer.get(index + MAGIC_OFFSET);
        byte attributes = buffer.get(index + ATTRIBUTES_OFFSET);
        if (magic == MAGIC || magic == MAGIC_V2) {
            return new BatchHeader(baseOffset, length, crc, magic, attributes,
                    buffer.getInt(index + WRITER_EPOCH_OFFSET),
                    buffer.getInt(index + LAST_OFFSET_DELTA_OFFSET),
                    buffer.getLong(index + FIRST_TIMESTAMP_OFFSET),
                    buffer.getLong(index + MAX_TIMESTAMP_OFFSET),
                    buffer.getInt(index + RECORD_COUNT_OFFSET));
        }
        if (magic == MAGIC_V1) {
            // Version 1 has no writer epoch: the fields after the attributes sit 4 bytes earlier.
            int shift = HEADER_SIZE - V1_HEADER_SIZE;
            return new BatchHeader(baseOffset, length, crc, magic, attributes, 0,
                    buffer.getInt(index + LAST_OFFSET_DELTA_OFFSET - shift),
                    buffer.getLong(index + FIRST_TIMESTAMP_OFFSET - shift),
                    buffer.getLong(index + MAX_TIMESTAMP_OFFSET - shift),
                    buffer.getInt(index + RECORD_COUNT_OFFSET - shift));
        }
        return new BatchHeader(baseOffset, length, crc, magic, attributes, 0, 0, 0, 0, 0);
    }

    /**
     * The header at {@code index}, or null when the {@code available} bytes from there end before
     * the header does (a torn header).
     */
    public static BatchHeader readIfComplete(ByteBuffer buffer, int index, long available) {
        if (available < MIN_HEADER_SIZE || available < sizeAt(buffer, index)) {
            return null;
        }
        return read(buffer, index);
    }

    /**
     * Size of the header at {@code index}, from its magic byte (which needs
     * {@link BatchFormat#MIN_HEADER_SIZE} bytes to be there); an unknown version counts as the
     * smallest, so its {@link #problem()} can be read and reported.
     */
    public static int sizeAt(ByteBuffer buffer, int index) {
        int size = BatchFormat.headerSize(buffer.get(index + MAGIC_OFFSET));
        return size < 0 ? MIN_HEADER_SIZE : size;
    }

    /** Bytes before the first record. */
    public int headerSize() {
        int size = BatchFormat.headerSize(magic);
        return size < 0 ? MIN_HEADER_SIZE : size;
    }

    /** How the records are compressed; {@link Codec#NONE} for versions before 3. */
    public Codec codec() {
        return magic == MAGIC ? Codec.byId(attributes & CODEC_MASK) : Codec.NONE;
    }

    /** True when the records are encrypted (a version 3 batch). */
    public boolean encrypted() {
        return magic == MAGIC && (attributes & ENCRYPTED) != 0;
    }

    /** True when the records follow the header as they are: neither compressed nor encrypted. */
    public boolean plain() {
        return magic != MAGIC || attributes == 0;
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
        if (magic != MAGIC && magic != MAGIC_V2 && magic != MAGIC_V1) {
            return "unknown format version (magic byte " + magic + "; this LogStore reads " + MAGIC_V1 + " to "
                    + MAGIC + ")";
        }
        if ((magic == MAGIC_V2 && attributes != 0)
                || (magic == MAGIC && ((attributes & ~(CODEC_MASK | ENCRYPTED)) != 0 || Codec.byId(attributes & CODEC_MASK) == null))) {
            return String.format("attributes 0x%02x are not understood: the batch was written by a newer LogStore; "
                    + "read it with that version", attributes);
        }
        if (length < headerSize() - LOG_OVERHEAD || length > MAX_BATCH_SIZE - LOG_OVERHEAD) {
            return "impossible batch length " + length;
        }
        if (baseOffset < 0) {
            return "negative base offset " + baseOffset;
        }
        if (writerEpoch < 0) {
            return "negative writer epoch " + writerEpoch;
        }
        if (recordCount < 1) {
            return "record count " + recordCount + " is not positive";
        }
        if (lastOffsetDelta < recordCount - 1) {
            return "last offset delta " + lastOffsetDelta + " cannot hold " + recordCount + " records";
        }
        if (baseOffset > MAX_OFFSET - lastOffsetDelta) {
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
