package dev.logstore.segment;

import static dev.logstore.record.BatchFormat.MAX_HEADER_SIZE;
import static dev.logstore.record.BatchFormat.MIN_HEADER_SIZE;

import dev.logstore.CorruptLogException;
import dev.logstore.index.OffsetIndex;
import dev.logstore.index.PageSpill;
import dev.logstore.index.TimeIndex;
import dev.logstore.io.FileOpener;
import dev.logstore.record.BatchHeader;
import dev.logstore.record.RecordDecoder;
import java.io.EOFException;
import java.io.IOException;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.nio.channels.WritableByteChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One segment of a partition: a log file of batches ({@code NNNNNNNNNNNNNNNNNNNN.log}, named by
 * its zero-padded base offset), its indexes and its lifetime. {@link SegmentFile} does the file
 * I/O, {@link SegmentIndexes} maps offsets and timestamps to positions, and a reference count
 * kept here keeps the segment alive while readers use it. An archive holds many of these for
 * each one being written, so a sealed segment holds little: its summary, its file's read side,
 * and its indexes only while the cap on index memory lets it.
 *
 * <p>A segment never decides how far it may be read: every read takes the end from the reader's
 * snapshot of the partition (the published end of the active segment, or the size the manifest
 * recorded for a sealed one), so bytes past it (a write in progress, a fenced writer's late
 * bytes) are never data.
 *
 * <p>Lifetime: the partition's segment list holds one reference, every reader positioned on
 * the segment another. When retention {@linkplain #retire(boolean) retires} it, the files are
 * deleted once the last reader lets go, so a reader in the middle of a deleted segment finishes
 * it undisturbed.
 */
public final class Segment extends IndexMemory.Holder {

    public static final String LOG_SUFFIX = ".log";
    public static final String INDEX_SUFFIX = ".index";
    public static final String TIME_INDEX_SUFFIX = ".timeindex";

    private static final Logger log = LoggerFactory.getLogger(Segment.class);
    private static final VarHandle REFS;

    static {
        try {
            REFS = MethodHandles.lookup().findVarHandle(Segment.class, "refs", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private final long baseOffset;
    private final int epoch;
    private final SegmentFile file;
    private final FileOpener opener;
    private final int indexIntervalBytes;
    private final boolean maintainsIndexFiles;
    private final IndexMemory indexMemory;
    /**
     * References: the partition's segment list holds the first, every reader positioned on the
     * segment one more. Once it drops to zero the segment is closed and is never taken again.
     */
    @SuppressWarnings("unused") // through REFS
    private volatile int refs = 1;

    private volatile SegmentIndexes indexes;
    /** Bytes of the indexes counted against {@link #indexMemory}: a sealed segment's; 0 when none are. */
    private volatile long indexBytes;
    /** Set by every use of the indexes, cleared by the cap's sweep: used ones get a second chance. */
    private volatile boolean indexUsed;
    /**
     * The pages of a sealed segment's offset index file, kept when its indexes are dropped: an
     * offset is then looked up with one read of one page of the file instead of loading it all.
     */
    private volatile OffsetIndex.Directory directory;
    private volatile SegmentSummary summary;
    private volatile long createdMillis;
    private volatile boolean deleteWhenUnused;

    private Segment(long baseOffset, int epoch, SegmentFile file, FileOpener opener, IndexMemory indexMemory,
                    int indexIntervalBytes, boolean maintainsIndexFiles, long createdMillis) {
        this.baseOffset = baseOffset;
        this.indexMemory = indexMemory;
        this.epoch = epoch;
        this.file = file;
        this.opener = opener;
        this.indexIntervalBytes = indexIntervalBytes;
        this.maintainsIndexFiles = maintainsIndexFiles;
        this.createdMillis = createdMillis;
    }

    /** File name of a segment file: the base offset padded to 20 digits, then the suffix. */
    public static String fileName(long baseOffset, String suffix) {
        if (baseOffset < 0) {
            throw new IllegalArgumentException("a segment's base offset is not negative: " + baseOffset);
        }
        String digits = Long.toString(baseOffset);
        StringBuilder name = new StringBuilder(20 + suffix.length());
        for (int i = digits.length(); i < 20; i++) {
            name.append('0');
        }
        return name.append(digits).append(suffix).toString();
    }

    /** Base offset encoded in a segment file name, or -1 when the name is not one. */
    public static long parseBaseOffset(String fileName) {
        return parseBaseOffset(fileName, LOG_SUFFIX);
    }

    /**
     * Base offset encoded in the name of one of a segment's files ({@code suffix} is
     * {@link #LOG_SUFFIX}, {@link #INDEX_SUFFIX} or {@link #TIME_INDEX_SUFFIX}), or -1 when the
     * name is not one: twenty decimal digits, then the suffix. Parsed in place, without a
     * substring: a partition directory of a million segments lists three million names.
     */
    public static long parseBaseOffset(String fileName, String suffix) {
        if (fileName.length() != 20 + suffix.length() || !fileName.endsWith(suffix)) {
            return -1;
        }
        long value = 0;
        for (int i = 0; i < 20; i++) {
            int digit = fileName.charAt(i) - '0';
            if (digit < 0 || digit > 9 || value > (Long.MAX_VALUE - digit) / 10) {
                return -1;
            }
            value = value * 10 + digit;
        }
        return value;
    }

    /**
     * Creates the file of a new, empty active segment, with a write channel and empty indexes.
     * The caller makes the new directory entry durable.
     */
    public static Segment create(FileOpener opener, OpenFiles pool, IndexMemory indexMemory, Path dir, long baseOffset,
                                 int epoch, int indexIntervalBytes, boolean mappedAppends) throws IOException {
        SegmentFile file = SegmentFile.create(opener, pool, dir, baseOffset, mappedAppends);
        Segment segment = new Segment(baseOffset, epoch, file, opener, indexMemory, indexIntervalBytes, true, -1);
        segment.indexes = segment.activeIndexes();
        return segment;
    }

    /**
     * Takes over the existing, empty file of a segment that a writer closed cleanly, as the new
     * active segment of writer epoch {@code epoch}: like {@link #create}, but the file is there.
     */
    public static Segment takeOver(FileOpener opener, OpenFiles pool, IndexMemory indexMemory, Path dir,
                                   long baseOffset, int epoch, int indexIntervalBytes, boolean mappedAppends)
            throws IOException {
        // Index files an earlier version wrote at its clean close describe it empty: stale once it grows.
        Files.deleteIfExists(dir.resolve(fileName(baseOffset, INDEX_SUFFIX)));
        Files.deleteIfExists(dir.resolve(fileName(baseOffset, TIME_INDEX_SUFFIX)));
        SegmentFile file = SegmentFile.takeOver(opener, pool, dir, baseOffset, mappedAppends);
        Segment segment = new Segment(baseOffset, epoch, file, opener, indexMemory, indexIntervalBytes, true, -1);
        segment.indexes = segment.activeIndexes();
        return segment;
    }

    /**
     * An existing segment, to read. Nothing is opened until the first read.
     *
     * @param summary             what the manifest recorded for it when sealed, or null for an
     *                            active segment (whose end the caller learns by scanning)
     * @param maintainsIndexFiles true for the partition's writer, which may rewrite index files
     *                            that do not match; a read-only view never writes
     */
    public static Segment open(FileOpener opener, OpenFiles pool, IndexMemory indexMemory, Path dir, long baseOffset,
                               int epoch, SegmentSummary summary, long createdMillis, int indexIntervalBytes,
                               boolean maintainsIndexFiles) {
        SegmentFile file = SegmentFile.existing(opener, pool, dir, baseOffset);
        Segment segment = new Segment(baseOffset, epoch, file, opener, indexMemory, indexIntervalBytes,
                maintainsIndexFiles, createdMillis);
        segment.summary = summary;
        return segment;
    }

    public long baseOffset() {
        return baseOffset;
    }

    /** The epoch of the writer that wrote the segment; 0 for segments written before epochs existed. */
    public int epoch() {
        return epoch;
    }

    public SegmentFile file() {
        return file;
    }

    public Path path() {
        return file.path();
    }

    public Path indexFile() {
        return sibling(INDEX_SUFFIX);
    }

    public Path timeIndexFile() {
        return sibling(TIME_INDEX_SUFFIX);
    }

    private Path sibling(String suffix) {
        return file.dir().resolve(fileName(baseOffset, suffix));
    }

    /** What the segment holds once sealed; null while it is active. */
    public SegmentSummary summary() {
        return summary;
    }

    /**
     * Seals the segment: from now on it is read only up to {@code sealedAs.size()}, and its
     * indexes, no longer added to, count against the cap on index memory. Null unseals it (a
     * roll that failed).
     */
    public void seal(SegmentSummary sealedAs) {
        changeIndexes(() -> {
            summary = sealedAs;
            if (sealedAs != null && indexes != null && indexes.nextOffset() != sealedAs.nextOffset()) {
                // A follower's indexes of the part it had scanned when the segment was sealed: the
                // whole segment's come from its index files when next needed.
                indexes = null;
            }
            indexUsed = true; // just sealed, likely read soon: a second chance
            // The writer wrote the index files just before (unless the segment is too small to have
            // any); a page lookup checks what it finds.
            directory = sealedAs != null && indexes != null && needsIndexFiles(sealedAs.size(), indexIntervalBytes)
                    ? indexes.offsetDirectory() : null;
            if (sealedAs != null && indexes != null && indexes.pagedOut()) {
                // Part of them is out of memory, in spill files the writer removes now: the
                // sealed segment's come from its index files when next needed.
                indexes = null;
            }
        });
    }

    /** When its first batch was written (ms since the epoch), -1 while it is empty. */
    public long createdMillis() {
        return createdMillis;
    }

    public void createdMillis(long millis) {
        createdMillis = millis;
    }

    // ---------------------------------------------------------------- indexes

    /** Starts empty indexes for an active segment whose batches are added as they are found or written. */
    public SegmentIndexes startIndexes() {
        SegmentIndexes fresh = activeIndexes();
        replaceIndexes(fresh);
        return fresh;
    }

    /**
     * Empty indexes for the segment while it is active, which keep at most two pages of each index
     * in memory however large the segment grows. The writer's move older pages to spill files
     * beside the segment, from which its index files are written when it is sealed; a read-only
     * view's keep only each moved page's first entry (a lookup there scans at most a page's worth
     * of batch headers more), since it writes nothing and loads the writer's index files once the
     * segment is sealed.
     */
    private SegmentIndexes activeIndexes() {
        SegmentIndexes fresh = SegmentIndexes.empty(baseOffset, indexIntervalBytes);
        if (maintainsIndexFiles) {
            fresh.pageOut(new PageSpill(opener, spillFile(INDEX_SUFFIX), OffsetIndex.ENTRY_SIZE),
                    new PageSpill(opener, spillFile(TIME_INDEX_SUFFIX), TimeIndex.ENTRY_SIZE));
        } else {
            fresh.pageOut(PageSpill.NONE, PageSpill.NONE);
        }
        return fresh;
    }

    private Path spillFile(String suffix) {
        return sibling(suffix + PageSpill.SUFFIX);
    }

    /** Replaces the indexes with ones built by a scan of the segment (recovery). */
    public void installIndexes(SegmentIndexes built) {
        replaceIndexes(built);
    }

    private void replaceIndexes(SegmentIndexes now) {
        changeIndexes(() -> {
            indexes = now;
            indexUsed = true;
        });
    }

    /**
     * Makes {@code change} to the indexes or the seal under this segment's monitor, then counts the
     * indexes against the cap as they now stand: a sealed segment's count, an active one's do not.
     * The cap hears of it outside the monitor, since making room takes other segments' monitors.
     */
    private void changeIndexes(Runnable change) {
        long before;
        long after;
        synchronized (this) {
            before = indexBytes;
            change.run();
            after = countedBytes();
            indexBytes = after;
        }
        recount(before, after);
    }

    /** Tells the cap that this segment's counted index bytes went from {@code before} to {@code after}; no lock held. */
    private void recount(long before, long after) {
        if (before > 0) {
            indexMemory.released(before);
        }
        if (after > 0) {
            indexMemory.loaded(this, after);
        }
    }

    /** The index bytes the cap counts for this segment now; under the monitor. */
    private long countedBytes() {
        SegmentIndexes current = indexes;
        return summary != null && current != null ? current.memoryBytes() : 0;
    }

    /** The cap on index memory drops this segment's indexes (see {@link IndexMemory.Holder}). */
    @Override
    long drop(boolean hard) {
        synchronized (this) {
            long held = indexBytes;
            if (held == 0 || summary == null) {
                return -1;
            }
            if (!hard && indexUsed) {
                indexUsed = false;
                return 0;
            }
            indexes = null;
            indexBytes = 0;
            return held;
        }
    }

    /** True while the segment holds indexes counted against the cap. */
    @Override
    boolean live() {
        return indexBytes > 0;
    }

    /**
     * The indexes, for reads up to {@code end}. A sealed segment's are loaded from their files on
     * first use, or rebuilt from the segment when the files are missing or do not match it (and
     * rewritten by the writer); one small enough to go without index files (see
     * {@link #mayLackIndexFiles}) gets empty ones, which start every lookup at its first batch.
     * They may be dropped again under the cap on index memory: a caller keeps what this returns
     * only for the read at hand.
     *
     * @throws CorruptLogException when rebuilding finds a bad batch
     */
    public SegmentIndexes indexes(long end) throws IOException {
        SegmentIndexes current = indexes;
        if (current != null) {
            if (!indexUsed) {
                indexUsed = true;
            }
            return current;
        }
        long after;
        synchronized (this) {
            current = indexes;
            if (current != null) {
                return current;
            }
            // A sealed segment's indexes cover all of it, whatever end the caller's snapshot had.
            SegmentSummary sealed = summary;
            long size = sealed != null ? sealed.size() : end;
            // A sealed segment too small for index files: lookups start at its first batch, and
            // nothing is read now (damage in it is found by the read that reaches it).
            current = sealed != null && !needsIndexFiles(size, indexIntervalBytes) ? null : loadIndexFiles(size);
            if (current == null) {
                current = sealed != null && mayLackIndexFiles(size)
                        ? SegmentIndexes.empty(baseOffset, indexIntervalBytes)
                        : rebuildIndexes(size);
            } else if (sealed != null) {
                directory = current.offsetDirectory();
            }
            indexes = current;
            indexUsed = true;
            after = countedBytes();
            indexBytes = after;
        }
        recount(0, after); // none were counted: the indexes were not loaded
        return current;
    }

    /** Indexes from the files, or null when they are missing or do not match a segment of {@code size} bytes. */
    private SegmentIndexes loadIndexFiles(long size) throws IOException {
        OffsetIndex offsets = OffsetIndex.load(indexFile(), baseOffset);
        if (offsets == null || size == 0 || offsets.recordedSegmentSize() != size) {
            return null;
        }
        // The last batch is found from the last index entry; its header must agree.
        long position = Math.max(0, offsets.lastPosition());
        long expectedOffset = offsets.size() == 0 ? -1 : offsets.lastOffset();
        BatchHeader last = null;
        ByteBuffer header = ByteBuffer.allocate(MAX_HEADER_SIZE);
        while (position < size) {
            header.clear().limit((int) Math.min(MAX_HEADER_SIZE, size - position));
            try {
                file.readFully(header, position);
            } catch (EOFException e) {
                return null;
            }
            BatchHeader h = BatchHeader.readIfComplete(header, 0, header.limit());
            if (h == null || h.problem() != null || (expectedOffset >= 0 && h.baseOffset() != expectedOffset)
                    || position + h.sizeInBytes() > size) {
                return null;
            }
            expectedOffset = -1;
            last = h;
            position += h.sizeInBytes();
        }
        if (last == null) {
            return null;
        }
        TimeIndex times = TimeIndex.load(timeIndexFile(), baseOffset, last.lastOffset());
        if (times == null || times.size() == 0) {
            return null;
        }
        return SegmentIndexes.loaded(baseOffset, indexIntervalBytes, offsets, times, last.baseOffset(),
                last.nextOffset());
    }

    /**
     * The largest segment that may have no index files, whatever index interval wrote it (see
     * {@link #needsIndexFiles}): what an open, a lookup and {@code verify} expect, since a store
     * does not record the interval it was written with.
     */
    public static final int UNINDEXED_MAX_BYTES = 4096;

    /**
     * False for a segment of {@code size} bytes that gets no index files: one no larger than its
     * index interval (and than {@link #UNINDEXED_MAX_BYTES}), whose offset index would name only its
     * first batch and whose time index no entry past it, so that a lookup in it walks its batch
     * headers from its start either way (with one read). A close of thousands of partitions that
     * took a few records each then creates no files.
     */
    public static boolean needsIndexFiles(long size, int indexIntervalBytes) {
        return size > Math.min(indexIntervalBytes, UNINDEXED_MAX_BYTES);
    }

    /**
     * True for a sealed segment of {@code size} bytes that may lack index files by design, whatever
     * interval wrote it: its missing index files are no sign of anything. It is not read to build
     * indexes: lookups start at its first batch, and damage in it is found by the read that reaches
     * it, as in any sealed segment.
     */
    public static boolean mayLackIndexFiles(long size) {
        return size <= UNINDEXED_MAX_BYTES;
    }

    private SegmentIndexes rebuildIndexes(long size) throws IOException {
        SegmentIndexes fresh = SegmentIndexes.empty(baseOffset, indexIntervalBytes);
        SegmentScanner.Result result = scan(0, size, baseOffset, fresh);
        if (!result.clean()) {
            throw new CorruptLogException(path(), result.validEnd(), result.problem());
        }
        if (maintainsIndexFiles && needsIndexFiles(size, indexIntervalBytes)) {
            try {
                fresh.writeTo(opener, indexFile(), timeIndexFile(), size);
            } catch (IOException e) {
                // A cache: reads go on with the rebuilt indexes in memory, and the next open tries again.
                log.warn("Could not rewrite the index files of {}: {}", path(), e.getMessage());
            }
        }
        return fresh;
    }

    /**
     * Scans {@code [from, end)}, adding every valid batch to {@code into} except those it holds
     * already (below its next offset: an earlier scan of the range that ended in an error added
     * them); see {@link SegmentScanner#scan}. A file shorter than {@code end} is reported as
     * corruption: bytes the partition recorded were cut off.
     */
    public SegmentScanner.Result scan(long from, long end, long minOffset, SegmentIndexes into) throws IOException {
        try {
            return SegmentScanner.scan(file, from, end, minOffset, epoch == 0 ? SegmentScanner.ANY_EPOCH : epoch,
                    (position, h) -> {
                        if (h.baseOffset() >= into.nextOffset()) {
                            into.add(position, h.sizeInBytes(), h.baseOffset(), h.nextOffset(), h.maxTimestamp());
                        }
                    });
        } catch (EOFException e) {
            throw cutShort(from, end, e);
        }
    }

    private CorruptLogException cutShort(long position, long end, EOFException e) {
        return new CorruptLogException(path(), position, "the file ends before the " + end + " bytes its partition "
                + "recorded (" + e.getMessage() + "): bytes were cut off behind the store's back");
    }

    /**
     * Writes the index files for a segment of {@code size} bytes (not forced: they are rebuilt if
     * lost); none for one too small to need them (see {@link #needsIndexFiles}).
     */
    public void writeIndexFiles(long size) throws IOException {
        if (!needsIndexFiles(size, indexIntervalBytes)) {
            return; // too small to page out: no spill file either
        }
        SegmentIndexes current = indexes(size);
        try {
            current.writeTo(opener, indexFile(), timeIndexFile(), size);
        } finally {
            if (current.pagedOut()) {
                // Whether or not the index files were written: the spill served only while active.
                Files.deleteIfExists(spillFile(INDEX_SUFFIX));
                Files.deleteIfExists(spillFile(TIME_INDEX_SUFFIX));
            }
        }
    }

    // ---------------------------------------------------------------- reads

    /**
     * Position of the first batch whose last offset is at or above {@code target}, or {@code end}
     * when there is none below it.
     */
    public long positionOf(long target, long end) throws IOException {
        return positionOf(target, end, -1, 0);
    }

    /**
     * As {@link #positionOf(long, long)}, for the continuation of a transfer that sent whole
     * batches up to {@code sentEnd} of this segment (-1: none), the last of them with the stored
     * checksum {@code sentCrc}. Where {@code target} falls in a gap of offsets after that very
     * batch (ending at {@code sentEnd}, with that checksum, followed by {@code target}), it is not
     * read again to check it: its bytes went out whole as stored, and the receiver checks them.
     * Any other batch before a gap is checked as always, so an unsent batch whose damaged header
     * claims the same end is still reported.
     */
    public long positionOf(long target, long end, long sentEnd, int sentCrc) throws IOException {
        long position = indexedPosition(target, end);
        long skipped = -1;
        BatchHeader skippedHeader = null;
        // The batch sought starts within one index interval of the indexed position: its header and
        // those before it come from one read of that stretch (one pread, not one per header).
        HeaderWindow window = headerWindow();
        while (position < end) {
            BatchHeader h = window.headerAt(position, end);
            if (h.lastOffset() >= target) {
                if (h.baseOffset() > target && skippedHeader != null
                        && !wasSent(skipped, skippedHeader, target, sentEnd, sentCrc)) {
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
        if (skippedHeader != null && !wasSent(skipped, skippedHeader, target, sentEnd, sentCrc)) {
            checkCrc(skipped, skippedHeader);
        }
        return end;
    }

    /** True when the batch at {@code position} is the one a transfer sent whole up to {@code sentEnd}. */
    private static boolean wasSent(long position, BatchHeader header, long target, long sentEnd, int sentCrc) {
        return sentEnd >= 0 && position + header.sizeInBytes() == sentEnd && header.crc() == sentCrc
                && header.nextOffset() == target;
    }

    /**
     * Where a scan for {@code target} starts: the indexed batch at or below it, from the indexes in
     * memory; for a sealed segment whose indexes the cap dropped, from one page of its index file,
     * checked against the batch it names; else from indexes loaded again.
     */
    private long indexedPosition(long target, long end) throws IOException {
        SegmentIndexes current = indexes;
        if (current == null) {
            OffsetIndex.Directory pages = directory;
            if (pages != null && summary != null) {
                long position = pagedPosition(pages, target, end);
                if (position >= 0) {
                    return position;
                }
            }
            current = indexes(end);
        } else if (!indexUsed) {
            indexUsed = true;
        }
        return Math.min(current.lookup(target), end);
    }

    /** The page lookup of {@link #indexedPosition}, or -1 when the file cannot be trusted for it. */
    private long pagedPosition(OffsetIndex.Directory pages, long target, long end) {
        try {
            long entry = OffsetIndex.lookupInFile(indexFile(), baseOffset, pages, target);
            if (entry == OffsetIndex.BEFORE_FIRST) {
                return 0;
            }
            if (entry == OffsetIndex.UNREADABLE) {
                return -1;
            }
            long position = entry & 0xffffffffL;
            if (position >= end) {
                return -1; // a snapshot that ends before the entry: the loaded indexes answer it
            }
            // Trusted only if a batch with that offset starts there: a damaged or stale file is
            // never a reason to skip records or to call a sound segment corrupt.
            return headerAt(position, end).baseOffset() == baseOffset + (entry >>> 32) ? position : -1;
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }

    /** A cursor for reading many batch headers in file order with few reads (see {@link HeaderWindow}). */
    public HeaderWindow headerWindow() {
        return new HeaderWindow(indexIntervalBytes + MAX_HEADER_SIZE);
    }

    /** Batch headers read from a buffered stretch of the file, read again further on when a header lies past it. */
    public final class HeaderWindow {
        private final int capacity;
        private ByteBuffer bytes;
        private long start;

        HeaderWindow(int capacity) {
            this.capacity = Math.max(capacity, MAX_HEADER_SIZE);
        }

        /** The checked header of the batch at {@code position}, as {@link Segment#headerAt} gives it. */
        public BatchHeader headerAt(long position, long end) throws IOException {
            if (bytes == null || position < start || !complete(position)) {
                if (end - position < MIN_HEADER_SIZE) {
                    return Segment.this.headerAt(position, end); // throws: the segment ends inside a header
                }
                bytes = ByteBuffer.allocate((int) Math.min(capacity, end - position));
                readFully(bytes, position);
                start = position;
                if (!complete(position)) {
                    return Segment.this.headerAt(position, end); // throws: the segment ends inside a header
                }
            }
            int index = (int) (position - start);
            return withinEnd(RecordDecoder.checkHeader(bytes, index, path(), position), position, end);
        }

        /**
         * Checks the CRC-32C of the whole batch at {@code position}, whose header {@code header}
         * this window gave for reads up to {@code end}: from the window's bytes when the batch lies
         * within them, else from a read that moves the window to it. For a walk that steps over
         * batches by what their headers say.
         */
        public void checkBatch(long position, BatchHeader header, long end) throws IOException {
            long index = position - start;
            int size = header.sizeInBytes();
            if (bytes == null || index < 0 || index + size > bytes.limit()) {
                // Read again from this batch, all of it and as much after it as the window holds:
                // the headers that follow come from the same read.
                bytes = ByteBuffer.allocate((int) Math.min(Math.max(capacity, size), end - position));
                readFully(bytes, position);
                start = position;
                index = 0;
            }
            RecordDecoder.checkCrc(bytes, (int) index, header, path(), position);
        }

        private boolean complete(long position) {
            long index = position - start;
            return index >= 0 && index < bytes.limit()
                    && BatchHeader.readIfComplete(bytes, (int) index, bytes.limit() - index) != null;
        }
    }

    /** Reads the whole batch at {@code position}, whose header is {@code header}, and checks its CRC-32C. */
    private void checkCrc(long position, BatchHeader header) throws IOException {
        ByteBuffer batch = ByteBuffer.allocate(header.sizeInBytes());
        readFully(batch, position);
        RecordDecoder.checkCrc(batch, 0, header, path(), position);
    }

    /** A batch boundary at or below {@code maxPosition}, found in the index (0 when none is indexed). */
    public long floorBatchPosition(long maxPosition, long end) throws IOException {
        return indexes(end).floorPosition(maxPosition);
    }

    /**
     * The batch header at {@code position}, checked, including that the whole batch lies before
     * {@code end}: ends are batch boundaries, so a batch running past one is damage.
     */
    public BatchHeader headerAt(long position, long end) throws IOException {
        ByteBuffer header = ByteBuffer.allocate(MAX_HEADER_SIZE);
        header.limit((int) Math.min(MAX_HEADER_SIZE, end - position));
        readFully(header, position);
        BatchHeader h = BatchHeader.readIfComplete(header, 0, header.limit());
        if (h == null) {
            throw new CorruptLogException(path(), position, "the segment ends " + (end - position)
                    + " bytes after the batch's start, inside its header");
        }
        return withinEnd(RecordDecoder.checkHeader(header, 0, path(), position), position, end);
    }

    /** {@code header}, of the batch at {@code position}, when the batch ends by {@code end}: else damage. */
    private BatchHeader withinEnd(BatchHeader header, long position, long end) {
        if (position + header.sizeInBytes() > end) {
            throw new CorruptLogException(path(), position, "the batch claims " + header.sizeInBytes()
                    + " bytes but the segment ends " + (end - position) + " bytes after its start");
        }
        return header;
    }

    /** The offset to start scanning at for the first record with a timestamp at or above {@code timestamp}. */
    public long offsetForTimestamp(long timestamp, long end) throws IOException {
        return indexes(end).offsetForTimestamp(timestamp);
    }

    /** The time index entry below {@code timestamp}, or -1 when none; see {@code TimeIndex.entryBelow}. */
    public long timeEntryBelow(long timestamp, long end) throws IOException {
        return indexes(end).timeEntryBelow(timestamp);
    }

    /**
     * Reads until {@code dst} is full. A file that ends first was cut short behind the store's
     * back: that is reported as corruption at {@code position}, not as an I/O error.
     */
    public void readFully(ByteBuffer dst, long position) throws IOException {
        try {
            file.readFully(dst, position);
        } catch (EOFException e) {
            throw new CorruptLogException(path(), position, "the file ends before the batch does (" + e.getMessage()
                    + ")");
        }
    }

    /** Zero-copy transfer of {@code [position, position + count)} to {@code target}. */
    public long transferTo(long position, long count, WritableByteChannel target) throws IOException {
        return file.transferTo(position, count, target);
    }

    // ---------------------------------------------------------------- lifetime

    /** Takes a reference for a reader; false when the segment is already gone. */
    public boolean tryRetain() {
        while (true) {
            int n = refs;
            if (n <= 0) {
                return false;
            }
            if (REFS.compareAndSet(this, n, n + 1)) {
                return true;
            }
        }
    }

    /** Gives a reader's reference back; the last one closes the segment (and deletes it when retired so). */
    public void release() {
        int n = (int) REFS.getAndAdd(this, -1) - 1;
        if (n == 0) {
            closeAndMaybeDelete();
        } else if (n < 0) {
            throw new IllegalStateException(this + " was released more often than retained");
        }
    }

    /**
     * Drops the partition's reference: on close, or when retention removed the segment from the
     * manifest ({@code delete} true: its files go once the last reader lets go).
     */
    public void retire(boolean delete) {
        deleteWhenUnused = delete;
        release();
    }

    private void closeAndMaybeDelete() {
        changeIndexes(() -> indexes = null);
        file.close();
        if (deleteWhenUnused) {
            for (Path path : new Path[] {path(), indexFile(), timeIndexFile()}) {
                try {
                    Files.deleteIfExists(path);
                } catch (IOException e) {
                    // Not in the manifest any more: the next writable open removes it.
                    log.warn("Could not delete {} after retention: {}", path, e.getMessage());
                }
            }
        }
    }

    @Override
    public String toString() {
        SegmentSummary s = summary;
        return "Segment[" + path() + (s == null ? ", active" : ", " + s.size() + " bytes") + "]";
    }
}
