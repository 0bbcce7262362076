package dev.logstore;

import static dev.logstore.record.BatchFormat.HEADER_SIZE;

import dev.logstore.log.PartitionLog;
import dev.logstore.record.BatchHeader;
import dev.logstore.record.LogRecord;
import dev.logstore.record.RecordDecoder;
import dev.logstore.record.RecordHandler;
import dev.logstore.record.RecordView;
import dev.logstore.segment.Segment;
import java.io.IOException;
import java.nio.ByteBuffer;
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
 * disturb it. One reader is meant for one thread at a time. Close it when done.
 */
public final class LogReader implements AutoCloseable {

    private static final int INITIAL_BUFFER = 1 << 20;

    private final PartitionLog log;
    private final RecordView view = new RecordView();
    // Direct, so a file read lands in it without the JDK's extra copy through a temporary buffer.
    private ByteBuffer buffer = ByteBuffer.allocateDirect(INITIAL_BUFFER);
    private Segment segment;
    private long filePosition;
    private long nextOffset;
    private boolean closed;

    LogReader(PartitionLog log) {
        this.log = log;
        this.nextOffset = log.startOffset();
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
        long start = log.startOffset();
        if (offset < start) {
            throw log.outOfRange(offset, start);
        }
        unposition();
        nextOffset = offset;
        return this;
    }

    /** Moves to the partition's start offset. */
    public LogReader seekToStart() {
        return seek(log.startOffset());
    }

    /** Moves to the end: the next poll returns only records appended from now on. */
    public LogReader seekToEnd() {
        log.refresh();
        return seek(log.nextOffset());
    }

    /**
     * Moves to the first record whose timestamp is at or above {@code timestamp}, or to the end
     * when there is none. Costs one index lookup per segment plus a scan of at most one index
     * interval.
     */
    public LogReader seekToTimestamp(long timestamp) {
        checkOpen();
        log.refresh();
        for (Segment candidate : log.segments()) {
            if (candidate.isEmpty() || candidate.maxTimestamp() < timestamp || !candidate.tryRetain()) {
                continue;
            }
            try {
                long from = candidate.offsetForTimestamp(timestamp);
                long found = firstAtOrAfter(candidate, from, timestamp);
                if (found >= 0) {
                    return seek(found);
                }
            } catch (IOException e) {
                throw new LogStoreException(log.description() + ": cannot read " + candidate.file() + ": "
                        + e.getMessage(), e);
            } finally {
                candidate.release();
            }
        }
        return seek(log.nextOffset());
    }

    private long firstAtOrAfter(Segment candidate, long fromOffset, long timestamp) throws IOException {
        long end = candidate.size();
        long position = candidate.positionOf(fromOffset, end);
        while (position < end) {
            BatchHeader header = candidate.headerAt(position);
            if (header.maxTimestamp() >= timestamp) {
                ByteBuffer batch = ByteBuffer.allocate(header.sizeInBytes());
                candidate.readFully(batch, position);
                long[] found = {-1};
                RecordDecoder.decodeBatch(batch, 0, header, candidate.file(), position, fromOffset, Integer.MAX_VALUE,
                        view, record -> {
                            if (found[0] < 0 && record.timestamp() >= timestamp) {
                                found[0] = record.offset();
                            }
                        });
                if (found[0] >= 0) {
                    return found[0];
                }
            }
            position += header.sizeInBytes();
        }
        return -1;
    }

    /**
     * Returns the next records, at most {@code maxRecords}, from whole batches of at most about
     * {@code maxBytes} (at least one batch, however large, so the reader always progresses).
     * Returns an empty list at the end of the partition without waiting. Each record is a copy
     * the caller owns; {@link #poll(RecordHandler, int, int)} reads without copying.
     */
    public List<LogRecord> poll(int maxRecords, int maxBytes) {
        List<LogRecord> records = new ArrayList<>(Math.min(Math.max(maxRecords, 0), 1024));
        long start = nextOffset;
        try {
            poll(record -> records.add(record.toLogRecord()), maxRecords, maxBytes);
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
        } catch (IOException e) {
            throw new LogStoreException(log.description() + ": cannot read " + (segment == null ? "" : segment.file())
                    + ": " + e.getMessage(), e);
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
        int handedTotal = 0;
        int bytesRead = 0;
        boolean refreshed = false;
        while (handedTotal < maxRecords && bytesRead < maxBytes) {
            if (!positioned()) {
                return handedTotal;
            }
            boolean sealed = log.hasSegmentAfter(segment);
            long end = segment.size();
            if (filePosition >= end) {
                if (sealed && advanceSegment()) {
                    continue;
                }
                if (!log.writable() && !refreshed) {
                    // A read-only view learns of new data only by looking.
                    log.refresh();
                    refreshed = true;
                    continue;
                }
                if (handedTotal == 0) {
                    log.checkDamage();
                }
                return handedTotal;
            }
            if (end - filePosition < HEADER_SIZE) {
                segment.headerAt(filePosition); // less than a header left: the segment was cut short
            }
            int want = (int) Math.min(end - filePosition, Math.max(HEADER_SIZE, Math.min(buffer.capacity(),
                    (long) maxBytes - bytesRead)));
            buffer.clear().limit(want);
            segment.readFully(buffer, filePosition);
            buffer.flip();
            BatchHeader header = RecordDecoder.checkHeader(buffer, 0, segment.file(), filePosition);
            if (header.sizeInBytes() > want) {
                segment.headerAt(filePosition); // throws when the batch runs past the segment's end
                if (bytesRead > 0) {
                    return handedTotal;
                }
                // A batch larger than what was read: fetch it whole.
                if (buffer.capacity() < header.sizeInBytes()) {
                    buffer = ByteBuffer.allocateDirect(header.sizeInBytes());
                }
                buffer.clear().limit(header.sizeInBytes());
                segment.readFully(buffer, filePosition);
                buffer.flip();
            }
            int index = 0;
            while (index + HEADER_SIZE <= buffer.limit() && handedTotal < maxRecords) {
                header = RecordDecoder.checkHeader(buffer, index, segment.file(), filePosition);
                int size = header.sizeInBytes();
                if (index + size > buffer.limit()) {
                    if (bytesRead > 0 && (long) bytesRead + size > maxBytes) {
                        return handedTotal; // the next batch is over budget: do not read it only to drop it
                    }
                    break;
                }
                int wanted = maxRecords - handedTotal;
                int handed = RecordDecoder.decodeBatch(buffer, index, header, segment.file(), filePosition, nextOffset,
                        wanted, view, consuming);
                handedTotal += handed;
                if (handed == wanted && nextOffset <= header.lastOffset()) {
                    return handedTotal;
                }
                nextOffset = Math.max(nextOffset, header.nextOffset());
                filePosition += size;
                index += size;
                bytesRead += size;
            }
        }
        return handedTotal;
    }

    /** Makes sure the reader holds the segment of {@code nextOffset}; false when there is nothing yet. */
    private boolean positioned() throws IOException {
        if (segment != null) {
            // Even a segment retention deleted meanwhile: the reader holds it and finishes it.
            return true;
        }
        if (nextOffset >= log.nextOffset()) {
            log.refresh();
            if (nextOffset >= log.nextOffset()) {
                log.checkDamage();
                return false;
            }
        }
        Segment found = log.retainSegmentFor(nextOffset);
        if (found == null) {
            return false;
        }
        segment = found;
        filePosition = found.positionOf(nextOffset, found.size());
        return true;
    }

    private boolean advanceSegment() throws IOException {
        if (log.removedBelow() > nextOffset) {
            // Retention removed what follows the segment this reader just finished.
            throw log.outOfRange(nextOffset, log.startOffset());
        }
        Segment next = log.retainNext(segment);
        if (next == null) {
            return false;
        }
        segment.release();
        segment = next;
        filePosition = 0;
        return true;
    }

    private void unposition() {
        if (segment != null) {
            segment.release();
            segment = null;
        }
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
        }
    }
}
