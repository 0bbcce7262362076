package dev.logstore.segment;

import static dev.logstore.record.BatchFormat.MAX_HEADER_SIZE;
import static dev.logstore.record.BatchFormat.MIN_HEADER_SIZE;

import dev.logstore.record.BatchFormat;
import dev.logstore.record.BatchHeader;
import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * Walks the batches of a segment file, checking each one fully (header, bounds, offset order,
 * writer epoch, CRC-32C) and stopping at the first that fails. Recovery truncates there; index
 * rebuilding and verification report it.
 */
public final class SegmentScanner {

    /** Any writer epoch is accepted (segments written before epochs existed, and tools). */
    public static final int ANY_EPOCH = -1;

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
     * @param reserved    true when the scan stopped at zeros where a batch header would be: the
     *                    space a writer with mapped appends reserves past its data (see
     *                    {@code SegmentFile}), or a page a crash left unwritten. A live writer's
     *                    end; after a crash, the end unless an intact batch follows
     */
    public record Result(long validEnd, long nextOffset, long maxTimestamp, String problem, boolean torn,
                         boolean reserved) {
        Result(long validEnd, long nextOffset, long maxTimestamp, String problem, boolean torn) {
            this(validEnd, nextOffset, maxTimestamp, problem, torn, false);
        }

        public boolean clean() {
            return problem == null;
        }
    }

    /** The problem a scan names when it stops at zeros (see {@link Result#reserved}). */
    public static final String ZEROS = "zeros where the next batch would start (space reserved for appends, or never "
            + "written)";

    private static final int CHUNK = 1 << 20;
    private static final int MIN_ZERO_RUN = 16;

    private SegmentScanner() {
    }

    /**
     * Scans {@code [from, end)} of {@code file}; the first batch must start at {@code from} and
     * have a base offset of at least {@code minOffset}. Batches of format version 2 must carry
     * {@code epoch} unless it is {@link #ANY_EPOCH}: a segment holds the batches of one writer.
     */
    public static Result scan(PositionalReader file, long from, long end, long minOffset, int epoch, Visitor visitor)
            throws IOException {
        return scan(file, from, end, minOffset, epoch, visitor, true);
    }

    /** As above; {@code tornCopies} false skips telling a batch copied in part from damage (see {@link #badBytes}). */
    private static Result scan(PositionalReader file, long from, long end, long minOffset, int epoch, Visitor visitor,
                               boolean tornCopies) throws IOException {
        ByteBuffer chunk = ByteBuffer.allocate((int) Math.min(CHUNK, Math.max(MAX_HEADER_SIZE, end - from)));
        long chunkStart = from;
        chunk.limit(0);
        long position = from;
        long nextOffset = minOffset;
        long maxTimestamp = Long.MIN_VALUE;
        while (position < end) {
            long left = end - position;
            if (left < MIN_HEADER_SIZE) {
                return new Result(position, nextOffset, maxTimestamp, "torn batch header: " + left
                        + " bytes at the end of the file", true);
            }
            int inChunk = (int) (position - chunkStart);
            if (inChunk + Math.min(MAX_HEADER_SIZE, left) > chunk.limit()) {
                chunkStart = position;
                inChunk = 0;
                fill(file, chunk, chunkStart, end);
            }
            if (zeros(chunk, inChunk, (int) Math.min(MIN_HEADER_SIZE, left))) {
                return new Result(position, nextOffset, maxTimestamp, ZEROS, false, true);
            }
            BatchHeader header = BatchHeader.readIfComplete(chunk, inChunk, left);
            if (header == null) {
                return new Result(position, nextOffset, maxTimestamp, "torn batch header: " + left
                        + " bytes at the end of the file", true);
            }
            String problem = header.problem();
            if (problem != null) {
                return badBytes(file, position, end, null, nextOffset, maxTimestamp, problem, tornCopies);
            }
            if (header.baseOffset() < nextOffset) {
                return badBytes(file, position, end, header, nextOffset, maxTimestamp, "base offset "
                        + header.baseOffset() + " is below the expected next offset " + nextOffset, tornCopies);
            }
            if (epoch != ANY_EPOCH && header.magic() == BatchFormat.MAGIC && header.writerEpoch() != epoch) {
                return badBytes(file, position, end, header, nextOffset, maxTimestamp, "the batch was written by "
                        + "writer epoch " + header.writerEpoch() + " into a segment of writer epoch " + epoch,
                        tornCopies);
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
                fill(file, chunk, chunkStart, end);
                whole = chunk;
                index = 0;
            } else {
                whole = ByteBuffer.allocate(size);
                file.readFully(whole, position);
                index = 0;
            }
            if (BatchHeader.computeCrc(whole, index, size) != header.crc()) {
                return badBytes(file, position, end, header, nextOffset, maxTimestamp, "CRC-32C mismatch", tornCopies);
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
    public static long findIntactBatch(PositionalReader file, long from, long end, long minOffset) throws IOException {
        ByteBuffer chunk = ByteBuffer.allocate((int) Math.min(CHUNK, Math.max(MAX_HEADER_SIZE, end - from)));
        for (long chunkStart = from; chunkStart + MIN_HEADER_SIZE <= end;
             chunkStart += chunk.limit() - MAX_HEADER_SIZE + 1) {
            fill(file, chunk, chunkStart, end);
            for (int i = 0; i + MIN_HEADER_SIZE <= chunk.limit(); i++) {
                byte magic = chunk.get(i + BatchFormat.MAGIC_OFFSET);
                if (magic != BatchFormat.MAGIC && magic != BatchFormat.MAGIC_V1) {
                    continue;
                }
                BatchHeader header = BatchHeader.readIfComplete(chunk, i, chunk.limit() - i);
                long position = chunkStart + i;
                if (header != null && header.problem() == null && header.baseOffset() >= minOffset
                        && position + header.sizeInBytes() <= end
                        && scan(file, position, position + header.sizeInBytes(), minOffset, ANY_EPOCH,
                                (p, h) -> { }, false).clean()) {
                    return position;
                }
            }
            if (chunk.limit() < MAX_HEADER_SIZE || chunkStart + chunk.limit() >= end) {
                break;
            }
        }
        return -1;
    }

    /**
     * The result for bad bytes at {@code position}. They are a torn batch, not damage, when a
     * run of zeros starts inside the batch and goes to the end of the scanned range, with no
     * intact batch before it: a copy into a memory map (see {@code SegmentFile}) cut short by a
     * crash, or still under way, leaves the batch's first bytes followed by the zeros the writer
     * reserved, all within the file. The batch's declared size only bounds where the zeros may
     * start; intact batches are looked for all the same, since that size may be the damage.
     *
     * @param header the batch's header when it reads as one, or null
     */
    private static Result badBytes(PositionalReader file, long position, long end, BatchHeader header,
                                   long nextOffset, long maxTimestamp, String problem, boolean tornCopies)
            throws IOException {
        if (!tornCopies) {
            return new Result(position, nextOffset, maxTimestamp, problem, false);
        }
        long extent = header != null && header.sizeInBytes() >= MIN_HEADER_SIZE
                && header.sizeInBytes() <= end - position ? header.sizeInBytes() : MAX_HEADER_SIZE;
        long zerosFrom = zerosFrom(file, position, end);
        // A run of at least a few zeros: a shorter one may be the batch's own last bytes.
        long after = offsetsAfter(header, nextOffset);
        if (end - zerosFrom >= MIN_ZERO_RUN && zerosFrom <= position + extent
                && findIntactBatch(file, position + 1, zerosFrom, after) < 0) {
            return new Result(position, nextOffset, maxTimestamp, problem + ", and only zeros follow from byte "
                    + zerosFrom + " (at the end of a segment being written: a batch copied in part)", true);
        }
        return new Result(position, nextOffset, maxTimestamp, problem, false);
    }

    /**
     * The smallest base offset a batch after the torn batch at {@code position} can have: one
     * past the torn batch's own base offset when its header reads, else {@code nextOffset}.
     */
    public static long offsetsAfter(PositionalReader file, long position, long end, long nextOffset)
            throws IOException {
        int length = (int) Math.min(MAX_HEADER_SIZE, end - position);
        ByteBuffer bytes = length < MIN_HEADER_SIZE ? null : readAt(file, position, length);
        return offsetsAfter(bytes == null ? null : BatchHeader.readIfComplete(bytes, 0, length), nextOffset);
    }

    /** One past {@code header}'s base offset when it reads as a batch at or after {@code nextOffset}, else {@code nextOffset}. */
    private static long offsetsAfter(BatchHeader header, long nextOffset) {
        return header != null && header.baseOffset() >= nextOffset && header.baseOffset() < Long.MAX_VALUE
                ? header.baseOffset() + 1 : nextOffset;
    }

    /** {@code length} bytes from {@code position}, flipped; null when the file no longer reaches that far. */
    private static ByteBuffer readAt(PositionalReader file, long position, int length) throws IOException {
        ByteBuffer bytes = ByteBuffer.allocate(length);
        try {
            file.readFully(bytes, position);
        } catch (java.io.EOFException cut) {
            return null;
        }
        return bytes.flip();
    }

    /** Where the run of zeros that ends {@code [from, end)} starts ({@code end} when its last byte is not zero). */
    private static long zerosFrom(PositionalReader file, long from, long end) throws IOException {
        ByteBuffer chunk = ByteBuffer.allocate((int) Math.min(64 * 1024, Math.max(1, end - from)));
        for (long chunkEnd = end; chunkEnd > from; ) {
            long chunkStart = Math.max(from, chunkEnd - chunk.capacity());
            chunk.clear().limit((int) (chunkEnd - chunkStart));
            try {
                file.readFully(chunk, chunkStart);
            } catch (java.io.EOFException cut) {
                return end; // the file shrank under the scan: not a reserved tail
            }
            for (int i = chunk.limit() - 1; i >= 0; i--) {
                if (chunk.get(i) != 0) {
                    return chunkStart + i + 1;
                }
            }
            chunkEnd = chunkStart;
        }
        return from;
    }

    private static boolean zeros(ByteBuffer chunk, int from, int length) {
        for (int i = from; i < from + length; i++) {
            if (chunk.get(i) != 0) {
                return false;
            }
        }
        return true;
    }

    /**
     * True when nothing was written at {@code position} yet, as far as one small read tells: the
     * file holds zeros where a batch header would start (space a writer reserved), or no longer
     * reaches that far (the writer cut its reserved space since {@code end} was its size).
     */
    public static boolean nothingWrittenAt(PositionalReader file, long position, long end) throws IOException {
        int length = (int) Math.min(MIN_HEADER_SIZE, end - position);
        if (length < MIN_HEADER_SIZE) {
            return false;
        }
        ByteBuffer header = readAt(file, position, length);
        return header == null || zeros(header, 0, length);
    }

    private static void fill(PositionalReader file, ByteBuffer chunk, long from, long end) throws IOException {
        chunk.clear();
        if (end - from < chunk.capacity()) {
            chunk.limit((int) (end - from));
        }
        file.readFully(chunk, from);
        chunk.flip();
    }
}
