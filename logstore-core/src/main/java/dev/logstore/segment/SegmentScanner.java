package dev.logstore.segment;

import static dev.logstore.record.BatchFormat.HEADER_SIZE;

import dev.logstore.record.BatchFormat;
import dev.logstore.record.BatchHeader;
import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;

/**
 * Walks the batches of a segment file, checking each one fully (header, bounds, offset order,
 * CRC-32C) and stopping at the first that fails. Recovery truncates there; index rebuilding and
 * verification report it.
 */
public final class SegmentScanner {

    /** Called for every valid batch, in order. */
    @FunctionalInterface
    public interface Visitor {
        void batch(long position, BatchHeader header);
    }

    /**
     * What a scan found.
     *
     * @param validEnd    the position after the last valid batch
     * @param nextOffset  the offset after the last valid batch (the minimum offset when none)
     * @param problem     why the scan stopped before {@code end}, or null when it reached it
     * @param torn        true when the scan stopped at a batch the file holds only part of (as a
     *                    crash, or a write still in progress, leaves it) rather than at bytes that
     *                    are there but wrong
     */
    public record Result(long validEnd, long nextOffset, long maxTimestamp, String problem, boolean torn) {
        public boolean clean() {
            return problem == null;
        }
    }

    private static final int CHUNK = 1 << 20;

    private SegmentScanner() {
    }

    /**
     * Scans {@code [from, end)} of {@code channel}; the first batch must start at {@code from}
     * and have a base offset of at least {@code minOffset}.
     */
    public static Result scan(FileChannel channel, long from, long end, long minOffset, Visitor visitor)
            throws IOException {
        ByteBuffer chunk = ByteBuffer.allocate((int) Math.min(CHUNK, Math.max(HEADER_SIZE, end - from)));
        long chunkStart = from;
        chunk.limit(0);
        long position = from;
        long nextOffset = minOffset;
        long maxTimestamp = Long.MIN_VALUE;
        while (position < end) {
            if (end - position < HEADER_SIZE) {
                return new Result(position, nextOffset, maxTimestamp, "torn batch header: "
                        + (end - position) + " bytes at the end of the file", true);
            }
            int inChunk = (int) (position - chunkStart);
            if (inChunk + HEADER_SIZE > chunk.limit()) {
                chunkStart = position;
                inChunk = 0;
                fill(channel, chunk, chunkStart, end);
            }
            BatchHeader header = BatchHeader.read(chunk, inChunk);
            String problem = header.problem();
            if (problem != null) {
                return new Result(position, nextOffset, maxTimestamp, problem, false);
            }
            if (header.baseOffset() < nextOffset) {
                return new Result(position, nextOffset, maxTimestamp, "base offset " + header.baseOffset()
                        + " is below the expected next offset " + nextOffset, false);
            }
            int size = header.sizeInBytes();
            if (position + size > end) {
                return new Result(position, nextOffset, maxTimestamp, "torn batch: " + size + " bytes declared, "
                        + (end - position) + " present", true);
            }
            ByteBuffer whole;
            int index;
            if (inChunk + size <= chunk.limit()) {
                whole = chunk;
                index = inChunk;
            } else if (size <= chunk.capacity()) {
                chunkStart = position;
                fill(channel, chunk, chunkStart, end);
                whole = chunk;
                index = 0;
            } else {
                whole = ByteBuffer.allocate(size);
                readFully(channel, whole, position);
                index = 0;
            }
            if (BatchHeader.computeCrc(whole, index, size) != header.crc()) {
                return new Result(position, nextOffset, maxTimestamp, "CRC-32C mismatch", false);
            }
            visitor.batch(position, header);
            position += size;
            nextOffset = header.nextOffset();
            maxTimestamp = Math.max(maxTimestamp, header.maxTimestamp());
        }
        return new Result(position, nextOffset, maxTimestamp, null, false);
    }

    /**
     * Looks for an intact batch (a plausible header at an offset of at least {@code minOffset},
     * and a matching CRC-32C) starting anywhere in {@code [from, end)}. After a scan stopped at bad
     * bytes, one found means the damage lies inside written data rather than at a torn end.
     *
     * @return the position of the first intact batch, or -1 when there is none
     */
    public static long findIntactBatch(FileChannel channel, long from, long end, long minOffset) throws IOException {
        ByteBuffer chunk = ByteBuffer.allocate((int) Math.min(CHUNK, Math.max(HEADER_SIZE, end - from)));
        for (long chunkStart = from; chunkStart + HEADER_SIZE <= end; chunkStart += chunk.limit() - HEADER_SIZE + 1) {
            fill(channel, chunk, chunkStart, end);
            for (int i = 0; i + HEADER_SIZE <= chunk.limit(); i++) {
                if (chunk.get(i + BatchFormat.MAGIC_OFFSET) != BatchFormat.MAGIC) {
                    continue;
                }
                BatchHeader header = BatchHeader.read(chunk, i);
                long position = chunkStart + i;
                if (header.problem() == null && header.baseOffset() >= minOffset
                        && position + header.sizeInBytes() <= end
                        && scan(channel, position, position + header.sizeInBytes(), minOffset, (p, h) -> { }).clean()) {
                    return position;
                }
            }
            if (chunk.limit() < HEADER_SIZE || chunkStart + chunk.limit() >= end) {
                break;
            }
        }
        return -1;
    }

    private static void fill(FileChannel channel, ByteBuffer chunk, long from, long end) throws IOException {
        chunk.clear();
        if (end - from < chunk.capacity()) {
            chunk.limit((int) (end - from));
        }
        readFully(channel, chunk, from);
        chunk.flip();
    }

    /** Reads until {@code buffer} is full; an EOFException when the file ends first. */
    static void readFully(FileChannel channel, ByteBuffer buffer, long position) throws IOException {
        long p = position;
        while (buffer.hasRemaining()) {
            int n = channel.read(buffer, p);
            if (n < 0) {
                throw new EOFException("end of file at byte " + p + " while " + buffer.remaining()
                        + " more bytes were expected");
            }
            p += n;
        }
    }
}
