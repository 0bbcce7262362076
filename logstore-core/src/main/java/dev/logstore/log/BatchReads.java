package dev.logstore.log;

import static dev.logstore.record.BatchFormat.MIN_HEADER_SIZE;

import dev.logstore.BufferTooSmallException;
import dev.logstore.CorruptLogException;
import dev.logstore.record.BatchHeader;
import dev.logstore.record.RecordDecoder;
import dev.logstore.segment.Segment;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.WritableByteChannel;

/**
 * Reading whole batches out of a partition as bytes: into a caller's buffer ({@link #read}) or
 * straight to a channel without copying them through user space ({@link #transfer}). Both find
 * the batch holding the requested offset in one snapshot of the partition, and never split a
 * batch (but a transfer that a non-blocking channel took only part of can be resumed).
 */
public final class BatchReads {

    private BatchReads() {
    }

    /**
     * The first batch holding an offset at or after the one asked for; its segment is retained
     * until closed.
     *
     * @param end    how far the segment may be read, in the snapshot the batch was found in
     * @param sealed true when that end is final (the segment was sealed in that snapshot)
     */
    public record Found(Segment segment, long position, long end, boolean sealed) implements AutoCloseable {
        @Override
        public void close() {
            segment.release();
        }
    }

    /**
     * Finds the batch that holds {@code offset}, or the first one after it, in one snapshot: the
     * start offset checked, the segment looked up and retained, and the end it may be read to, all
     * from the same snapshot.
     *
     * @return the batch, or null when nothing is stored at or after the offset
     * @throws dev.logstore.OffsetOutOfRangeException when the offset is below the start offset
     */
    public static Found find(PartitionLog log, long offset) {
        return find(log, offset, null);
    }

    /**
     * As {@link #find(PartitionLog, long)}, for the continuation of a transfer of this partition
     * handle that sent {@code sent} whole last (null: none); see
     * {@link Segment#positionOf(long, long, long, int)}.
     */
    static Found find(PartitionLog log, long offset, SentBatch sent) {
        if (offset < 0) {
            throw new IllegalArgumentException(log.description() + ": offset " + offset + " is negative");
        }
        LogState state = log.stateFor(offset);
        while (true) {
            if (offset < state.startOffset()) {
                throw log.outOfRange(offset, state.startOffset());
            }
            if (offset >= state.nextOffset()) {
                state.checkDamage();
                return null;
            }
            Found found = findIn(log, state, offset, sent);
            if (found != RETRY) {
                return found;
            }
            // A segment of this snapshot was removed by retention (or the log closed) before it
            // could be retained: decide again from the current snapshot, which knows.
            log.checkOpen();
            state = log.state();
        }
    }

    private static final Found RETRY = new Found(null, -1, -1, false);

    private static Found findIn(PartitionLog log, LogState state, long offset, SentBatch sent) {
        for (int i = Math.max(0, state.floorIndex(offset)); i < state.segmentCount(); i++) {
            Segment segment = state.segment(i);
            if (!segment.tryRetain()) {
                return RETRY;
            }
            long end = state.end(i);
            long position;
            try {
                position = sent != null && sent.isIn(log, segment)
                        ? segment.positionOf(offset, end, sent.end(), sent.crc()) : segment.positionOf(offset, end);
            } catch (IOException e) {
                segment.release();
                throw log.readFailure(segment, offset, e);
            } catch (RuntimeException e) {
                segment.release();
                throw e;
            }
            if (position < end) {
                return new Found(segment, position, end, state.sealed(i));
            }
            segment.release();
        }
        return null;
    }

    /**
     * Copies whole batches, starting with the one that holds {@code offset} (or the first after
     * it), into {@code dst} and advances its position.
     *
     * @return bytes copied; 0 at the end of the partition
     */
    public static int read(PartitionLog log, long offset, ByteBuffer dst) {
        try (Found found = find(log, offset)) {
            if (found == null) {
                return 0;
            }
            try {
                return copyWholeBatches(log, found.segment(), found.position(), found.end(), dst);
            } catch (IOException e) {
                throw log.readFailure(found.segment(), offset, e);
            }
        }
    }

    private static int copyWholeBatches(PartitionLog log, Segment segment, long position, long end, ByteBuffer dst)
            throws IOException {
        int start = dst.position();
        int room = dst.remaining();
        int want = (int) Math.min(room, end - position);
        // Headers are big-endian, whatever the caller's buffer's byte order.
        ByteBuffer bytes = dst.duplicate().order(java.nio.ByteOrder.BIG_ENDIAN);
        // One read: the first batch's header comes with the bytes (a separate read only when it
        // does not fit, to say how large the buffer must be).
        BatchHeader first = null;
        if (want >= MIN_HEADER_SIZE) {
            ByteBuffer view = dst.duplicate();
            view.limit(start + want);
            segment.readFully(view, position);
            first = BatchHeader.readIfComplete(bytes, start, want);
        }
        if (first == null) {
            first = segment.headerAt(position, end);
        } else {
            first = RecordDecoder.checkHeader(bytes, start, segment.path(), position);
            if (position + first.sizeInBytes() > end) {
                segment.headerAt(position, end); // throws: a batch running past the end is damage
            }
        }
        if (room < first.sizeInBytes()) {
            throw tooSmall(log, first, room);
        }
        int whole = first.sizeInBytes();
        // The batches after the first go along while their headers are sound. A damaged one ends
        // the read before it, as a reader's poll returns the records before damage: the intact
        // batches are returned, and the read that starts at the damage reports it.
        while (want - whole >= MIN_HEADER_SIZE) {
            BatchHeader header = BatchHeader.readIfComplete(bytes, start + whole, want - whole);
            if (header == null || header.problem() != null || (long) whole + header.sizeInBytes() > want) {
                break;
            }
            whole += header.sizeInBytes();
        }
        dst.position(start + whole);
        return whole;
    }

    /**
     * Hops the batch headers from {@code from} (a batch start) towards {@code to}, with one read of
     * them where they lie close together: returns the position reached and the header of the
     * last batch hopped (which ends there). Stops early before a damaged header, or at a batch
     * that runs past {@code to} (its length is damaged: {@code to} is a batch start). The batch
     * at {@code position}, {@code first}, was checked already.
     */
    private static Hop hopTo(Segment segment, long from, long to, long end, long position, BatchHeader first)
            throws IOException {
        Segment.HeaderWindow window = segment.headerWindow();
        long at = from;
        BatchHeader last = null;
        while (at < to) {
            BatchHeader header;
            try {
                header = at == position ? first : window.headerAt(at, end);
            } catch (CorruptLogException e) {
                if (at == position) {
                    throw e;
                }
                break;
            }
            if (at + header.sizeInBytes() > to && at != position) {
                break;
            }
            at += header.sizeInBytes();
            last = header;
        }
        if (last == null) {
            // The index entry below was the batch itself or one with a damaged header: the first
            // batch alone, whose header was checked, goes out.
            return new Hop(position + first.sizeInBytes(), first);
        }
        return new Hop(at, last);
    }

    /** Where a walk of headers ended, and the header of the last batch it stepped over. */
    private record Hop(long position, BatchHeader last) {
    }

    /**
     * What {@link #transfer} sent: the fields of a {@link dev.logstore.Transfer}, and the last
     * batch it sent whole (null when no batch went out whole), which the transfer's continuation
     * passes back.
     */
    public record Sent(long bytes, long nextOffset, int nextBatchBytesSent, SentBatch last) {
        Sent(long bytes, long nextOffset, int nextBatchBytesSent) {
            this(bytes, nextOffset, nextBatchBytesSent, null);
        }
    }

    /**
     * A batch a transfer sent whole: the partition handle that sent it (a continuation through
     * another handle, of another partition or store, or of this one reopened, checks as a
     * transfer from an offset does), its segment (base offset, and the epoch of the writer that
     * made it: a writer that took over may have made a new segment with the same base offset),
     * where it ends in the segment's file, its stored checksum.
     */
    public record SentBatch(long handle, long segment, int epoch, long end, int crc) {
        /** True when this batch was sent through {@code log} from {@code candidate}. */
        boolean isIn(PartitionLog log, Segment candidate) {
            return handle == log.handle && candidate.baseOffset() == segment && candidate.epoch() == epoch;
        }
    }

    /** True when the CRC-32C of the batch at {@code position}, whose header is {@code header}, holds. */
    private static boolean intact(Segment segment, long position, BatchHeader header, long end) throws IOException {
        try {
            segment.headerWindow().checkBatch(position, header, end);
            return true;
        } catch (CorruptLogException e) {
            return false;
        }
    }

    private static BufferTooSmallException tooSmall(PartitionLog log, BatchHeader header, int room) {
        return new BufferTooSmallException(log.description() + ": the batch at offset " + header.baseOffset() + " is "
                + header.sizeInBytes() + " bytes and the buffer has " + room + " bytes free; read with a buffer of at least "
                + header.sizeInBytes() + " bytes", header.sizeInBytes());
    }

    /**
     * Sends whole batches from {@code offset} on, at most {@code maxBytes} of them (but always the
     * first whole batch, so a caller makes progress), to {@code target} without copying them
     * through user space, skipping the first {@code skipBytes} of the first batch (sent by an
     * earlier, partial transfer). The bytes are sent as stored, unverified; decoders check the CRC.
     *
     * <p>{@code lastSent}: the last batch the transfer this one continues sent whole, as {@link Sent}
     * named it (null: none, or not a continuation). Where {@code offset} falls in a gap of
     * offsets right after that batch, finding where to start does not read it again to check it.
     */
    public static Sent transfer(PartitionLog log, long offset, int skipBytes, long maxBytes, WritableByteChannel target,
                                SentBatch lastSent) {
        if (maxBytes <= 0) {
            throw new IllegalArgumentException(log.description() + ": maxBytes " + maxBytes + " must be positive");
        }
        try (Found found = find(log, offset, lastSent)) {
            if (found == null) {
                return new Sent(0, offset, 0);
            }
            Segment segment = found.segment();
            long position = found.position();
            long end = found.end();
            try {
                BatchHeader first = segment.headerAt(position, end);
                if (skipBytes > 0 && (first.baseOffset() != offset || skipBytes >= first.sizeInBytes())) {
                    // A partial transfer that stopped inside a damaged batch (a damaged length of
                    // its own, or of the batch before, that led the walk astray) names it by the
                    // offset that finds it: the damage is what to report.
                    segment.headerWindow().checkBatch(position, first, end);
                    throw new IllegalArgumentException(log.description() + ": cannot resume a transfer " + skipBytes
                            + " bytes into the batch at offset " + offset + ": no batch of more than that starts there; "
                            + "pass the Transfer the previous call returned");
                }
                // Whole batches up to the limit: jump through the index, then hop headers. Where to
                // continue is the offset after the last batch sent, from that batch's header (its
                // bytes go out, so a damaged one is the receiver's checksum to find): never from
                // the header of a batch not sent, whose damage nothing would report.
                long limit = maxBytes >= end - position - skipBytes ? end : position + skipBytes + maxBytes;
                long jumped = Math.max(position, segment.floorBatchPosition(limit, end));
                if (jumped > position && jumped < position + first.sizeInBytes()) {
                    // The index knows a batch inside the one the first header claims: its length is damaged.
                    throw new CorruptLogException(segment.path(), position, "the batch claims " + first.sizeInBytes()
                            + " bytes, but the offset index has a batch start " + (jumped - position)
                            + " bytes after its own");
                }
                long stop = jumped;
                BatchHeader last = null;
                while (stop < end) {
                    BatchHeader header;
                    try {
                        header = segment.headerAt(stop, end);
                    } catch (CorruptLogException e) {
                        if (stop == position) {
                            throw e;
                        }
                        // A damaged header ends the transfer before it, and the transfer that
                        // starts there reports it, as a reader's poll returns the records before
                        // damage.
                        break;
                    }
                    if (stop + header.sizeInBytes() > limit) {
                        break;
                    }
                    stop += header.sizeInBytes();
                    last = header;
                }
                if (stop == position) {
                    stop += first.sizeInBytes();
                    last = first;
                } else if (last == null) {
                    // Nothing hopped past the index's batch: the batch before it says where to
                    // continue. Hop there from the index entry below (one read of headers).
                    Hop ended = hopTo(segment, Math.max(position, segment.floorBatchPosition(stop - 1, end)), stop,
                            end, position, first);
                    stop = ended.position();
                    last = ended.last();
                }
                long from = position + skipBytes;
                long sent = segment.transferTo(from, stop - from, target);
                if (sent == stop - from) {
                    return new Sent(sent, last.nextOffset(), 0,
                            new SentBatch(log.handle, segment.baseOffset(), segment.epoch(), stop, last.crc()));
                }
                // A non-blocking target took part: say which batch it stopped in, and how far.
                long reached = from + sent;
                long batchStart = position;
                BatchHeader batch = first;
                long after = first.nextOffset();
                while (batchStart + batch.sizeInBytes() <= reached) {
                    long previousStart = batchStart;
                    BatchHeader previous = batch;
                    batchStart += batch.sizeInBytes();
                    after = batch.nextOffset();
                    try {
                        batch = segment.headerAt(batchStart, end);
                    } catch (CorruptLogException e) {
                        // Sent as stored past the headers read above. When the batch before has a
                        // damaged length (which led here), the continuation resumes inside it, in
                        // step with the bytes sent, and reports it where its length does not fit;
                        // else it resumes at the damaged header, from the end of the last intact
                        // batch, and reports that.
                        if (!intact(segment, previousStart, previous, end)) {
                            return new Sent(sent, previous.baseOffset(), (int) (reached - previousStart));
                        }
                        return new Sent(sent, after, (int) (reached - batchStart));
                    }
                }
                // Where to resume is this batch's base offset, from a header not checked yet: a
                // damaged one would resume elsewhere (back, or past records) without a word. (The
                // first batch of a call that resumes inside it was checked by the call that named
                // it.) A damaged batch is named by the offset that finds it, in step with the
                // bytes sent, and the continuation reports it: these bytes went out already.
                if ((batch != first || skipBytes == 0) && !intact(segment, batchStart, batch, end)) {
                    return new Sent(sent, batch == first ? offset : after, (int) (reached - batchStart));
                }
                return new Sent(sent, batch.baseOffset(), (int) (reached - batchStart));
            } catch (IOException e) {
                throw log.readFailure(segment, offset, e);
            }
        }
    }
}
