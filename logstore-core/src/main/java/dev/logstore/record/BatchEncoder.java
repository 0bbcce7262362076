package dev.logstore.record;

import static dev.logstore.record.BatchFormat.*;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * Encodes records into one batch (see {@link BatchFormat}), compressed and encrypted as its
 * {@link Packing} says, in a reusable direct buffer, so a
 * steady stream of appends allocates nothing but the occasional larger buffer. The buffer is
 * allocated on the first append and shrinks back after an unusually large batch, so an idle or
 * small writer holds little memory. Not thread-safe: one encoder per writer.
 */
public final class BatchEncoder implements AutoCloseable {

    private final int writerEpoch;
    /** Compresses and encrypts batches; null when they are stored as they are. */
    private final BatchPacker packer;
    private ByteBuffer buffer;
    private int[] bodySizes = new int[64];

    /** An encoder for batches of writer epoch 0 (tools and tests that write no partition). */
    public BatchEncoder() {
        this(0);
    }

    /** An encoder whose batches carry {@code writerEpoch} (see FORMAT.md). */
    public BatchEncoder(int writerEpoch) {
        this(writerEpoch, Packing.PLAIN);
    }

    /** An encoder of batches of writer epoch 0 stored as {@code packing} says. */
    public BatchEncoder(Packing packing) {
        this(0, packing);
    }

    /** An encoder whose batches carry {@code writerEpoch} and are stored as {@code packing} says. */
    public BatchEncoder(int writerEpoch, Packing packing) {
        if (writerEpoch < 0) {
            throw new IllegalArgumentException("writer epoch " + writerEpoch + " is negative");
        }
        this.writerEpoch = writerEpoch;
        this.packer = packing.plain() ? null : new BatchPacker(packing);
    }

    /**
     * Encodes {@code records} as one batch.
     *
     * @param offsets the offset of each record, strictly increasing, all within
     *                {@code Integer.MAX_VALUE} of the first; null for consecutive offsets from
     *                {@code baseOffset}
     * @return a view of the encoded batch from position 0 to its size; valid until the next call
     */
    public ByteBuffer encode(long baseOffset, long[] offsets, List<Record> records) {
        return encode(writerEpoch, baseOffset, offsets, records);
    }

    /**
     * Encodes {@code records} as one batch of writer epoch {@code epoch}, whatever epoch the
     * encoder was made with: one encoder can serve every partition a thread appends to.
     */
    public ByteBuffer encode(int epoch, long baseOffset, long[] offsets, List<Record> records) {
        int count = records.size();
        if (count == 0) {
            throw new IllegalArgumentException("a batch needs at least one record");
        }
        long firstTimestamp = records.get(0).timestamp();
        long maxTimestamp = Long.MIN_VALUE;
        long size = HEADER_SIZE;
        if (bodySizes.length < count) {
            bodySizes = new int[Math.max(count, bodySizes.length * 2)];
        }
        for (int i = 0; i < count; i++) {
            Record record = records.get(i);
            maxTimestamp = Math.max(maxTimestamp, record.timestamp());
            int body = bodySize(record, record.timestamp() - firstTimestamp, offsetDelta(baseOffset, offsets, i));
            bodySizes[i] = body;
            size += Varints.sizeOfVarint(body) + (long) body;
        }
        if (size > MAX_BATCH_SIZE) {
            throw new IllegalArgumentException("batch of " + count + " records needs " + size
                    + " bytes, more than the limit of " + MAX_BATCH_SIZE + "; append fewer or smaller records");
        }
        buffer = Buffers.ensure(buffer, (int) size, true);
        ByteBuffer out = buffer;
        out.position(HEADER_SIZE);
        for (int i = 0; i < count; i++) {
            Record record = records.get(i);
            long timestampDelta = record.timestamp() - firstTimestamp;
            int offsetDelta = offsetDelta(baseOffset, offsets, i);
            Varints.writeVarint(bodySizes[i], out);
            out.put((byte) 0);
            Varints.writeVarlong(timestampDelta, out);
            Varints.writeVarint(offsetDelta, out);
            writeBytes(record.key(), out);
            writeBytes(record.value(), out);
            List<Header> headers = record.headers();
            Varints.writeVarint(headers.size(), out);
            for (Header header : headers) {
                byte[] key = header.key().getBytes(StandardCharsets.UTF_8);
                Varints.writeVarint(key.length, out);
                out.put(key);
                writeBytes(header.value(), out);
            }
        }
        int lastOffsetDelta = offsetDelta(baseOffset, offsets, count - 1);
        out.putLong(BASE_OFFSET_OFFSET, baseOffset)
                .putInt(LENGTH_OFFSET, (int) size - LOG_OVERHEAD)
                .put(MAGIC_OFFSET, MAGIC)
                .put(ATTRIBUTES_OFFSET, (byte) 0)
                .putInt(WRITER_EPOCH_OFFSET, epoch)
                .putInt(LAST_OFFSET_DELTA_OFFSET, lastOffsetDelta)
                .putLong(FIRST_TIMESTAMP_OFFSET, firstTimestamp)
                .putLong(MAX_TIMESTAMP_OFFSET, maxTimestamp)
                .putInt(RECORD_COUNT_OFFSET, count);
        out.flip();
        ByteBuffer stored = packer == null ? out : packer.pack(out);
        stored.putInt(CRC_OFFSET, BatchHeader.computeCrc(stored, 0, stored.limit()));
        return stored;
    }

    private static int offsetDelta(long baseOffset, long[] offsets, int i) {
        return offsets == null ? i : (int) (offsets[i] - baseOffset);
    }

    /**
     * Frees the native memory of the codec's context (zstd), which the garbage collector does not
     * free. The encoder may still be used after it; it then takes a new context.
     */
    @Override
    public void close() {
        if (packer != null) {
            packer.close();
        }
    }

    /** Bytes of direct memory the encoder holds now. */
    public int capacity() {
        return (buffer == null ? 0 : buffer.capacity()) + (packer == null ? 0 : packer.capacity());
    }

    private static int bodySize(Record record, long timestampDelta, int offsetDelta) {
        long size = 1L
                + Varints.sizeOfVarlong(timestampDelta)
                + Varints.sizeOfVarint(offsetDelta)
                + sizeOfBytes(record.key())
                + sizeOfBytes(record.value())
                + Varints.sizeOfVarint(record.headers().size());
        for (Header header : record.headers()) {
            int keyLength = utf8Length(header.key());
            size += Varints.sizeOfVarint(keyLength) + keyLength + sizeOfBytes(header.value());
        }
        if (size > MAX_BATCH_SIZE) {
            throw new IllegalArgumentException("record needs " + size + " bytes, more than the batch limit of "
                    + MAX_BATCH_SIZE);
        }
        return (int) size;
    }

    private static long sizeOfBytes(byte[] bytes) {
        return bytes == null ? Varints.sizeOfVarint(-1) : Varints.sizeOfVarint(bytes.length) + (long) bytes.length;
    }

    private static void writeBytes(byte[] bytes, ByteBuffer out) {
        if (bytes == null) {
            Varints.writeVarint(-1, out);
        } else {
            Varints.writeVarint(bytes.length, out);
            out.put(bytes);
        }
    }

    /** UTF-8 length of a string without encoding it (unpaired surrogates count as '?', as getBytes does). */
    static int utf8Length(String s) {
        int length = 0;
        for (int i = 0, n = s.length(); i < n; i++) {
            char c = s.charAt(i);
            if (c < 0x80) {
                length += 1;
            } else if (c < 0x800) {
                length += 2;
            } else if (Character.isHighSurrogate(c) && i + 1 < n && Character.isLowSurrogate(s.charAt(i + 1))) {
                length += 4;
                i++;
            } else if (Character.isSurrogate(c)) {
                length += 1;
            } else {
                length += 3;
            }
        }
        return length;
    }
}
