package dev.logstore.record;

/**
 * The on-disk batch layout, format version 1. FORMAT.md in the project root documents the same
 * bytes; keep the two in step. All integers are big-endian.
 *
 * <pre>
 *  offset size field            meaning
 *  ------ ---- ---------------- ---------------------------------------------------------------
 *       0    8 baseOffset       offset of the first record
 *       8    4 length           bytes after this field (whole batch = 12 + length)
 *      12    4 crc              CRC-32C of bytes [0, 12) and [16, 12 + length)
 *      16    1 magic            format version, 1
 *      17    1 attributes       reserved, 0
 *      18    4 lastOffsetDelta  offset of the last record minus baseOffset
 *      22    8 firstTimestamp   timestamp of the first record
 *      30    8 maxTimestamp     largest timestamp in the batch
 *      38    4 recordCount      number of records, at least 1
 *      42    . records          recordCount records, each:
 *
 *            varint  length          bytes of the record after this field
 *            int8    attributes      reserved, 0
 *            varlong timestampDelta  timestamp - firstTimestamp
 *            varint  offsetDelta     offset - baseOffset (strictly increasing)
 *            varint  keyLength       -1 for a null key
 *            bytes   key
 *            varint  valueLength     -1 for a null value (tombstone)
 *            bytes   value
 *            varint  headerCount
 *              varint headerKeyLength, bytes headerKey (UTF-8)
 *              varint headerValueLength (-1 for null), bytes headerValue
 * </pre>
 *
 * Varints are zig-zag encoded base-128 as in Protocol Buffers (and Kafka's record format v2).
 * The CRC covers the base offset, so a flipped bit anywhere but in the length field is caught
 * by the checksum; a flipped length is caught by the bounds and checksum together.
 */
public final class BatchFormat {

    public static final byte MAGIC = 1;

    public static final int BASE_OFFSET_OFFSET = 0;
    public static final int LENGTH_OFFSET = 8;
    public static final int CRC_OFFSET = 12;
    public static final int MAGIC_OFFSET = 16;
    public static final int ATTRIBUTES_OFFSET = 17;
    public static final int LAST_OFFSET_DELTA_OFFSET = 18;
    public static final int FIRST_TIMESTAMP_OFFSET = 22;
    public static final int MAX_TIMESTAMP_OFFSET = 30;
    public static final int RECORD_COUNT_OFFSET = 38;

    /** Bytes before the first record. */
    public static final int HEADER_SIZE = 42;
    /** Bytes of the two leading fields (base offset and length) that the length does not count. */
    public static final int LOG_OVERHEAD = 12;

    /**
     * Upper bound on one batch, a guard against hostile or corrupt length fields: nothing larger
     * is ever written, so nothing larger is ever trusted.
     */
    public static final int MAX_BATCH_SIZE = Integer.MAX_VALUE - 64;

    private BatchFormat() {
    }
}
