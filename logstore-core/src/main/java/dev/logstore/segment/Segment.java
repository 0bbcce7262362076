package dev.logstore.segment;

import static dev.logstore.record.BatchFormat.HEADER_SIZE;

import dev.logstore.CorruptLogException;
import dev.logstore.LogStoreException;
import dev.logstore.index.OffsetIndex;
import dev.logstore.index.TimeIndex;
import dev.logstore.record.BatchHeader;
import dev.logstore.record.RecordDecoder;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One segment: a log file of batches ({@code NNNNNNNNNNNNNNNNNNNN.log}, named by its zero-padded
 * base offset) with its sparse offset index and time index.
 *
 * <p>The writer appends under the partition's lock and then publishes the new end with a
 * volatile write of {@link #size()}; readers read only below a size they have read, so they never
 * see a half-written batch. A sealed segment is never written again.
 *
 * <p>Lifetime: the partition holds one reference and every reader positioned on the segment holds
 * another. Retention {@linkplain #delete() deletes} a segment by renaming its files to
 * {@code *.deleted} (a restart removes those) and the file channel is closed, and the files
 * removed, only when the last reference is released, so a reader in the middle of a deleted
 * segment finishes it undisturbed.
 */
public final class Segment {

    public static final String LOG_SUFFIX = ".log";
    public static final String INDEX_SUFFIX = ".index";
    public static final String TIME_INDEX_SUFFIX = ".timeindex";
    public static final String DELETED_SUFFIX = ".deleted";

    private final long baseOffset;
    private volatile Path logFile;
    private final FileChannel channel;
    private final boolean writable;
    private final int indexIntervalBytes;
    private final AtomicInteger refs = new AtomicInteger(1);

    private volatile long size;
    private volatile long nextOffset;
    private volatile long maxTimestamp = Long.MIN_VALUE;
    private volatile long lastBatchBaseOffset = -1;
    private volatile OffsetIndex offsetIndex;
    private volatile TimeIndex timeIndex;
    private volatile boolean deleted;

    private long bytesSinceIndexEntry;
    private long createdMillis;

    private Segment(Path logFile, long baseOffset, FileChannel channel, boolean writable, int indexIntervalBytes) {
        this.logFile = logFile;
        this.baseOffset = baseOffset;
        this.channel = channel;
        this.writable = writable;
        this.indexIntervalBytes = indexIntervalBytes;
        this.nextOffset = baseOffset;
        this.createdMillis = System.currentTimeMillis();
    }

    /** File name of a segment file: the base offset padded to 20 digits, then the suffix. */
    public static String fileName(long baseOffset, String suffix) {
        return String.format("%020d%s", baseOffset, suffix);
    }

    /** Base offset encoded in a segment file name, or -1 when the name is not one. */
    public static long parseBaseOffset(String fileName) {
        if (!fileName.endsWith(LOG_SUFFIX) || fileName.length() != 20 + LOG_SUFFIX.length()) {
            return -1;
        }
        try {
            return Long.parseLong(fileName.substring(0, 20));
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    /** Creates a new, empty segment file (the caller fsyncs the directory). */
    public static Segment create(Path dir, long baseOffset, int indexIntervalBytes) throws IOException {
        Path file = dir.resolve(fileName(baseOffset, LOG_SUFFIX));
        FileChannel channel = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.READ,
                StandardOpenOption.WRITE);
        Segment segment = new Segment(file, baseOffset, channel, true, indexIntervalBytes);
        segment.resetIndexes();
        return segment;
    }

    /**
     * Opens an existing segment file. Its size is taken as it is on disk; indexes are loaded lazily
     * (sealed segments) or rebuilt by {@link #recover} (the active one).
     */
    public static Segment open(Path file, long baseOffset, boolean writable, int indexIntervalBytes)
            throws IOException {
        FileChannel channel = writable
                ? FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)
                : FileChannel.open(file, StandardOpenOption.READ);
        Segment segment = new Segment(file, baseOffset, channel, writable, indexIntervalBytes);
        segment.size = channel.size();
        return segment;
    }

    public long baseOffset() {
        return baseOffset;
    }

    public Path file() {
        return logFile;
    }

    /** The published end: bytes below it hold whole, checked batches. */
    public long size() {
        return size;
    }

    /** The offset after the last batch, once known (indexes loaded or recovered). */
    public long nextOffset() {
        ensureIndexes();
        return nextOffset;
    }

    /** The greatest record timestamp in the segment, {@code Long.MIN_VALUE} when empty. */
    public long maxTimestamp() {
        ensureIndexes();
        return maxTimestamp;
    }

    public long createdMillis() {
        return createdMillis;
    }

    public boolean isEmpty() {
        return size == 0;
    }

    public Path indexFile() {
        return sibling(INDEX_SUFFIX);
    }

    public Path timeIndexFile() {
        return sibling(TIME_INDEX_SUFFIX);
    }

    private Path sibling(String suffix) {
        return logFile.resolveSibling(fileName(baseOffset, suffix));
    }

    // ---------------------------------------------------------------- writer side

    /**
     * Appends one encoded batch at the end and publishes it. Called only by the partition's
     * writer, under its lock. Durability is the caller's business ({@link #force()}).
     */
    public void append(ByteBuffer batch, long batchBaseOffset, long batchNextOffset, long batchMaxTimestamp)
            throws IOException {
        if (size == 0) {
            createdMillis = System.currentTimeMillis();
        }
        long position = size;
        int length = batch.remaining();
        long p = position;
        while (batch.hasRemaining()) {
            p += channel.write(batch, p);
        }
        index(position, length, batchBaseOffset, batchMaxTimestamp);
        nextOffset = batchNextOffset;
        size = position + length;
    }

    /** Adds a batch to the sparse indexes (single writer; lookups may run concurrently). */
    private void index(long position, int length, long batchBaseOffset, long batchMaxTimestamp) {
        if (bytesSinceIndexEntry >= indexIntervalBytes) {
            offsetIndex.append(batchBaseOffset, (int) position);
            bytesSinceIndexEntry = 0;
        }
        bytesSinceIndexEntry += length;
        lastBatchBaseOffset = batchBaseOffset;
        if (batchMaxTimestamp > maxTimestamp) {
            timeIndex.maybeAppend(batchMaxTimestamp, batchBaseOffset);
            maxTimestamp = batchMaxTimestamp;
        }
    }

    private void resetIndexes() {
        offsetIndex = new OffsetIndex(baseOffset);
        timeIndex = new TimeIndex(baseOffset);
        bytesSinceIndexEntry = indexIntervalBytes;
        maxTimestamp = Long.MIN_VALUE;
        nextOffset = baseOffset;
        lastBatchBaseOffset = -1;
    }

    /** Forces the log file's data (and the metadata needed to read it) to disk. */
    public void force() throws IOException {
        channel.force(false);
    }

    /** Writes both indexes to their files (atomically each). The caller fsyncs the directory. */
    public void writeIndexes() throws IOException {
        ensureIndexes();
        offsetIndex.writeTo(indexFile(), size);
        timeIndex.writeTo(timeIndexFile(), size);
    }

    /**
     * Scans the segment from the start, truncates it after the last valid batch and rebuilds its
     * indexes in memory. Used on the active segment after an unclean shutdown.
     *
     * @return what the scan found; {@code problem()} says what was cut off, if anything
     */
    public SegmentScanner.Result recover(long minOffset) throws IOException {
        SegmentScanner.Result result = rescan(minOffset);
        if (result.validEnd() < channel.size()) {
            channel.truncate(result.validEnd());
            channel.force(true);
        }
        return result;
    }

    /**
     * Scans the whole file again, rebuilding the indexes in memory and publishing the valid
     * prefix, without changing the file. Read-only views use it on a segment a writer may still
     * be appending to.
     */
    public synchronized SegmentScanner.Result rescan(long minOffset) throws IOException {
        resetIndexes();
        size = 0;
        return scanAndIndex(minOffset);
    }

    /**
     * Picks up batches another process appended since the last call: scans from the published end
     * to the file's current end, indexes the valid batches and publishes them. A batch still
     * being written is simply not published yet. Used by read-only views of a live partition.
     */
    public synchronized SegmentScanner.Result catchUp() throws IOException {
        return scanAndIndex(nextOffset);
    }

    private SegmentScanner.Result scanAndIndex(long minOffset) throws IOException {
        SegmentScanner.Result result = SegmentScanner.scan(channel, size, channel.size(),
                Math.max(minOffset, Math.max(nextOffset, baseOffset)),
                (position, header) -> index(position, header.sizeInBytes(), header.baseOffset(), header.maxTimestamp()));
        nextOffset = result.nextOffset();
        size = result.validEnd();
        return result;
    }

    /**
     * Makes the indexes available: loads them from their files when those are consistent with the
     * log, else rebuilds them from the log (and rewrites the files when writable).
     *
     * @throws CorruptLogException when the log itself has an invalid batch
     */
    public void ensureIndexes() {
        if (offsetIndex != null) {
            return;
        }
        synchronized (this) {
            if (offsetIndex != null) {
                return;
            }
            try {
                if (!loadIndexes()) {
                    long end = size;
                    resetIndexes();
                    size = 0;
                    SegmentScanner.Result result = scanAndIndex(baseOffset);
                    if (!result.clean()) {
                        size = end;
                        throw new CorruptLogException(logFile, result.validEnd(), result.problem());
                    }
                    if (writable) {
                        writeIndexes();
                    }
                }
            } catch (IOException e) {
                throw new LogStoreException("Cannot read the indexes of segment " + logFile + ": "
                        + e.getMessage(), e);
            }
        }
    }

    /** True when both index files were present and agree with the log file. */
    private boolean loadIndexes() throws IOException {
        long fileSize = size;
        OffsetIndex offsets = OffsetIndex.load(indexFile(), baseOffset);
        if (offsets == null || fileSize == 0) {
            return false;
        }
        if (offsets.recordedSegmentSize() != fileSize) {
            // An intact index of a segment that has since changed size: bytes were cut off (or
            // added) behind the store's back. Rebuilding would turn lost records into a silent gap.
            throw new CorruptLogException(logFile, Math.min(fileSize, offsets.recordedSegmentSize()), "the segment is "
                    + fileSize + " bytes but was " + offsets.recordedSegmentSize() + " bytes when its index was written");
        }
        // The last batch is found from the last index entry; its header must agree.
        long position = Math.max(0, offsets.lastPosition());
        long expectedOffset = offsets.size() == 0 ? -1 : offsets.lastOffset();
        ByteBuffer header = ByteBuffer.allocate(HEADER_SIZE);
        BatchHeader last = null;
        while (position < fileSize) {
            if (fileSize - position < HEADER_SIZE) {
                return false;
            }
            header.clear();
            SegmentScanner.readFully(channel, header, position);
            BatchHeader h = BatchHeader.read(header, 0);
            if (h.problem() != null || (expectedOffset >= 0 && h.baseOffset() != expectedOffset)
                    || position + h.sizeInBytes() > fileSize) {
                return false;
            }
            expectedOffset = -1;
            last = h;
            position += h.sizeInBytes();
        }
        if (last == null) {
            return false;
        }
        TimeIndex times = TimeIndex.load(timeIndexFile(), baseOffset, last.lastOffset());
        if (times == null || times.size() == 0) {
            return false;
        }
        nextOffset = last.nextOffset();
        lastBatchBaseOffset = last.baseOffset();
        maxTimestamp = times.maxTimestamp();
        timeIndex = times;
        offsetIndex = offsets;
        return true;
    }

    /** Adds the final time index entry, forces the data and writes both index files. */
    public void seal() throws IOException {
        ensureIndexes();
        if (lastBatchBaseOffset >= 0) {
            timeIndex.maybeAppend(maxTimestamp, lastBatchBaseOffset);
        }
        force();
        writeIndexes();
    }

    // ---------------------------------------------------------------- reader side

    /**
     * Position of the first batch whose last offset is at or above {@code target}, or
     * {@code size()} as read by the caller ({@code end}) when there is none below it.
     */
    public long positionOf(long target, long end) throws IOException {
        ensureIndexes();
        long position = offsetIndex.lookup(target);
        long skipped = -1;
        BatchHeader skippedHeader = null;
        while (position < end) {
            BatchHeader h = headerAt(position);
            if (h.lastOffset() >= target) {
                if (h.baseOffset() > target && skippedHeader != null) {
                    // The target falls between two batches: a gap in the offsets, or a damaged
                    // header that made the batch holding it look as if it ended earlier. Only
                    // the batch just stepped over can tell, by its checksum.
                    checkCrc(skipped, skippedHeader);
                }
                return position;
            }
            skipped = position;
            skippedHeader = h;
            position += h.sizeInBytes();
        }
        if (skippedHeader != null) {
            checkCrc(skipped, skippedHeader);
        }
        return end;
    }

    /** Reads the whole batch at {@code position}, whose header is {@code header}, and checks its CRC-32C. */
    private void checkCrc(long position, BatchHeader header) throws IOException {
        ByteBuffer batch = ByteBuffer.allocate(header.sizeInBytes());
        readFully(batch, position);
        int crc = BatchHeader.computeCrc(batch, 0, header.sizeInBytes());
        if (crc != header.crc()) {
            throw new CorruptLogException(logFile, position, String.format("CRC-32C mismatch (stored %08x, computed "
                    + "%08x)", header.crc(), crc));
        }
    }

    /** A batch boundary at or below {@code maxPosition}, found in the index (0 when none is indexed). */
    public long floorBatchPosition(long maxPosition) {
        ensureIndexes();
        return offsetIndex.floorPosition(maxPosition);
    }

    /** The batch header at {@code position}, checked, including that the whole batch lies within the segment. */
    public BatchHeader headerAt(long position) throws IOException {
        ByteBuffer header = ByteBuffer.allocate(HEADER_SIZE);
        readFully(header, position);
        BatchHeader checked = RecordDecoder.checkHeader(header, 0, logFile, position);
        if (position + checked.sizeInBytes() > size) {
            throw new CorruptLogException(logFile, position, "the batch claims " + checked.sizeInBytes()
                    + " bytes but the segment ends " + (size - position) + " bytes after its start");
        }
        return checked;
    }

    /** The offset to start scanning at for the first record with a timestamp at or above {@code ts}. */
    public long offsetForTimestamp(long ts) {
        ensureIndexes();
        return timeIndex.lookup(ts);
    }

    /**
     * Reads until {@code dst} is full. A file that ends first was cut short behind the index's
     * back: that is reported as corruption at {@code position}, not as an I/O error.
     */
    public void readFully(ByteBuffer dst, long position) throws IOException {
        try {
            SegmentScanner.readFully(channel, dst, position);
        } catch (java.io.EOFException e) {
            throw new CorruptLogException(logFile, position, "the file ends before the batch does (" + e.getMessage()
                    + ")");
        }
    }

    /** Zero-copy transfer of {@code [position, position + count)} to {@code target}. */
    public long transferTo(long position, long count, WritableByteChannel target) throws IOException {
        long done = 0;
        while (done < count) {
            long n = channel.transferTo(position + done, count - done, target);
            if (n <= 0) {
                break;
            }
            done += n;
        }
        return done;
    }

    // ---------------------------------------------------------------- lifetime

    /** Takes a reference for a reader; false when the segment is already gone. */
    public boolean tryRetain() {
        while (true) {
            int n = refs.get();
            if (n <= 0) {
                return false;
            }
            if (refs.compareAndSet(n, n + 1)) {
                return true;
            }
        }
    }

    /** Gives a reference back; the last one closes the channel and removes deleted files. */
    public void release() {
        if (refs.decrementAndGet() == 0) {
            try {
                channel.close();
                if (deleted) {
                    Files.deleteIfExists(logFile);
                    Files.deleteIfExists(deletedName(indexFile()));
                    Files.deleteIfExists(deletedName(timeIndexFile()));
                }
            } catch (IOException e) {
                // Files renamed *.deleted are removed on the next open anyway.
            }
        }
    }

    /**
     * Marks the segment deleted (renames its files to {@code *.deleted}) and drops the
     * partition's reference. Readers already on it keep reading.
     */
    public void delete() throws IOException {
        deleted = true;
        Path log = logFile;
        Files.move(log, deletedName(log), StandardCopyOption.ATOMIC_MOVE);
        logFile = deletedName(log);
        for (Path index : new Path[] {indexFile(), timeIndexFile()}) {
            if (Files.exists(index)) {
                Files.move(index, deletedName(index), StandardCopyOption.ATOMIC_MOVE);
            }
        }
        release();
    }

    /** Drops the partition's reference without deleting anything (store close). */
    public void close() {
        release();
    }

    /** Cuts the file back to the published end (drops bytes of a failed append). */
    public void truncateToSize() throws IOException {
        if (channel.size() > size) {
            channel.truncate(size);
        }
    }

    /** Removes the segment's files right away; only for a segment no reader can hold (recovery). */
    public void destroy() throws IOException {
        channel.close();
        Files.deleteIfExists(logFile);
        Files.deleteIfExists(indexFile());
        Files.deleteIfExists(timeIndexFile());
    }

    public boolean isDeleted() {
        return deleted;
    }

    private static Path deletedName(Path file) {
        String name = file.getFileName().toString();
        return name.endsWith(DELETED_SUFFIX) ? file : file.resolveSibling(name + DELETED_SUFFIX);
    }

    public FileChannel channel() {
        return channel;
    }

    @Override
    public String toString() {
        return "Segment[" + logFile + ", size=" + size + "]";
    }
}
