package dev.logstore.log;

import static dev.logstore.record.BatchFormat.HEADER_SIZE;

import dev.logstore.BufferTooSmallException;
import dev.logstore.LogStoreException;
import dev.logstore.Transfer;
import dev.logstore.record.BatchHeader;
import dev.logstore.record.RecordDecoder;
import dev.logstore.segment.Segment;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.WritableByteChannel;

/**
 * Reading whole batches out of a partition as bytes: into a caller's buffer ({@link #read}) or
 * straight to a channel without copying them through user space ({@link #transfer}). Both find
 * the batch holding the requested offset through the segment map and the offset index, and
 * never split a batch.
 */
public final class BatchReads {

    private BatchReads() {
    }

    /**
     * Copies whole batches, starting with the one that holds {@code offset} (or the first after
     * it), into {@code dst} and advances its position.
     *
     * @return bytes copied; 0 at the end of the partition
     */
    static int read(PartitionLog log, long offset, ByteBuffer dst) {
        try (Found found = find(log, offset)) {
            if (found == null) {
                return 0;
            }
            try {
                return copyWholeBatches(log, found.segment(), found.position(), found.end(), dst);
            } catch (IOException e) {
                throw new LogStoreException(log.description() + ": cannot read " + found.segment().file() + ": "
                        + e.getMessage(), e);
            }
        }
    }

    /** The first batch holding an offset at or after the one asked for; its segment is retained until closed. */
    private record Found(Segment segment, long position, long end) implements AutoCloseable {
        @Override
        public void close() {
            segment.release();
        }
    }

    /**
     * Finds the batch that holds {@code offset}, or the first one after it, moving on to later
     * segments when it falls in a gap at a segment's end.
     *
     * @return the batch, or null at the end of the partition
     */
    private static Found find(PartitionLog log, long offset) {
        Segment segment = locate(log, offset);
        while (segment != null) {
            boolean sealed = log.hasSegmentAfter(segment);
            long end = segment.size();
            long position;
            try {
                position = segment.positionOf(offset, end);
            } catch (IOException | RuntimeException e) {
                segment.release();
                if (e instanceof RuntimeException runtime) {
                    throw runtime;
                }
                throw new LogStoreException(log.description() + ": cannot read " + segment.file() + ": "
                        + e.getMessage(), e);
            }
            if (position < end) {
                return new Found(segment, position, end);
            }
            Segment next = sealed ? log.retainNext(segment) : null;
            segment.release();
            segment = next;
        }
        return null;
    }

    private static Segment locate(PartitionLog log, long offset) {
        if (offset < 0) {
            throw new IllegalArgumentException(log.description() + ": offset " + offset + " is negative");
        }
        if (offset >= log.nextOffset()) {
            log.refresh();
            if (offset >= log.nextOffset()) {
                if (offset < log.startOffset()) {
                    throw log.outOfRange(offset, log.startOffset());
                }
                log.checkDamage();
                return null;
            }
        }
        return log.retainSegmentFor(offset);
    }

    private static int copyWholeBatches(PartitionLog log, Segment segment, long position, long end, ByteBuffer dst)
            throws IOException {
        int start = dst.position();
        int room = dst.remaining();
        if (room < HEADER_SIZE) {
            throw tooSmall(log, segment.headerAt(position), room);
        }
        int want = (int) Math.min(room, end - position);
        ByteBuffer view = dst.duplicate();
        view.limit(start + want);
        segment.readFully(view, position);
        int whole = 0;
        while (whole + HEADER_SIZE <= want) {
            BatchHeader header = RecordDecoder.checkHeader(dst, start + whole, segment.file(), position + whole);
            if (whole + header.sizeInBytes() > want) {
                if (whole == 0) {
                    segment.headerAt(position); // a batch running past the segment's end is damage, not a small buffer
                    throw tooSmall(log, header, room);
                }
                break;
            }
            whole += header.sizeInBytes();
        }
        dst.position(start + whole);
        return whole;
    }

    private static BufferTooSmallException tooSmall(PartitionLog log, BatchHeader header, int room) {
        return new BufferTooSmallException(log.description() + ": the batch at offset " + header.baseOffset() + " is "
                + header.sizeInBytes() + " bytes and the buffer has " + room + " bytes free; read with a buffer of at least "
                + header.sizeInBytes() + " bytes", header.sizeInBytes());
    }

    /**
     * Sends whole batches from {@code offset} on, at most {@code maxBytes} of them (but always the
     * first whole batch, so a caller makes progress), to {@code target} without copying them
     * through user space. The bytes are sent as stored, unverified; decoders check the CRC.
     *
     * @return bytes sent; 0 at the end of the partition
     */
    static Transfer transfer(PartitionLog log, long offset, long maxBytes, WritableByteChannel target) {
        if (maxBytes <= 0) {
            throw new IllegalArgumentException(log.description() + ": maxBytes " + maxBytes + " must be positive");
        }
        try (Found found = find(log, offset)) {
            if (found == null) {
                return new Transfer(0, offset);
            }
            Segment segment = found.segment();
            long position = found.position();
            long end = found.end();
            try {
                // Whole batches up to the limit: jump through the index, then hop headers. Where
                // to continue is the base offset of the first batch not sent (or the offset after
                // the last one sent at the segment's end): no extra reads.
                long limit = Math.min(end, position + maxBytes);
                long stop = Math.max(position, segment.floorBatchPosition(limit));
                long next = -1;
                while (stop < end) {
                    BatchHeader header = segment.headerAt(stop);
                    if (stop + header.sizeInBytes() > limit) {
                        next = header.baseOffset();
                        break;
                    }
                    stop += header.sizeInBytes();
                    next = header.nextOffset();
                }
                if (stop == position) {
                    BatchHeader first = segment.headerAt(position);
                    stop += first.sizeInBytes();
                    next = first.nextOffset();
                }
                long sent = segment.transferTo(position, stop - position, target);
                return new Transfer(sent, sent == stop - position ? next : offset);
            } catch (IOException e) {
                throw new LogStoreException(log.description() + ": cannot transfer from " + segment.file() + ": "
                        + e.getMessage(), e);
            }
        }
    }
}
