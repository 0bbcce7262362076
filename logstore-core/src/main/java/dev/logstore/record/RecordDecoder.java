package dev.logstore.record;

import static dev.logstore.record.BatchFormat.*;

import dev.logstore.BufferTooSmallException;
import dev.logstore.CorruptLogException;
import dev.logstore.KeyProvider;
import java.nio.ByteBuffer;
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
     * Decodes every whole batch between the buffer's position and limit; part of a batch after
     * them is left for the next read. The buffer's position is not changed. For bytes that are
     * whole batches by contract (what {@code LogStore.read} and {@code transfer} give), use
     * {@link #decodeWhole}, which reports such a part as damage.
     *
     * @throws BufferTooSmallException when the bytes hold part of a batch but not one whole batch
     * @throws CorruptLogException     when a batch fails its checks
     */
    public static List<LogRecord> decode(ByteBuffer bytes) {
        return decodeWithKeys(bytes, null);
    }

    /**
     * Like {@link #decode(ByteBuffer)}, decrypting encrypted batches with the keys of {@code keys}.
     *
     * @throws dev.logstore.EncryptionKeyException when a batch's key is not among them
     */
    public static List<LogRecord> decodeWithKeys(ByteBuffer bytes, KeyProvider keys) {
        List<LogRecord> records = new ArrayList<>();
        forEach(bytes, keys, record -> records.add(record.toLogRecord()));
        return records;
    }

    /**
     * Like {@link #decode(ByteBuffer)}, for bytes that are whole batches: what a
     * {@code LogStore.read} filled in or a {@code transfer} sent (all of its bytes, or all of a
     * chain of transfers continued from one another). Part of a batch after whole ones is damage
     * (a length that does not match), reported after the records of the batches before it, which
     * {@code sink} gets first.
     *
     * @throws CorruptLogException when a batch fails its checks, or whole batches are followed by
     *                             part of one
     */
    public static void decodeWhole(ByteBuffer bytes, Consumer<LogRecord> sink) {
        forEachWhole(bytes, null, record -> sink.accept(record.toLogRecord()));
    }

    /** Like {@link #decodeWhole}, in place, decrypting with the keys of {@code keys} (null: none). */
    public static void forEachWhole(ByteBuffer bytes, KeyProvider keys, RecordHandler handler) {
        forEach(bytes, keys, handler, true);
    }

    /** Like {@link #decode(ByteBuffer)}, handing each record to {@code sink} in offset order. */
    public static void decode(ByteBuffer bytes, Consumer<LogRecord> sink) {
        forEach(bytes, null, record -> sink.accept(record.toLogRecord()));
    }

    /**
     * Like {@link #decode(ByteBuffer)}, handing each record in place, without copying it, to
     * {@code handler} in offset order. The view is valid during the call only.
     */
    public static void forEach(ByteBuffer bytes, RecordHandler handler) {
        forEach(bytes, null, handler);
    }

    /** Like {@link #forEach(ByteBuffer, RecordHandler)}, decrypting with the keys of {@code keys} (null: none). */
    public static void forEach(ByteBuffer bytes, KeyProvider keys, RecordHandler handler) {
        forEach(bytes, keys, handler, false);
    }

    private static void forEach(ByteBuffer bytes, KeyProvider keys, RecordHandler handler, boolean whole) {
        RecordView view = new RecordView();
        BatchUnpacker unpacker = new BatchUnpacker(keys);
        int position = bytes.position();
        int limit = bytes.limit();
        boolean decodedAny = false;
        while (position < limit) {
            int available = limit - position;
            if (available < MIN_HEADER_SIZE || available < BatchHeader.sizeAt(bytes, position)) {
                if (!decodedAny) {
                    throw new BufferTooSmallException("buffer holds " + available + " bytes, less than one batch header ("
                            + MAX_HEADER_SIZE + " bytes); read with a larger buffer", MAX_HEADER_SIZE);
                }
                if (whole) {
                    throw partAfterWholeBatches(position, available, "less than a batch header");
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
                if (whole) {
                    throw partAfterWholeBatches(position, available, "the batch there claims " + header.sizeInBytes()
                            + " bytes");
                }
                return;
            }
            decodeBatch(bytes, position, header, null, position, Long.MIN_VALUE, Integer.MAX_VALUE, unpacker, view,
                    handler);
            position += header.sizeInBytes();
            decodedAny = true;
        }
    }

    private static CorruptLogException partAfterWholeBatches(int position, int available, String what) {
        return new CorruptLogException(null, position, "whole batches are followed by " + available + " bytes, "
                + what + ": reads and transfers give whole batches, so a length before or at this batch is damaged");
    }

    /**
     * Reads and checks the header at {@code index}; the caller must have made sure the header's
     * bytes are there ({@link BatchHeader#sizeAt}).
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
     * Verifies the checksum of the batch at {@code index} (all of it in {@code bytes}), unpacks
     * it, and hands its records with offsets at or above {@code minOffset}, at most
     * {@code maxRecords}, to {@code handler} through {@code view}: in place for a plain batch.
     *
     * @return the number of records handed over
     */
    public static int decodeBatch(ByteBuffer bytes, int index, BatchHeader header, Path file, long filePosition,
                                  long minOffset, int maxRecords, BatchUnpacker unpacker, RecordView view,
                                  RecordHandler handler) {
        checkCrc(bytes, index, header, file, filePosition);
        unpacker.unpack(bytes, index, header, file, filePosition);
        return view.walk(unpacker.records(), unpacker.start(), unpacker.end(), header, new BatchCursor(), minOffset,
                maxRecords, handler, file, filePosition);
    }

    /**
     * Verifies the CRC-32C of the whole batch at {@code index} of {@code bytes}.
     *
     * @throws CorruptLogException naming the file and position when it does not match
     */
    public static void checkCrc(ByteBuffer bytes, int index, BatchHeader header, Path file, long filePosition) {
        int crc = BatchHeader.computeCrc(bytes, index, header.sizeInBytes());
        if (crc != header.crc()) {
            throw new CorruptLogException(file, filePosition, String.format(
                    "CRC-32C mismatch (stored %08x, computed %08x)", header.crc(), crc));
        }
    }
}
