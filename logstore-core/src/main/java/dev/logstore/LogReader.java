package dev.logstore;

import static dev.logstore.record.BatchFormat.MAX_HEADER_SIZE;

import dev.logstore.log.BatchReads;
import dev.logstore.log.LogState;
import dev.logstore.log.PartitionLog;
import dev.logstore.record.BatchCursor;
import dev.logstore.record.BatchHeader;
import dev.logstore.record.LogRecord;
import dev.logstore.record.RecordDecoder;
import dev.logstore.record.RecordHandler;
import dev.logstore.record.BatchUnpacker;
import dev.logstore.record.RecordView;
import dev.logstore.segment.Segment;
import dev.logstore.segment.SegmentSummary;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A cursor over one partition: reads records in offset order from its {@linkplain #position()
 * position}, which {@link #seek(long)} and {@link #seekToTimestamp(long)} move. Any number of
 * readers may run while the partition is appended to; a reader only ever sees whole, checksummed
 * batches.
 *
 * <p>A reader holds the segment it is reading, so retention deleting that segment does not
 * disturb it; when it has finished the segment and what followed was removed too, it says so
 * with an {@link OffsetOutOfRangeException} rather than skip. Every decision is taken from one
 * published snapshot of the partition at a time.
 *
 * <p>A reader keeps what it read: the bytes ahead of its position stay in its buffer for the
 * next poll, and a batch handed out a few records at a time is read and checked once. Its buffer
 * follows the {@code maxBytes} it is asked for (4 KiB to 1 MiB), plus, while it hands out a
 * batch larger than that, one buffer of that batch's size; a compressed or encrypted batch is
 * unpacked into buffers of the reader's own, as large as the largest batch's records, given back
 * once batches are small again. {@code maxBytes} counts batches as stored, so a poll of
 * compressed batches may hand out several times as many bytes of records. One reader is meant for
 * one thread at a time. Close it when done.
 */
public final class LogReader implements AutoCloseable {

    private static final int MIN_BUFFER = 4 * 1024;
    private static final int MAX_BUFFER = 1 << 20;

    private final PartitionLog log;
    private final RecordView view = new RecordView();
    private final BatchUnpacker unpacker;
    /** For seeks by time, which read batches into heap buffers: kept apart from the reader's own. */
    private BatchUnpacker timeSeekUnpacker;
    private final BatchCursor cursor = new BatchCursor();

    // Direct, so a file read lands in it without the JDK's extra copy through a temporary buffer.
    private ByteBuffer buffer;
    // What the bytes in `current` are: [currentStart, currentStart + current.limit()) of currentSegment.
    private ByteBuffer current;
    private Segment currentSegment;
    private long currentStart;

    private Segment segment;
    // The path of pathOf, for error messages: a segment makes its path anew each time it is asked.
    private Path path;
    private Segment pathOf;
    private long end;
    private long filePosition;
    private BatchHeader batch;
    // The checked header of the batch at filePosition, as the last load() found it.
    private BatchHeader loaded;
    private long nextOffset;
    private boolean closed;

    LogReader(PartitionLog log) {
        this.log = log;
        this.unpacker = new BatchUnpacker(log.keys());
        this.nextOffset = log.state().startOffset();
    }

    /** The partition this reader reads. */
    public int partition() {
        return log.partition();
    }

    /** The offset of the next record to be returned, at the least (gaps are skipped). */
    public long position() {
        return nextOffset;
    }

    /**
     * Moves to {@code offset}; the next poll starts at the first record at or after it.
     *
     * @throws OffsetOutOfRangeException when the offset is below the partition's start offset
     */
    public LogReader seek(long offset) {
        checkOpen();
        if (offset < 0) {
            throw new IllegalArgumentException(log.description() + ": cannot seek to negative offset " + offset);
        }
        long start = log.state().startOffset();
        if (offset < start) {
            throw log.outOfRange(offset, start);
        }
        unposition();
        nextOffset = offset;
        return this;
    }

    /**
     * Moves to the partition's start offset. Never out of range itself; if retention removes
     * more before the next poll, that poll says so.
     */
    public LogReader seekToStart() {
        checkOpen();
        unposition();
        nextOffset = log.state().startOffset();
        return this;
    }

    /** Moves to the end: the next poll returns only records appended from now on. */
    public LogReader seekToEnd() {
        checkOpen();
        log.refresh();
        unposition();
        nextOffset = log.state().nextOffset();
        return this;
    }

    /**
     * Moves to the first record whose timestamp is at or above {@code timestamp}, or to the end
     * when there is none. Segments whose newest record is older are skipped without reading
     * anything; then one time index lookup and a scan of at most one index interval, which checks
     * the checksum of every batch it steps over (a damaged header is reported, never stepped past).
     */
    public LogReader seekToTimestamp(long timestamp) {
        checkOpen();
        log.refresh();
        LogState state = log.state();
        for (int i = 0; i < state.segmentCount(); i++) {
            long segmentEnd = state.end(i);
            if (segmentEnd == 0 || state.maxTimestamp(i) < timestamp) {
                continue;
            }
            Segment candidate = state.segment(i);
            if (!candidate.tryRetain()) {
                log.checkOpen();
                return seekToTimestamp(timestamp); // removed by retention meanwhile: look again
            }
            try {
                long entry = candidate.timeEntryBelow(timestamp, segmentEnd);
                long from = Math.max(entry >= 0 ? entry : candidate.baseOffset(), state.startOffset());
                long found = firstAtOrAfter(candidate, from, timestamp, segmentEnd, entry == from ? entry : -1);
                if (found >= 0) {
                    return seek(found);
                }
            } catch (IOException e) {
                throw log.readFailure(candidate, timestamp < 0 ? 0 : candidate.baseOffset(), e);
            } finally {
                candidate.release();
            }
        }
        return seek(state.nextOffset());
    }

    private BatchUnpacker timeSeekUnpacker() {
        if (timeSeekUnpacker == null) {
            timeSeekUnpacker = new BatchUnpacker(log.keys());
        }
        return timeSeekUnpacker;
    }

    /**
     * The first offset at or after {@code fromOffset} whose record's timestamp is at or above
     * {@code timestamp}, or -1. {@code vouched} is the base offset of a batch the time index vouches
     * holds only older records (-1: none): the only batch stepped over without its checksum checked.
     */
    private long firstAtOrAfter(Segment candidate, long fromOffset, long timestamp, long segmentEnd, long vouched)
            throws IOException {
        long position = candidate.positionOf(fromOffset, segmentEnd);
        Segment.HeaderWindow headers = candidate.headerWindow();
        while (position < segmentEnd) {
            BatchHeader header = headers.headerAt(position, segmentEnd);
            if (header.maxTimestamp() >= timestamp) {
                ByteBuffer bytes = ByteBuffer.allocate(header.sizeInBytes());
                candidate.readFully(bytes, position);
                long[] found = {-1};
                try {
                    RecordDecoder.decodeBatch(bytes, 0, header, candidate.path(), position, fromOffset,
                            Integer.MAX_VALUE, timeSeekUnpacker(), view, record -> {
                                if (found[0] < 0 && record.timestamp() >= timestamp) {
                                    found[0] = record.offset();
                                }
                            });
                } catch (EncryptionKeyException e) {
                    if (!e.missing()) {
                        throw e;
                    }
                    // Without the key only the header is known: the seek lands on the batch, the
                    // first whose newest record is at or after the time, as close as the header tells.
                    return Math.max(fromOffset, header.baseOffset());
                }
                if (found[0] >= 0) {
                    return found[0];
                }
            } else if (header.baseOffset() != vouched) {
                // Stepped over by what its header says: a damaged timestamp or length must not
                // carry the seek past a record it should land on.
                headers.checkBatch(position, header, segmentEnd);
            }
            position += header.sizeInBytes();
        }
        return -1;
    }

    /**
     * Returns the next records, at most {@code maxRecords}, from whole batches of at most about
     * {@code maxBytes} (at least one batch, however large, so the reader always progresses).
     * Returns an empty list at the end of the partition without waiting. Each record is a copy
     * the caller owns; {@link #poll(RecordHandler, int, int)} reads without copying. Damage after
     * some records ends the poll with them; the next poll reports it
     * ({@link CorruptLogException}).
     */
    public List<LogRecord> poll(int maxRecords, int maxBytes) {
        List<LogRecord> records = new ArrayList<>(Math.min(Math.max(maxRecords, 0), 1024));
        long start = nextOffset;
        try {
            poll(record -> records.add(record.toLogRecord()), maxRecords, maxBytes);
        } catch (CorruptLogException e) {
            if (records.isEmpty()) {
                throw e;
            }
            // Damage after intact records: they are returned, and the next poll, which starts
            // at the damage, reports it.
        } catch (RuntimeException e) {
            // The records copied so far never reach the caller: they must be read again.
            if (nextOffset != start) {
                unposition();
                nextOffset = start;
            }
            throw e;
        }
        return records;
    }

    /**
     * Hands the next records, at most {@code maxRecords}, from whole batches of at most about
     * {@code maxBytes} (at least one batch, however large), to {@code handler} in offset order,
     * in place: the {@link RecordView} points into the reader's buffer, so nothing is copied or
     * allocated per record. The view is valid during the call only. Returns at once, with 0, at
     * the end of the partition.
     *
     * <p>When the handler throws, the exception propagates and the record it was handed is not
     * consumed: the next poll starts with it.
     *
     * @return the number of records handed to {@code handler}
     */
    public int poll(RecordHandler handler, int maxRecords, int maxBytes) {
        checkOpen();
        if (maxRecords < 1 || maxBytes < 1) {
            throw new IllegalArgumentException("maxRecords (" + maxRecords + ") and maxBytes (" + maxBytes
                    + ") must be positive");
        }
        try {
            return readInto(handler, maxRecords, maxBytes);
        } catch (CorruptLogException e) {
            if (e.getMessage().contains(log.description())) {
                throw e;
            }
            throw new CorruptLogException(log.description() + ": " + e.getMessage() + ". Records from offset "
                    + nextOffset + " on cannot be read past it. `logstore verify` lists the damage in the store; "
                    + "restore the segment from a copy, or `logstore salvage` the store to copy every intact batch",
                    e.file(), e.position());
        } catch (IOException e) {
            LogStoreException failure = log.readFailure(segment, nextOffset, e);
            if (failure instanceof OffsetOutOfRangeException) {
                unposition();
            }
            throw failure;
        }
    }

    /**
     * Like {@link #poll(int, int)}, but waits up to {@code timeout} for records to arrive when
     * the reader is at the end (tailing a live partition).
     */
    public List<LogRecord> poll(int maxRecords, int maxBytes, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            List<LogRecord> records = poll(maxRecords, maxBytes);
            long left = deadline - System.nanoTime();
            if (!records.isEmpty() || left <= 0) {
                return records;
            }
            log.awaitAppend(nextOffset, left, TimeUnit.NANOSECONDS);
            checkOpen();
        }
    }

    /**
     * Waits up to {@code timeout} until the partition holds records at or after this reader's
     * position (returns at once when it already does).
     *
     * @return true when there is something to read
     */
    public boolean awaitData(Duration timeout) throws InterruptedException {
        checkOpen();
        return log.awaitAppend(nextOffset, timeout.toNanos(), TimeUnit.NANOSECONDS);
    }

    private int readInto(RecordHandler handler, int maxRecords, int maxBytes) throws IOException {
        RecordHandler consuming = record -> {
            handler.onRecord(record);
            nextOffset = record.offset() + 1;
        };
        int handed = 0;
        long taken = 0;
        boolean refreshed = false;
        while (handed < maxRecords) {
            if (segment == null && !locate()) {
                return handed;
            }
            if (filePosition >= end) {
                Advance next = advance(refreshed);
                if (next == Advance.REFRESHED) {
                    refreshed = true;
                } else if (next == Advance.AT_END) {
                    return handed;
                }
                continue;
            }
            int index = load(maxBytes);
            BatchHeader header = batch;
            if (header == null) {
                header = loaded;
                if (taken > 0 && taken + header.sizeInBytes() > maxBytes) {
                    return handed; // the next batch is over budget: leave it for the next poll
                }
                RecordDecoder.checkCrc(current, index, header, segmentPath(), filePosition);
                unpacker.unpack(current, index, header, segmentPath(), filePosition);
                cursor.reset();
                batch = header;
                taken += header.sizeInBytes();
            }
            // The records are where the unpacker found them when the batch was loaded: in place in
            // `current` for a plain batch, in the unpacker's buffer (kept until the next batch) for a packed one.
            handed += view.walk(unpacker.records(), unpacker.start(), unpacker.end(), header, cursor, nextOffset,
                    maxRecords - handed, consuming, segmentPath(), filePosition);
            if (!cursor.finished(header)) {
                return handed; // maxRecords reached inside the batch: the cursor keeps the place
            }
            nextOffset = Math.max(nextOffset, header.nextOffset());
            filePosition += header.sizeInBytes();
            batch = null;
            if (current != buffer) {
                current = null; // a one-off buffer for one large batch: give it back
            }
            if (taken >= maxBytes) {
                return handed;
            }
        }
        return handed;
    }

    private Path segmentPath() {
        if (pathOf != segment) {
            path = segment.path();
            pathOf = segment;
        }
        return path;
    }

    /** Positions the reader on the segment holding {@code nextOffset}; false when there is nothing there yet. */
    private boolean locate() {
        BatchReads.Found found = BatchReads.find(log, nextOffset);
        if (found == null) {
            return false;
        }
        segment = found.segment();
        filePosition = found.position();
        end = found.end();
        batch = null;
        return true;
    }

    private enum Advance { MOVED, REFRESHED, AT_END }

    /**
     * At the end of what may be read of the current segment: reads the snapshot for more of it,
     * or moves to the next segment, or (a follower) looks at the files once per poll.
     */
    private Advance advance(boolean refreshed) {
        log.checkOpen();
        LogState state = log.state();
        int i = state.indexOf(segment);
        if (i < 0) {
            // No longer in the partition: sealed and then removed by retention (or replaced by a
            // new writer while empty). Finish what its seal allows, then go on by offset.
            SegmentSummary sealedAs = segment.summary();
            if (sealedAs != null && sealedAs.size() > end) {
                end = sealedAs.size();
                return Advance.MOVED;
            }
            unposition();
            return Advance.MOVED;
        }
        long newEnd = state.end(i);
        if (newEnd > end) {
            end = newEnd;
            return Advance.MOVED;
        }
        if (state.sealed(i) && i + 1 < state.segmentCount()) {
            if (nextOffset < state.startOffset()) {
                // Retention removed what follows the segment this reader just finished.
                throw log.outOfRange(nextOffset, state.startOffset());
            }
            Segment next = state.segment(i + 1);
            if (!next.tryRetain()) {
                log.checkOpen(); // let go of by a close: the reader is done
                return Advance.MOVED; // removed meanwhile: the next snapshot says so
            }
            segment.release();
            segment = next;
            filePosition = 0;
            end = state.end(i + 1);
            batch = null;
            return Advance.MOVED;
        }
        if (!log.writable() && !refreshed) {
            // A read-only view learns of new data only by looking.
            log.refresh();
            return Advance.REFRESHED;
        }
        state.checkDamage();
        return Advance.AT_END;
    }

    /**
     * Makes sure the batch at {@code filePosition} is wholly in {@code current} and returns its
     * index there, reading ahead as far as the buffer holds.
     */
    private int load(int maxBytes) throws IOException {
        if (current != null && currentSegment == segment && filePosition >= currentStart) {
            long index = filePosition - currentStart;
            long available = current.limit() - index;
            if (batch != null && available >= batch.sizeInBytes()) {
                return (int) index;
            }
            if (available >= Math.min(MAX_HEADER_SIZE, end - filePosition)) {
                BatchHeader header = BatchHeader.readIfComplete(current, (int) index, available);
                if (header != null && header.problem() == null && available >= header.sizeInBytes()) {
                    loaded = header;
                    return (int) index;
                }
            }
        }
        // Until the read succeeds the buffer holds nothing usable: a read cut short (an
        // interrupt) must not leave old bytes that look like the new ones.
        current = null;
        currentSegment = null;
        // Read ahead as far as the caller's budget goes, so the next batches are already here;
        // at least the buffer's smallest size, which costs no more to read than a header and
        // usually holds the whole batch: one read, not a header's and then the batch's.
        ByteBuffer target = buffer(maxBytes, 0);
        int want = (int) Math.min(end - filePosition, Math.max(MIN_BUFFER, Math.min(target.capacity(), maxBytes)));
        target.clear().limit(want);
        segment.readFully(target, filePosition);
        target.flip();
        current = target;
        currentSegment = segment;
        currentStart = filePosition;
        BatchHeader header = BatchHeader.readIfComplete(target, 0, want);
        if (header == null) {
            segment.headerAt(filePosition, end); // throws: the segment ends inside a header
        }
        header = RecordDecoder.checkHeader(target, 0, segmentPath(), filePosition);
        loaded = header;
        int size = header.sizeInBytes();
        if (size > want) {
            segment.headerAt(filePosition, end); // throws when the batch runs past the end
            // Read the whole batch: into the reader's buffer, grown for it up to its limit, or
            // into a buffer of its own, given back once the batch is handed out.
            current = null;
            target = size <= MAX_BUFFER ? buffer(maxBytes, size) : ByteBuffer.allocateDirect(size);
            target.clear().limit(size);
            segment.readFully(target, filePosition);
            target.flip();
            current = target;
        }
        return 0;
    }

    /**
     * The reader's buffer, sized by what the caller asks for ({@code maxBytes}, 4 KiB to 1 MiB)
     * and the largest batch up to 1 MiB it had to hold ({@code atLeast}).
     */
    private ByteBuffer buffer(int maxBytes, int atLeast) {
        int asked = Math.max(atLeast, Math.min(maxBytes, MAX_BUFFER));
        int wanted = Math.max(MIN_BUFFER, asked <= 1 ? 1 : Integer.highestOneBit(asked - 1) << 1);
        if (buffer == null || buffer.capacity() < wanted) {
            buffer = ByteBuffer.allocateDirect(Math.min(wanted, MAX_BUFFER));
            if (current != null && current != buffer) {
                current = null;
            }
        }
        return buffer;
    }

    private void unposition() {
        path = null;
        pathOf = null;
        if (segment != null) {
            segment.release();
            segment = null;
        }
        batch = null;
        cursor.reset();
    }

    private void checkOpen() {
        if (closed) {
            throw new LogStoreException("reader of " + log.description() + " is closed");
        }
        if (log.isClosed()) {
            throw new LogStoreException(log.description() + " is closed; open the store again to read");
        }
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            unposition();
            current = null;
            buffer = null;
        }
    }
}
