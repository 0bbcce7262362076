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
        Segment segment = locate(log, offset);
        if (segment == null) {
            return 0;
        }
        try {
            while (true) {
                boolean sealed = log.hasSegmentAfter(segment);
                long end = segment.size();
                long position = segment.positionOf(offset, end);
                if (position < end) {
                    return copyWholeBatches(log, segment, position, end, dst);
                }
                if (!sealed) {
                    return 0;
                }
                Segment next = log.retainNext(segment);
                segment.release();
                segment = next;
                if (segment == null) {
                    return 0;
                }
            }
        } catch (IOException e) {
            throw new LogStoreException(log.description() + ": cannot read " + segment.file() + ": " + e.getMessage(), e);
        } finally {
            if (segment != null) {
                segment.release();
            }
        }
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
        Segment segment = locate(log, offset);
        if (segment == null) {
            return new Transfer(0, offset);
        }
        try {
            while (true) {
                boolean sealed = log.hasSegmentAfter(segment);
                long end = segment.size();
                long position = segment.positionOf(offset, end);
                if (position < end) {
                    // Whole batches up to the limit: jump through the index, then hop headers.
                    // Where to continue is the base offset of the first batch not sent (or the
                    // offset after the last one sent at the segment's end): no extra reads.
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
                }
                if (!sealed) {
                    return new Transfer(0, offset);
                }
                Segment next = log.retainNext(segment);
                segment.release();
                segment = next;
                if (segment == null) {
                    return new Transfer(0, offset);
                }
            }
        } catch (IOException e) {
            throw new LogStoreException(log.description() + ": cannot transfer from " + segment.file() + ": "
                    + e.getMessage(), e);
        } finally {
            if (segment != null) {
                segment.release();
            }
        }
    }

}
