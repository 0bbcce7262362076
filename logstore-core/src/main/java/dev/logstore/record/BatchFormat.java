package dev.logstore.record;

/**
 * The on-disk batch layout. FORMAT.md in the project root documents the same bytes; keep the two
 * in step. All integers are big-endian. Format version 3 is written; versions 2 and 1 (LogStore
 * 0.1) are still read.
 *
 * <pre>
 *  version 3 (magic 3), 46-byte header
 *  offset size field            meaning
 *  ------ ---- ---------------- ---------------------------------------------------------------
 *       0    8 baseOffset       offset of the first record
 *       8    4 length           bytes after this field (whole batch = 12 + length)
 *      12    4 crc              CRC-32C of bytes [0, 12) and [16, 12 + length), as stored
 *      16    1 magic            3
 *      17    1 attributes       bits 0-2 codec (0 none, 1 lz4, 2 zstd), bit 3 encrypted, others 0
 *      18    4 writerEpoch      epoch of the writer that appended the batch (see FORMAT.md)
 *      22    4 lastOffsetDelta  offset of the last record minus baseOffset
 *      26    8 firstTimestamp   timestamp of the first record
 *      34    8 maxTimestamp     largest timestamp in the batch
 *      42    4 recordCount      number of records, at least 1
 *      46    . body             attributes 0: the records. Otherwise (see BatchPacking):
 *                                 int32 recordsSize  bytes of the records once unpacked
 *                                 if encrypted: uint8 keyIdLength, keyId (UTF-8), 12-byte nonce
 *                                 payload: the records compressed by the codec (or as they are),
 *                                 then, if encrypted, AES-256-GCM of that with its 16-byte tag
 *
 *  the records: recordCount records, each:
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
 *
 *  version 2 (magic 2): the same header, attributes always 0, the records right after it.
 *  version 1 (magic 1), 42-byte header: the same without writerEpoch, so lastOffsetDelta is at
 *  18, firstTimestamp at 22, maxTimestamp at 30, recordCount at 38 and the records start at 42.
 * </pre>
 *
 * Varints are zig-zag encoded base-128 as in Protocol Buffers (and Kafka's record format v2).
 * The first 17 bytes are laid out alike in every version, so a reader learns the header size
 * from the magic byte. The CRC covers the base offset, so a flipped bit anywhere but in the
 * length field is caught by the checksum; a flipped length is caught by the bounds and checksum
 * together.
 */
public final class BatchFormat {

    /** The version written. */
    public static final byte MAGIC = 3;
    /** The version LogStore wrote before batches could be compressed or encrypted; still read. */
    public static final byte MAGIC_V2 = 2;
    /** The version LogStore 0.1 wrote; still read. */
    public static final byte MAGIC_V1 = 1;

    public static final int BASE_OFFSET_OFFSET = 0;
    public static final int LENGTH_OFFSET = 8;
    public static final int CRC_OFFSET = 12;
    public static final int MAGIC_OFFSET = 16;
    public static final int ATTRIBUTES_OFFSET = 17;
    public static final int WRITER_EPOCH_OFFSET = 18;
    public static final int LAST_OFFSET_DELTA_OFFSET = 22;
    public static final int FIRST_TIMESTAMP_OFFSET = 26;
    public static final int MAX_TIMESTAMP_OFFSET = 34;
    public static final int RECORD_COUNT_OFFSET = 42;

    /** Attribute bits naming the codec of a version 3 batch ({@link Codec#id()}). */
    public static final int CODEC_MASK = 0x07;
    /** Attribute bit of a version 3 batch whose payload is encrypted. */
    public static final int ENCRYPTED = 0x08;
    /** Bytes of an encrypted batch's nonce. */
    public static final int NONCE_SIZE = 12;
    /** Bytes of an encrypted batch's authentication tag, after its ciphertext. */
    public static final int TAG_SIZE = 16;

    /** Bytes before the first record (or the packed body) in versions 3 and 2. */
    public static final int HEADER_SIZE = 46;
    /** Bytes before the first record in version 1. */
    public static final int V1_HEADER_SIZE = 42;
    /** The smallest header of any version: fewer bytes than this cannot start a batch. */
    public static final int MIN_HEADER_SIZE = V1_HEADER_SIZE;
    /** The largest header of any version: reading this many bytes (or to the end) yields any header. */
    public static final int MAX_HEADER_SIZE = HEADER_SIZE;
    /** Bytes of the two leading fields (base offset and length) that the length does not count. */
    public static final int LOG_OVERHEAD = 12;

    /**
     * Upper bound on one batch, a guard against hostile or corrupt length fields: nothing larger
     * is ever written, so nothing larger is ever trusted.
     */
    public static final int MAX_BATCH_SIZE = Integer.MAX_VALUE - 64;

    /** The largest offset a record may have: the offset after it must still be representable. */
    public static final long MAX_OFFSET = Long.MAX_VALUE - 1;

    private BatchFormat() {
    }

    /** Header size of a batch with this magic byte, or -1 for a version this LogStore does not know. */
    public static int headerSize(byte magic) {
        return magic == MAGIC || magic == MAGIC_V2 ? HEADER_SIZE : magic == MAGIC_V1 ? V1_HEADER_SIZE : -1;
    }
}
