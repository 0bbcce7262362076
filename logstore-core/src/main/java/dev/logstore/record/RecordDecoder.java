package dev.logstore.record;

import static dev.logstore.record.BatchFormat.*;

import dev.logstore.BufferTooSmallException;
import dev.logstore.CorruptLogException;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * Turns batch bytes, as filled in by {@code LogStore.read}, back into records. Every batch's
 * checksum is verified first: a damaged record is never returned.
 */
public final class RecordDecoder {

    private RecordDecoder() {
    }

    /**
     * Decodes every whole batch between the buffer's position and limit. The buffer's position
     * is not changed.
     *
     * @throws BufferTooSmallException when the bytes hold part of a batch but not one whole batch
     * @throws CorruptLogException     when a batch fails its checks
     */
    public static List<LogRecord> decode(ByteBuffer bytes) {
        List<LogRecord> records = new ArrayList<>();
        decode(bytes, records::add);
        return records;
    }

    /** Like {@link #decode(ByteBuffer)}, handing each record to {@code sink} in offset order. */
    public static void decode(ByteBuffer bytes, Consumer<LogRecord> sink) {
        int position = bytes.position();
        int limit = bytes.limit();
        boolean decodedAny = false;
        while (position < limit) {
            int available = limit - position;
            if (available < HEADER_SIZE) {
                if (!decodedAny) {
                    throw new BufferTooSmallException("buffer holds " + available + " bytes, less than one batch header ("
                            + HEADER_SIZE + " bytes); read with a larger buffer", HEADER_SIZE);
                }
                return;
            }
            BatchHeader header = checkHeader(bytes, position, null, position);
            if (header.sizeInBytes() > available) {
                if (!decodedAny) {
                    throw new BufferTooSmallException("buffer holds " + available + " bytes of a " + header.sizeInBytes()
                            + "-byte batch at offset " + header.baseOffset() + "; read with a buffer of at least "
                            + header.sizeInBytes() + " bytes", header.sizeInBytes());
                }
                return;
            }
            decodeBatch(bytes, position, header, null, position, Long.MIN_VALUE, Integer.MAX_VALUE, sink);
            position += header.sizeInBytes();
            decodedAny = true;
        }
    }

    /**
     * Reads and checks the header at {@code index}; the caller must have made sure
     * {@link BatchFormat#HEADER_SIZE} bytes are there.
     *
     * @param file         where the bytes came from, for the error message (null for a buffer)
     * @param filePosition where the batch starts in that file
     */
    public static BatchHeader checkHeader(ByteBuffer bytes, int index, Path file, long filePosition) {
        BatchHeader header = BatchHeader.read(bytes, index);
        String problem = header.problem();
        if (problem != null) {
            throw new CorruptLogException(file, filePosition, problem);
        }
        return header;
    }

    /**
     * Verifies the checksum of the batch at {@code index} (all of it in {@code bytes}) and hands
     * its records with offsets at or above {@code minOffset}, at most {@code maxRecords}, to
     * {@code sink}.
     *
     * @return the number of records handed over
     */
    public static int decodeBatch(ByteBuffer bytes, int index, BatchHeader header, Path file, long filePosition,
                                  long minOffset, int maxRecords, Consumer<LogRecord> sink) {
        int end = index + header.sizeInBytes();
        int crc = BatchHeader.computeCrc(bytes, index, header.sizeInBytes());
        if (crc != header.crc()) {
            throw new CorruptLogException(file, filePosition, String.format(
                    "CRC-32C mismatch (stored %08x, computed %08x)", header.crc(), crc));
        }
        ByteBuffer in = bytes.duplicate();
        in.limit(end).position(index + HEADER_SIZE);
        int handed = 0;
        int previousDelta = -1;
        try {
            for (int i = 0; i < header.recordCount(); i++) {
                int length = Varints.readVarint(in);
                if (length < 0 || length > in.remaining()) {
                    throw new CorruptLogException(file, filePosition, "record " + i + " claims " + length
                            + " bytes, batch has " + in.remaining() + " left");
                }
                int recordEnd = in.position() + length;
                in.get(); // attributes, reserved
                long timestamp = header.firstTimestamp() + Varints.readVarlong(in);
                int offsetDelta = Varints.readVarint(in);
                if (offsetDelta <= previousDelta || offsetDelta > header.lastOffsetDelta()) {
                    throw new CorruptLogException(file, filePosition, "record " + i + " has offset delta " + offsetDelta
                            + " after " + previousDelta + " (last delta " + header.lastOffsetDelta() + ")");
                }
                previousDelta = offsetDelta;
                long offset = header.baseOffset() + offsetDelta;
                if (offset < minOffset || handed >= maxRecords) {
                    in.position(recordEnd);
                    continue;
                }
                byte[] key = readBytes(in, recordEnd, file, filePosition);
                byte[] value = readBytes(in, recordEnd, file, filePosition);
                int headerCount = Varints.readVarint(in);
                if (headerCount < 0 || headerCount > recordEnd - in.position()) {
                    throw new CorruptLogException(file, filePosition, "record " + i + " claims " + headerCount + " headers");
                }
                List<Header> headers = headerCount == 0 ? List.of() : new ArrayList<>(headerCount);
                for (int h = 0; h < headerCount; h++) {
                    byte[] headerKey = readBytes(in, recordEnd, file, filePosition);
                    if (headerKey == null) {
                        throw new CorruptLogException(file, filePosition, "record " + i + " has a null header key");
                    }
                    headers.add(new Header(new String(headerKey, StandardCharsets.UTF_8),
                            readBytes(in, recordEnd, file, filePosition)));
                }
                if (in.position() != recordEnd) {
                    throw new CorruptLogException(file, filePosition, "record " + i + " length does not match its fields");
                }
                sink.accept(new LogRecord(offset, timestamp, key, value, headerCount == 0 ? headers : List.copyOf(headers)));
                handed++;
            }
        } catch (BufferUnderflowException | IllegalArgumentException e) {
            throw new CorruptLogException(file, filePosition, "records overrun the batch: " + e.getMessage());
        }
        if (previousDelta != header.lastOffsetDelta() || in.position() != end) {
            throw new CorruptLogException(file, filePosition, "records do not fill the batch as its header says");
        }
        return handed;
    }

    private static byte[] readBytes(ByteBuffer in, int recordEnd, Path file, long filePosition) {
        int length = Varints.readVarint(in);
        if (length == -1) {
            return null;
        }
        if (length < -1 || length > recordEnd - in.position()) {
            throw new CorruptLogException(file, filePosition, "field length " + length + " overruns its record");
        }
        byte[] bytes = new byte[length];
        in.get(bytes);
        return bytes;
    }
}
