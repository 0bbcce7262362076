package dev.logstore.log;

import static dev.logstore.record.BatchFormat.HEADER_SIZE;
import static dev.logstore.record.BatchFormat.MAX_TIMESTAMP_OFFSET;

import dev.logstore.AppendResult;
import dev.logstore.BufferTooSmallException;
import dev.logstore.Durability;
import dev.logstore.LogStoreException;
import dev.logstore.OffsetOutOfRangeException;
import dev.logstore.PartitionInfo;
import dev.logstore.Transfer;
import dev.logstore.record.BatchEncoder;
import dev.logstore.record.BatchHeader;
import dev.logstore.record.Record;
import dev.logstore.record.RecordDecoder;
import dev.logstore.segment.Segment;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.WritableByteChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;

/**
 * One partition: an ordered run of segments of which the last, the active segment, takes the
 * appends. A writable log holds the partition's lock; a read-only log follows a partition that
 * another process (or another store handle) writes, picking up new batches and segments when its
 * readers reach the end.
 *
 * <p>Concurrency: appends, rolls and retention run under {@code writeLock}; fsyncs run under
 * {@code syncLock} so appenders keep appending while one of them forces the file, and every
 * appender waiting behind it finds its data already covered (group commit). Readers take no lock:
 * they read the segment map, retain the segment they read, and stop at its published size.
 */
public final class PartitionLog implements AutoCloseable {

    private final String description;
    private final int partition;
    private final Path dir;
    private final LogConfig config;
    private final PartitionLock lock;
    final ConcurrentSkipListMap<Long, Segment> segments = new ConcurrentSkipListMap<>();

    private final ReentrantLock writeLock = new ReentrantLock();
    private final ReentrantLock syncLock = new ReentrantLock();
    private final AppendSignal appendSignal = new AppendSignal();
    private final FollowerDamage damage = new FollowerDamage();
    private final ReentrantLock refreshLock = new ReentrantLock();
    private final BatchEncoder encoder = new BatchEncoder();
    private final AtomicLong durableOffset = new AtomicLong();
    private final AtomicLong removedBelow = new AtomicLong();

    private volatile Segment active;
    private volatile long nextOffset;
    private volatile boolean closed;
    private int unflushedRecords;

    PartitionLog(String description, int partition, Path dir, LogConfig config, PartitionLock lock) {
        this.description = description;
        this.partition = partition;
        this.dir = dir;
        this.config = config;
        this.lock = lock;
    }

    /**
     * Opens a partition for writing: takes its lock, recovers it and leaves it ready to append.
     * See {@link PartitionLoader}.
     */
    public static PartitionLog openWritable(String storeName, int partition, Path dir, LogConfig config) {
        return PartitionLoader.openWritable(storeName, partition, dir, config);
    }

    /** Opens a read-only view of a partition that may be written elsewhere meanwhile. */
    public static PartitionLog openReadOnly(String storeName, int partition, Path dir, LogConfig config) {
        return PartitionLoader.openReadOnly(storeName, partition, dir, config);
    }

    void install(Segment segment) {
        segments.put(segment.baseOffset(), segment);
        active = segment;
        nextOffset = segment.nextOffset();
    }

    LogConfig config() {
        return config;
    }

    public int partition() {
        return partition;
    }

    public boolean writable() {
        return lock != null;
    }

    /** "partition N of store S", for messages. */
    public String description() {
        return description;
    }

    public long nextOffset() {
        return nextOffset;
    }

    public long startOffset() {
        Map.Entry<Long, Segment> first = segments.firstEntry();
        return first == null ? nextOffset : Math.min(first.getKey(), nextOffset);
    }

    /** The offset below which everything is known to be on disk. */
    public long durableOffset() {
        return durableOffset.get();
    }

    // ---------------------------------------------------------------- appends

    /**
     * Appends records as one batch.
     *
     * @param firstOffset offset of the first record (consecutive after it), or -1 for the next offset
     * @param offsets     explicit offsets of every record (strictly increasing), or null
     */
    public AppendResult append(List<Record> records, long firstOffset, long[] offsets) {
        if (lock == null) {
            throw new LogStoreException(description + " is open read-only; open the store for writing to append");
        }
        int count = records.size();
        if (count == 0) {
            throw new IllegalArgumentException(description + ": nothing to append (empty record list)");
        }
        if (offsets != null && offsets.length != count) {
            throw new IllegalArgumentException(description + ": " + offsets.length + " offsets for " + count + " records");
        }
        long base;
        long last;
        boolean mustSync;
        writeLock.lock();
        try {
            checkOpen();
            base = offsets != null ? offsets[0] : firstOffset < 0 ? nextOffset : firstOffset;
            if (base < nextOffset) {
                throw new IllegalArgumentException(description + ": offset " + base + " is below the next offset "
                        + nextOffset + "; offsets only grow, so append at " + nextOffset + " or later");
            }
            last = offsets != null ? checkOffsets(offsets) : base + count - 1;
            if (last < base) {
                throw new IllegalArgumentException(description + ": offsets overflow after " + base);
            }
            ByteBuffer batch = encoder.encode(base, offsets, records);
            long maxTimestamp = batch.getLong(MAX_TIMESTAMP_OFFSET);
            maybeRoll(base, last, batch.remaining());
            Segment segment = active;
            try {
                segment.append(batch, base, last + 1, maxTimestamp);
            } catch (IOException e) {
                dropPartialWrite(segment);
                throw new LogStoreException(description + ": cannot write to " + segment.file() + ": " + explain(e)
                        + ". Nothing of this append was stored", e);
            }
            nextOffset = last + 1;
            unflushedRecords += count;
            Durability durability = config.durability();
            mustSync = durability.mode() == Durability.Mode.ALWAYS
                    || (durability.mode() == Durability.Mode.EVERY_RECORDS && unflushedRecords >= durability.records());
        } finally {
            writeLock.unlock();
        }
        signalAppend();
        if (mustSync) {
            sync(last + 1);
        }
        return new AppendResult(partition, base, last);
    }

    /**
     * What an I/O failure means for the caller. A channel closed under a live store was closed by
     * an interrupt: Java closes a file channel for every user when a thread doing I/O on it is
     * interrupted.
     */
    private static String explain(IOException e) {
        if (e instanceof java.nio.channels.ClosedChannelException) {
            return "the segment file was closed because a thread was interrupted during I/O on it (Java closes "
                    + "interrupted file channels for every user); do not interrupt threads that append or flush, and "
                    + "reopen the store";
        }
        return e.getMessage() + "; free disk space or fix permissions and retry";
    }

    private long checkOffsets(long[] offsets) {
        for (int i = 1; i < offsets.length; i++) {
            if (offsets[i] <= offsets[i - 1]) {
                throw new IllegalArgumentException(description + ": offsets must strictly increase, but offset "
                        + offsets[i] + " follows " + offsets[i - 1]);
            }
        }
        long last = offsets[offsets.length - 1];
        if (last - offsets[0] > Integer.MAX_VALUE) {
            throw new IllegalArgumentException(description + ": offsets of one batch must lie within "
                    + Integer.MAX_VALUE + " of each other; split the batch");
        }
        return last;
    }

    private void dropPartialWrite(Segment segment) {
        try {
            segment.truncateToSize();
        } catch (IOException ignored) {
            // Recovery truncates whatever is past the last valid batch.
        }
    }

    private void maybeRoll(long base, long last, int batchSize) {
        Segment current = active;
        try {
            if (current.isEmpty()) {
                if (current.baseOffset() != base) {
                    // An empty segment whose name no longer matches its first offset: replace it.
                    Segment fresh = Segment.create(dir, base, config.indexIntervalBytes());
                    Directories.fsync(dir);
                    install(fresh);
                    segments.remove(current.baseOffset());
                    current.delete();
                }
                return;
            }
            boolean full = current.size() + batchSize > config.segmentBytes()
                    || current.size() + batchSize > Integer.MAX_VALUE;
            boolean old = System.currentTimeMillis() - current.createdMillis() >= config.segmentMillis();
            boolean offsetOverflow = last - current.baseOffset() > Integer.MAX_VALUE;
            if (full || old || offsetOverflow) {
                roll(base);
            }
        } catch (IOException e) {
            throw new LogStoreException(description + ": cannot start a new segment in " + dir + ": " + explain(e), e);
        }
    }

    /** Seals the active segment (forced, indexes written) and starts a new one at {@code base}. */
    private void roll(long base) throws IOException {
        Segment old = active;
        old.seal();
        durableOffset.accumulateAndGet(old.nextOffset(), Math::max);
        Segment fresh = Segment.create(dir, base, config.indexIntervalBytes());
        Directories.fsync(dir);
        install(fresh);
        enforceRetentionLocked(System.currentTimeMillis());
    }

    /** Forces everything appended so far to disk; returns when it is there. */
    public void flush() {
        if (lock != null) {
            sync(nextOffset);
        }
    }

    /** True when appends wait for a flush. */
    public boolean dirty() {
        return lock != null && durableOffset.get() < nextOffset;
    }

    /** Makes every offset below {@code target} durable, sharing the fsync with concurrent callers. */
    private void sync(long target) {
        if (durableOffset.get() >= target) {
            return;
        }
        syncLock.lock();
        try {
            if (durableOffset.get() >= target) {
                return;
            }
            Segment segment;
            long upTo;
            writeLock.lock();
            try {
                checkOpen();
                segment = active;
                upTo = nextOffset;
                unflushedRecords = 0;
                segment.tryRetain();
            } finally {
                writeLock.unlock();
            }
            try {
                segment.force();
            } finally {
                segment.release();
            }
            durableOffset.accumulateAndGet(upTo, Math::max);
        } catch (IOException e) {
            throw new LogStoreException(description + ": fsync of " + active.file() + " failed: " + explain(e)
                    + ". Data appended since the last successful flush may not be durable", e);
        } finally {
            syncLock.unlock();
        }
    }

    // ---------------------------------------------------------------- retention

    /** Deletes whole sealed segments beyond the retention limits; returns how many. */
    public int enforceRetention(long nowMillis) {
        if (lock == null) {
            return 0;
        }
        writeLock.lock();
        try {
            checkOpen();
            return enforceRetentionLocked(nowMillis);
        } catch (IOException e) {
            throw new LogStoreException(description + ": retention could not delete a segment in " + dir + ": "
                    + e.getMessage(), e);
        } finally {
            writeLock.unlock();
        }
    }

    private int enforceRetentionLocked(long nowMillis) throws IOException {
        int deleted = 0;
        if (config.retentionMillis() >= 0) {
            for (Segment segment : segments.values()) {
                if (segment == active || newestTimestamp(segment) >= nowMillis - config.retentionMillis()) {
                    break;
                }
                deleteSegment(segment);
                deleted++;
            }
        }
        if (config.retentionBytes() >= 0) {
            long total = sizeInBytes();
            for (Segment segment : segments.values()) {
                if (segment == active || total - segment.size() < config.retentionBytes()) {
                    break;
                }
                total -= segment.size();
                deleteSegment(segment);
                deleted++;
            }
        }
        if (deleted > 0) {
            Directories.fsync(dir);
        }
        return deleted;
    }

    /** The segment's newest record timestamp, or its file's modification time if records carry none. */
    private static long newestTimestamp(Segment segment) throws IOException {
        long max = segment.maxTimestamp();
        return max >= 0 ? max : Files.getLastModifiedTime(segment.file()).toMillis();
    }

    private void deleteSegment(Segment segment) throws IOException {
        removedBelow.accumulateAndGet(segment.nextOffset(), Math::max);
        segments.remove(segment.baseOffset());
        segment.delete();
    }

    // ---------------------------------------------------------------- reads

    /**
     * The segment holding {@code offset} (or the first one after it), retained for the caller, who
     * must release it; null when there is none.
     *
     * @throws OffsetOutOfRangeException when the offset is below the start offset
     */
    public Segment retainSegmentFor(long offset) {
        while (true) {
            long start = startOffset();
            if (offset < start) {
                throw outOfRange(offset, start);
            }
            Map.Entry<Long, Segment> entry = segments.floorEntry(offset);
            if (entry == null) {
                entry = segments.firstEntry();
            }
            if (entry == null) {
                return null;
            }
            if (entry.getValue().tryRetain()) {
                return entry.getValue();
            }
        }
    }

    /** The segment after {@code segment}, retained; null when there is none. */
    public Segment retainNext(Segment segment) {
        while (true) {
            Map.Entry<Long, Segment> entry = segments.higherEntry(segment.baseOffset());
            if (entry == null) {
                return null;
            }
            if (entry.getValue().tryRetain()) {
                return entry.getValue();
            }
        }
    }

    /** Every offset below this was in a segment retention deleted (0 when none was). */
    public long removedBelow() {
        return removedBelow.get();
    }

    /** True when a later segment exists, which makes {@code segment}'s size final. */
    public boolean hasSegmentAfter(Segment segment) {
        return segments.higherKey(segment.baseOffset()) != null;
    }

    public OffsetOutOfRangeException outOfRange(long offset, long start) {
        return new OffsetOutOfRangeException(description + ": offset " + offset + " is below the start offset " + start
                + " (never written, or removed by retention); read from " + start + " or later", start);
    }

    /** Copies whole batches from {@code offset} into {@code dst}; see {@link BatchReads#read}. */
    public int read(long offset, ByteBuffer dst) {
        return BatchReads.read(this, offset, dst);
    }

    /** Zero-copy transfer of whole batches; see {@link BatchReads#transfer}. */
    public long transferTo(long offset, long maxBytes, WritableByteChannel target) {
        return BatchReads.transfer(this, offset, maxBytes, target).bytes();
    }

    /** Like {@link #transferTo}, and also says where to continue. */
    public Transfer transfer(long offset, long maxBytes, WritableByteChannel target) {
        return BatchReads.transfer(this, offset, maxBytes, target);
    }

    // ---------------------------------------------------------------- following

    /**
     * For a read-only log: picks up what the writer appended since the last look (new batches in
     * the last segment, new segments, segments retention removed). A writable log knows already.
     */
    public void refresh() {
        if (lock != null || closed) {
            return;
        }
        refreshLock.lock();
        try {
            PartitionLoader.refresh(this, dir);
        } catch (IOException e) {
            throw new LogStoreException(description + ": cannot follow " + dir + ": " + e.getMessage(), e);
        } finally {
            refreshLock.unlock();
        }
    }

    /** Notes suspect bytes at a followed log's end; see {@link FollowerDamage#suspect}. */
    long suspect(Path file, long position) {
        return damage.suspect(file, position);
    }

    void damage(Path file, long position, String reason) {
        damage.record(file, position, reason);
    }

    /**
     * For a read-only log: throws the damage found where the valid data ends, if any. Readers call
     * it when they have read everything before it.
     */
    public void checkDamage() {
        damage.check();
    }

    void durableOffsetInit(long offset) {
        durableOffset.set(offset);
    }

    void publishNextOffset(long next) {
        nextOffset = next;
    }

    Segment active() {
        return active;
    }

    void setActive(Segment segment) {
        active = segment;
    }

    /**
     * Waits until an offset above {@code offset} exists, the log closes, or the timeout passes.
     *
     * @return true when there is data beyond {@code offset}
     */
    public boolean awaitAppend(long offset, long timeout, TimeUnit unit) throws InterruptedException {
        long nanos = unit.toNanos(timeout);
        if (lock == null) {
            long deadline = System.nanoTime() + nanos;
            refresh();
            while (nextOffset <= offset && !closed) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    break;
                }
                TimeUnit.NANOSECONDS.sleep(Math.min(left, TimeUnit.MILLISECONDS.toNanos(20)));
                refresh();
            }
            return nextOffset > offset;
        }
        return appendSignal.await(() -> nextOffset > offset || closed, nanos) && nextOffset > offset;
    }

    private void signalAppend() {
        appendSignal.signal();
    }

    // ---------------------------------------------------------------- info and close

    public long sizeInBytes() {
        long total = 0;
        for (Segment segment : segments.values()) {
            total += segment.size();
        }
        return total;
    }

    public PartitionInfo info() {
        long maxTimestamp = Long.MIN_VALUE;
        for (Segment segment : segments.values()) {
            if (!segment.isEmpty()) {
                maxTimestamp = Math.max(maxTimestamp, segment.maxTimestamp());
            }
        }
        return new PartitionInfo(partition, startOffset(), nextOffset, sizeInBytes(), segments.size(), maxTimestamp);
    }

    /** Segments, oldest first (a snapshot). */
    public List<Segment> segments() {
        return List.copyOf(segments.values());
    }

    public boolean isClosed() {
        return closed;
    }

    private void checkOpen() {
        if (closed) {
            throw new LogStoreException(description + " is closed");
        }
    }

    /**
     * Closes the log. A writable log forces its data, writes the active segment's indexes and
     * leaves a clean-shutdown marker so the next open skips recovery.
     */
    @Override
    public void close() {
        writeLock.lock();
        try {
            if (closed) {
                return;
            }
            closed = true;
            if (lock != null) {
                PartitionLoader.closeCleanly(this, dir, active);
            }
        } catch (IOException e) {
            throw new LogStoreException(description + ": clean shutdown failed: " + e.getMessage()
                    + ". The next open recovers the partition from its files", e);
        } finally {
            for (Segment segment : segments.values()) {
                segment.close();
            }
            try {
                if (lock != null) {
                    lock.close();
                }
            } catch (IOException ignored) {
                // The OS releases the lock with the file.
            } finally {
                writeLock.unlock();
                appendSignal.signalAll();
            }
        }
    }
}
