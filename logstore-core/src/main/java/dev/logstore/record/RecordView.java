package dev.logstore.record;

import dev.logstore.CorruptLogException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * One record of a batch, seen in place: a flyweight over the bytes a reader holds, so reading a
 * record costs no copy and no allocation. A {@link RecordHandler} receives the same view again
 * and again, moved to the next record each time.
 *
 * <p>A view and the buffers it hands out ({@link #key()}, {@link #value()}) are valid only
 * during the handler call that received it: the bytes behind them are overwritten by the next
 * read. Copy what must outlive the call ({@link #keyBytes()}, {@link #valueBytes()},
 * {@link #toLogRecord()}).
 *
 * <p>Every record handed out has passed its batch's CRC-32C and the structure checks of its own
 * fields; a view never shows damaged bytes.
 */
public final class RecordView {

    private final Varints.Reader in = new Varints.Reader();
    // Headers are decoded on demand, during the walk: with a reader of their own.
    private final Varints.Reader headersIn = new Varints.Reader();
    private ByteBuffer bytes;
    private ByteBuffer keyView;
    private ByteBuffer valueView;

    private long offset;
    private long timestamp;
    private int keyPosition;
    private int keyLength;
    private int valuePosition;
    private int valueLength;
    private int headersPosition;
    private int headerCount;

    // Where the batch being walked came from, for error messages.
    private Path file;
    private long filePosition;

    /** The record's offset in its partition. */
    public long offset() {
        return offset;
    }

    /** The record's timestamp in milliseconds since the epoch, or {@link Record#NO_TIMESTAMP}. */
    public long timestamp() {
        return timestamp;
    }

    /** Length of the key in bytes, -1 for a null key. */
    public int keyLength() {
        return keyLength;
    }

    /** Length of the value in bytes, -1 for a null value (a tombstone). */
    public int valueLength() {
        return valueLength;
    }

    /**
     * The key's bytes between position and limit of a read-only buffer, or null for a null key.
     * The same buffer object is reused for every record: valid during the handler call only.
     */
    public ByteBuffer key() {
        return keyLength < 0 ? null : keyView.limit(keyPosition + keyLength).position(keyPosition);
    }

    /**
     * The value's bytes between position and limit of a read-only buffer, or null for a
     * tombstone. The same buffer object is reused for every record: valid during the handler call
     * only.
     */
    public ByteBuffer value() {
        return valueLength < 0 ? null : valueView.limit(valuePosition + valueLength).position(valuePosition);
    }

    /** A copy of the key, or null. */
    public byte[] keyBytes() {
        return copy(keyPosition, keyLength);
    }

    /** A copy of the value, or null for a tombstone. */
    public byte[] valueBytes() {
        return copy(valuePosition, valueLength);
    }

    /** Number of headers. */
    public int headerCount() {
        return headerCount;
    }

    /** The headers, decoded into fresh objects (an empty list when there are none). */
    public List<Header> headers() {
        if (headerCount == 0) {
            return List.of();
        }
        List<Header> headers = new ArrayList<>(headerCount);
        headersIn.position = headersPosition;
        for (int h = 0; h < headerCount; h++) {
            int length = headersIn.readVarint(bytes.limit());
            byte[] key = copy(headersIn.position, length);
            headersIn.position += length;
            int headerValueLength = headersIn.readVarint(bytes.limit());
            headers.add(new Header(new String(key, StandardCharsets.UTF_8), copy(headersIn.position, headerValueLength)));
            headersIn.position += Math.max(headerValueLength, 0);
        }
        return List.copyOf(headers);
    }

    /** A copy of the whole record that outlives the handler call. */
    public LogRecord toLogRecord() {
        return new LogRecord(offset, timestamp, keyBytes(), valueBytes(), headers());
    }

    @Override
    public String toString() {
        return "RecordView[offset=" + offset + ", key=" + describe(keyLength) + ", value=" + describe(valueLength)
                + ", headers=" + headerCount + ", timestamp=" + timestamp + "]";
    }

    private static String describe(int length) {
        return length < 0 ? "null" : length + " bytes";
    }

    private byte[] copy(int at, int length) {
        if (length < 0) {
            return null;
        }
        byte[] copy = new byte[length];
        bytes.get(at, copy);
        return copy;
    }

    // ------------------------------------------------------------------ walking a batch

    /**
     * Walks the records of a checksummed batch, {@code [start, end)} of {@code buffer} (in place
     * for a plain batch, unpacked for a packed one: see {@link BatchUnpacker}), from where
     * {@code cursor} stands, handing those at or above {@code minOffset}, at most
     * {@code maxRecords}, to {@code handler}, and moves the cursor past each record handed or
     * skipped. Each record's fields are checked before it is handed over; when the last record
     * has been walked, that the records fill the batch exactly as its header says. The batch's
     * CRC-32C is the caller's to check first ({@link RecordDecoder#checkCrc}). A handler that
     * throws leaves the cursor before its record.
     *
     * @param file         where the batch came from, for error messages (null for a buffer)
     * @param filePosition where the batch starts in that file
     * @return the number of records handed over
     */
    public int walk(ByteBuffer buffer, int start, int end, BatchHeader header, BatchCursor cursor, long minOffset,
                    int maxRecords, RecordHandler handler, Path file, long filePosition) {
        bind(buffer);
        this.file = file;
        this.filePosition = filePosition;
        int index = start;
        in.position = index + cursor.position;
        int handed = 0;
        while (cursor.record < header.recordCount()) {
            if (handed >= maxRecords) {
                return handed;
            }
            int i = cursor.record;
            int length = varint(end);
            if (length < 0 || length > end - in.position) {
                throw corrupt("record " + i + " claims " + length + " bytes, batch has " + (end - in.position) + " left");
            }
            int recordEnd = in.position + length;
            in.position++; // attributes, reserved
            timestamp = header.firstTimestamp() + varlong(recordEnd);
            int offsetDelta = varint(recordEnd);
            if (offsetDelta <= cursor.previousDelta || offsetDelta > header.lastOffsetDelta()) {
                throw corrupt("record " + i + " has offset delta " + offsetDelta + " after " + cursor.previousDelta
                        + " (last delta " + header.lastOffsetDelta() + ")");
            }
            offset = header.baseOffset() + offsetDelta;
            if (offset >= minOffset) {
                readFields(recordEnd, i);
                handler.onRecord(this);
                handed++;
            }
            in.position = recordEnd;
            cursor.record = i + 1;
            cursor.position = recordEnd - index;
            cursor.previousDelta = offsetDelta;
        }
        if (cursor.previousDelta != header.lastOffsetDelta() || index + cursor.position != end) {
            throw corrupt("records do not fill the batch as its header says");
        }
        return handed;
    }

    /** Parses and checks key, value and headers of the record ending at {@code recordEnd}. */
    private void readFields(int recordEnd, int record) {
        keyLength = readLength(recordEnd, record);
        keyPosition = in.position;
        in.position += Math.max(keyLength, 0);
        valueLength = readLength(recordEnd, record);
        valuePosition = in.position;
        in.position += Math.max(valueLength, 0);
        headerCount = varint(recordEnd);
        if (headerCount < 0 || headerCount > recordEnd - in.position) {
            throw corrupt("record " + record + " claims " + headerCount + " headers");
        }
        headersPosition = in.position;
        for (int h = 0; h < headerCount; h++) {
            int headerKeyLength = readLength(recordEnd, record);
            if (headerKeyLength < 0) {
                throw corrupt("record " + record + " has a null header key");
            }
            in.position += headerKeyLength;
            int headerValueLength = readLength(recordEnd, record);
            in.position += Math.max(headerValueLength, 0);
        }
        if (in.position != recordEnd) {
            throw corrupt("record " + record + " length does not match its fields");
        }
    }

    private void bind(ByteBuffer buffer) {
        if (bytes != buffer) {
            bytes = buffer;
            in.bytes = buffer;
            headersIn.bytes = buffer;
            keyView = buffer.asReadOnlyBuffer();
            valueView = buffer.asReadOnlyBuffer();
        }
    }

    /** A key, value or header length: -1 (null) or a length that fits before {@code recordEnd}. */
    private int readLength(int recordEnd, int record) {
        int length = varint(recordEnd);
        if (length < -1 || length > recordEnd - in.position) {
            throw corrupt("record " + record + ": field length " + length + " overruns its record");
        }
        return length;
    }

    private int varint(int limit) {
        try {
            return in.readVarint(limit);
        } catch (IllegalArgumentException e) {
            throw corrupt(e.getMessage());
        }
    }

    private long varlong(int limit) {
        try {
            return in.readVarlong(limit);
        } catch (IllegalArgumentException e) {
            throw corrupt(e.getMessage());
        }
    }

    private CorruptLogException corrupt(String problem) {
        return new CorruptLogException(file, filePosition, problem);
    }
}
