package dev.logstore.record;

import static dev.logstore.record.BatchFormat.HEADER_SIZE;

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
     * Walks the records of a checksummed batch at {@code index} of {@code buffer}, handing those
     * at or above {@code minOffset}, at most {@code maxRecords}, to {@code handler}. Each record's
     * fields are checked before it is handed over.
     *
     * @return the number of records handed over
     */
    int walk(ByteBuffer buffer, int index, BatchHeader header, Path file, long filePosition, long minOffset,
             int maxRecords, RecordHandler handler) {
        bind(buffer);
        this.file = file;
        this.filePosition = filePosition;
        int end = index + header.sizeInBytes();
        in.position = index + HEADER_SIZE;
        int handed = 0;
        int previousDelta = -1;
        for (int i = 0; i < header.recordCount(); i++) {
            int length = varint(end);
            if (length < 0 || length > end - in.position) {
                throw corrupt("record " + i + " claims " + length + " bytes, batch has " + (end - in.position) + " left");
            }
            int recordEnd = in.position + length;
            in.position++; // attributes, reserved
            timestamp = header.firstTimestamp() + varlong(recordEnd);
            int offsetDelta = varint(recordEnd);
            if (offsetDelta <= previousDelta || offsetDelta > header.lastOffsetDelta()) {
                throw corrupt("record " + i + " has offset delta " + offsetDelta + " after " + previousDelta
                        + " (last delta " + header.lastOffsetDelta() + ")");
            }
            previousDelta = offsetDelta;
            offset = header.baseOffset() + offsetDelta;
            if (offset < minOffset || handed >= maxRecords) {
                in.position = recordEnd;
                continue;
            }
            keyLength = readLength(recordEnd, i);
            keyPosition = in.position;
            in.position += Math.max(keyLength, 0);
            valueLength = readLength(recordEnd, i);
            valuePosition = in.position;
            in.position += Math.max(valueLength, 0);
            headerCount = varint(recordEnd);
            if (headerCount < 0 || headerCount > recordEnd - in.position) {
                throw corrupt("record " + i + " claims " + headerCount + " headers");
            }
            headersPosition = in.position;
            for (int h = 0; h < headerCount; h++) {
                int headerKeyLength = readLength(recordEnd, i);
                if (headerKeyLength < 0) {
                    throw corrupt("record " + i + " has a null header key");
                }
                in.position += headerKeyLength;
                int headerValueLength = readLength(recordEnd, i);
                in.position += Math.max(headerValueLength, 0);
            }
            if (in.position != recordEnd) {
                throw corrupt("record " + i + " length does not match its fields");
            }
            handler.onRecord(this);
            handed++;
        }
        if (previousDelta != header.lastOffsetDelta() || in.position != end) {
            throw corrupt("records do not fill the batch as its header says");
        }
        return handed;
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
