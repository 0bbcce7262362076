package dev.logstore.log;

import dev.logstore.LogStoreException;
import dev.logstore.LogStoreInterruptedException;
import dev.logstore.OffsetOutOfRangeException;
import dev.logstore.PartitionInfo;
import dev.logstore.segment.InterruptedTransferException;
import dev.logstore.segment.Segment;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * One partition as readers see it: a sequence of immutable {@link LogState} snapshots, published
 * one at a time. Two kinds: the {@link PartitionWriter}, which owns the partition and publishes
 * each append, and the {@link PartitionFollower}, a read-only view that learns what a writer
 * elsewhere did by reading the partition's manifest and scanning its active segment.
 */
public abstract class PartitionLog implements AutoCloseable {

    private static final java.util.concurrent.atomic.AtomicLong HANDLES = new java.util.concurrent.atomic.AtomicLong();

    final String description;
    final int partition;
    /** Tells this handle from any other of this JVM, of any partition or store (see {@link BatchReads.SentBatch}). */
    final long handle = HANDLES.incrementAndGet();
    final Path dir;
    final LogConfig config;
    volatile LogState state;
    volatile boolean closed;

    PartitionLog(String description, int partition, Path dir, LogConfig config) {
        this.description = description;
        this.partition = partition;
        this.dir = dir;
        this.config = config;
    }

    static String describe(String storeName, int partition) {
        return "partition " + partition + " of store " + storeName;
    }

    public int partition() {
        return partition;
    }

    /**
     * Walks every batch header of the partition as it stands now (one read per index interval of
     * file, plus one of four bytes per packed batch) and sums what is stored against what the
     * records take unpacked. Needs no key.
     */
    public dev.logstore.StoredBytes storedBytes() {
        refresh();
        LogState s = state;
        long batches = 0;
        long stored = 0;
        long records = 0;
        long firstTimestamp = Long.MIN_VALUE;
        java.nio.ByteBuffer size = java.nio.ByteBuffer.allocate(4);
        for (int i = 0; i < s.segmentCount(); i++) {
            dev.logstore.segment.Segment segment = s.segment(i);
            if (!segment.tryRetain()) {
                return storedBytes(); // retention removed it meanwhile: walk the newer snapshot
            }
            try {
                long end = s.end(i);
                dev.logstore.segment.Segment.HeaderWindow headers = segment.headerWindow();
                for (long position = 0; position < end; ) {
                    dev.logstore.record.BatchHeader header = headers.headerAt(position, end);
                    if (firstTimestamp == Long.MIN_VALUE) {
                        firstTimestamp = header.firstTimestamp();
                    }
                    batches++;
                    stored += header.sizeInBytes();
                    if (header.plain()) {
                        records += header.sizeInBytes() - header.headerSize();
                    } else {
                        segment.readFully(size.clear(), position + header.headerSize());
                        records += size.getInt(0);
                    }
                    position += header.sizeInBytes();
                }
            } catch (IOException e) {
                throw readFailure(segment, e);
            } finally {
                segment.release();
            }
        }
        return new dev.logstore.StoredBytes(partition, batches, stored, records, firstTimestamp);
    }

    /** The keys that decrypt this partition's encrypted batches; null when none were given. */
    public dev.logstore.KeyProvider keys() {
        return config.keys();
    }

    /** "partition N of store S", for messages. */
    public String description() {
        return description;
    }

    /** The latest published snapshot. */
    public LogState state() {
        return state;
    }

    /**
     * A snapshot fit to read {@code offset} from: a follower whose snapshot ends at or before the
     * offset first looks at the files for more.
     */
    public LogState stateFor(long offset) {
        LogState current = state;
        if (offset >= current.nextOffset() && !closed) {
            refresh();
            current = state;
        }
        return current;
    }

    /** Brings the snapshot up to date with the files (a follower); a writer's is always current. */
    public abstract void refresh();

    /** True when this handle may append. */
    public abstract boolean writable();

    /**
     * Waits until an offset above {@code offset} exists, the log closes, or the timeout passes.
     *
     * @return true when there is data beyond {@code offset}
     */
    public abstract boolean awaitAppend(long offset, long timeout, TimeUnit unit) throws InterruptedException;

    public boolean isClosed() {
        return closed;
    }

    /** Offsets, size, segments and newest timestamp, from the current snapshot. */
    public PartitionInfo info() {
        LogState s = state;
        return new PartitionInfo(partition, s.startOffset(), s.nextOffset(), s.sizeInBytes(), s.segmentCount(),
                s.maxTimestamp());
    }

    public OffsetOutOfRangeException outOfRange(long offset, long start) {
        return new OffsetOutOfRangeException(description + ": offset " + offset + " is below the start offset " + start
                + " (never written, or removed by retention); read from " + start + " or later", start);
    }

    /**
     * The exception a reader of {@code offset} throws for an I/O error on {@code segment}: when
     * the segment's file is gone because retention removed it (a follower opens files only when
     * it first reads them), the offset is out of range, as the current snapshot tells.
     */
    public LogStoreException readFailure(Segment segment, long offset, IOException e) {
        if (e instanceof NoSuchFileException) {
            refresh();
            LogState current = state;
            if (offset < current.startOffset() || (segment != null && current.indexOf(segment) < 0
                    && segment.summary() != null && offset < segment.summary().nextOffset())) {
                return outOfRange(offset, current.startOffset());
            }
        }
        return readFailure(segment, e);
    }

    /** The exception a reader throws for an I/O error on {@code segment}. */
    public LogStoreException readFailure(Segment segment, IOException e) {
        String where = segment == null ? dir.toString() : segment.path().toString();
        if (e instanceof InterruptedIOException interrupted) {
            String sent = interrupted instanceof InterruptedTransferException ? " The transfer had sent at least "
                    + interrupted.bytesTransferred + " bytes to its target, perhaps more, and may have stopped inside a "
                    + "batch: that target's stream is not known to be whole, so do not go on with it." : "";
            return new LogStoreInterruptedException(description + ": reading " + where + " was interrupted: the "
                    + "thread's interrupt flag is set. The store and other readers are unaffected; clear the flag (or "
                    + "read on another thread) and read again." + sent, e);
        }
        if (e instanceof NoSuchFileException) {
            if (segment != null && state.indexOf(segment) >= 0) {
                return new LogStoreException(description + ": " + where + " is missing, although the partition's "
                        + "manifest names it: it was removed by hand. Restore it from a copy", e);
            }
            return new LogStoreException(description + ": " + where + " is gone (removed by retention); read again "
                    + "from the start offset", e);
        }
        return new LogStoreException(description + ": cannot read " + where + ": " + e.getMessage(), e);
    }

    /** Throws when the log is closed: readers stop there rather than wait for segments a close let go of. */
    public void checkOpen() {
        if (closed) {
            throw new LogStoreException(description + " is closed; open the store again to use it");
        }
    }

    @Override
    public abstract void close();
}
