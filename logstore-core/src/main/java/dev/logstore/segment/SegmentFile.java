package dev.logstore.segment;

import dev.logstore.io.Directories;
import dev.logstore.io.FileMaps;
import dev.logstore.io.FileOpener;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedByInterruptException;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.FileChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * The bytes of one segment's {@code .log} file and the channels that reach them.
 *
 * <p>Java closes a {@link FileChannel} for every thread that shares it when one thread is
 * interrupted during I/O on it, or enters I/O with its interrupt flag set. So the writer and the
 * readers never share a channel:
 * <ul>
 *   <li>the <em>write channel</em> is used by the partition's writer alone (appends, fsyncs,
 *       truncation), so no reader can break it;</li>
 *   <li>readers share one <em>read channel</em>, opened on first use. A reader that finds it
 *       closed under it by another reader's interrupt opens it again and retries; a reader whose
 *       own thread is interrupted fails alone with an {@link InterruptedIOException}, leaving its
 *       interrupt flag set and the file untouched;</li>
 * </ul>
 *
 * <p>Both count against the {@link OpenFiles} cap, which may close either while it is not in
 * use: a read channel is opened again by the next read, a write channel by the next write or
 * force. A write channel holding writes not yet forced is forced before the pool closes it, and
 * should that force fail, the next write or force of the segment fails with its error, so a lost
 * write is never mistaken for a durable one.
 *
 * <p><em>Mapped appends</em> (a store opened with {@code mappedAppends}): a small batch is copied
 * into a memory map of the file's end instead of costing a {@code pwrite}. The file is first
 * extended with real zeros over the mapped window, so the space exists before any mapped write
 * and a full disk fails that zero write, not a store into the map (which would stop the JVM with
 * SIGBUS). Readers keep reading through channels: on Linux the page cache is the map, so they
 * see each batch as soon as it is copied, and an fsync of the file covers mapped writes as well.
 * The zeros past the data are the file's <em>reserved space</em>; scans read them as the end of
 * the data, a seal or clean close cuts them off, and recovery after a crash cuts what is left.
 */
public final class SegmentFile extends OpenFiles.Slot implements PositionalReader, AutoCloseable {

    /** How often a read reopens a read channel that other threads' interrupts keep closing. */
    private static final int MAX_REOPENS = 8;
    /** Writes up to this size are copied into the memory map when appends are mapped; larger ones are worth their pwrite. */
    static final int MAPPED_WRITE_MAX = 32 * 1024;
    private static final long PAGE = 4096;
    private static final long MIN_WINDOW = 16 * 1024;
    private static final long MAX_WINDOW = 4 * 1024 * 1024;
    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(SegmentFile.class);
    private static final java.util.concurrent.atomic.AtomicBoolean MAP_REFUSAL_LOGGED =
            new java.util.concurrent.atomic.AtomicBoolean();
    private static final ByteBuffer ZEROS = ByteBuffer.allocateDirect(64 * 1024).asReadOnlyBuffer();
    /**
     * Mapped appends are made on Linux only: there the page cache is the map, so readers through
     * channels see mapped writes at once and an fsync of the file writes pages dirtied through a
     * map too. Elsewhere the store writes every batch, as without mapped appends.
     */
    private static final boolean LINUX = System.getProperty("os.name", "").startsWith("Linux");
    private static final VarHandle READS_IN_FLIGHT;

    static {
        try {
            READS_IN_FLIGHT = MethodHandles.lookup().findVarHandle(SegmentFile.class, "readsInFlight", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    // An archive holds many sealed segments for each one being written: a sealed file keeps only
    // its read side, its path is made when needed from the directory its partition shares, and
    // the write side lives in an object of its own that goes when the segment is sealed.
    private final Path dir;
    private final long baseOffset;
    private final FileOpener opener;
    private final OpenFiles pool;
    /** The shared read channel, opened on first use; opening and closing it hold this object's monitor. */
    private volatile FileChannel reader;
    private volatile boolean closed;
    /** Set by every read, cleared by the pool's sweep: a read channel in use gets a second chance. */
    private volatile boolean used;
    /** Reads under way: the pool does not close the read channel under them. */
    @SuppressWarnings("unused") // through READS_IN_FLIGHT
    private volatile int readsInFlight;
    /** The write side while the segment is written to; null once it is sealed or closed. */
    private volatile WriteSide writeSide;

    private SegmentFile(Path dir, long baseOffset, FileOpener opener, OpenFiles pool, FileChannel writer,
                        boolean mapped) {
        this.dir = dir;
        this.baseOffset = baseOffset;
        this.opener = opener;
        this.pool = pool;
        this.writeSide = writer == null ? null : new WriteSide(writer, mapped);
    }

    /**
     * Creates a new, empty file with a write channel; fails if the file exists. The caller forces
     * the directory. With {@code mapped}, small writes go through a memory map (see the class comment).
     */
    public static SegmentFile create(FileOpener opener, OpenFiles pool, Path dir, long baseOffset, boolean mapped)
            throws IOException {
        Path path = logFile(dir, baseOffset);
        FileChannel channel = opener.open(path, writeOptions(mapped, StandardOpenOption.CREATE_NEW));
        SegmentFile file = new SegmentFile(dir, baseOffset, opener, pool, channel, mapped);
        pool.opened(file.writeSide);
        return file;
    }

    /** The options of a write channel: a memory map needs one that can read as well. */
    private static StandardOpenOption[] writeOptions(boolean mapped, StandardOpenOption... more) {
        StandardOpenOption[] options = java.util.Arrays.copyOf(more, more.length + (mapped ? 2 : 1));
        options[more.length] = StandardOpenOption.WRITE;
        if (mapped) {
            options[more.length + 1] = StandardOpenOption.READ;
        }
        return options;
    }

    /** An existing, empty file, to write from its start (see {@code Segment.takeOver}). */
    static SegmentFile takeOver(FileOpener opener, OpenFiles pool, Path dir, long baseOffset, boolean mapped)
            throws IOException {
        Path path = logFile(dir, baseOffset);
        FileChannel channel = opener.open(path, writeOptions(mapped));
        try {
            if (channel.size() != 0) {
                throw new IOException(path + " is not empty (" + channel.size() + " bytes)");
            }
        } catch (IOException e) {
            channel.close();
            throw e;
        }
        SegmentFile file = new SegmentFile(dir, baseOffset, opener, pool, channel, mapped);
        pool.opened(file.writeSide);
        return file;
    }

    /** An existing file, to read; nothing is opened before the first read. */
    public static SegmentFile existing(FileOpener opener, OpenFiles pool, Path dir, long baseOffset) {
        return new SegmentFile(dir, baseOffset, opener, pool, null, false);
    }

    private static Path logFile(Path dir, long baseOffset) {
        return dir.resolve(Segment.fileName(baseOffset, Segment.LOG_SUFFIX));
    }

    /** The {@code .log} file. */
    public Path path() {
        return logFile(dir, baseOffset);
    }

    /** The directory of the partition the segment belongs to. */
    public Path dir() {
        return dir;
    }

    // ---------------------------------------------------------------- reads

    private InterruptedIOException interrupted(IOException cause) {
        InterruptedIOException e = new InterruptedIOException("reading " + path() + " was interrupted: the thread's "
                + "interrupt flag is set. The file and other readers are unaffected; clear the flag (or read on "
                + "another thread) and read again");
        if (cause != null) {
            e.initCause(cause);
        }
        return e;
    }

    private FileChannel readChannel() throws IOException {
        FileChannel channel = reader;
        if (channel != null && channel.isOpen()) {
            used = true;
            return channel;
        }
        boolean opened = false;
        synchronized (this) {
            if (closed) {
                throw new ClosedChannelException();
            }
            channel = reader;
            if (channel == null || !channel.isOpen()) {
                if (channel != null) {
                    pool.closed(); // closed by an interrupt: counted out before a new one is counted in
                }
                reader = null;
                channel = opener.open(path(), StandardOpenOption.READ);
                reader = channel;
                opened = true;
            }
        }
        if (opened) {
            used = true;
            pool.opened(this); // outside the monitor: the pool may close other files' channels
        }
        return channel;
    }

    /**
     * Closes the read channel to give its descriptor back ({@link OpenFiles}); a reader using it
     * opens it again. Safe at any time.
     */
    void closeReader() {
        synchronized (this) {
            if (reader != null) {
                closeQuietly(reader);
                reader = null;
                pool.closed();
            }
        }
    }

    /** The read channel's place in the pool: the pool closes it when it is neither in use nor recently used. */
    @Override
    OpenFiles.Eviction evict(boolean hard) {
        if (reader == null) {
            return OpenFiles.Eviction.GONE;
        }
        if (readsInFlight > 0) {
            return OpenFiles.Eviction.KEPT; // never closed under a read
        }
        if (used && !hard) {
            used = false;
            return OpenFiles.Eviction.KEPT;
        }
        closeReader();
        return OpenFiles.Eviction.CLOSED;
    }

    @Override
    boolean live() {
        return reader != null;
    }

    /**
     * Reads until {@code dst} is full.
     *
     * @throws java.io.EOFException when the file ends first
     * @throws InterruptedIOException when this thread is interrupted
     */
    @Override
    public void readFully(ByteBuffer dst, long position) throws IOException {
        int start = dst.position();
        READS_IN_FLIGHT.getAndAdd(this, 1);
        try {
            for (int attempt = 0; ; attempt++) {
                FileChannel channel = readChannelFor(attempt);
                try {
                    Directories.readFully(channel, dst, position);
                    return;
                } catch (ClosedChannelException e) {
                    closedUnder(e, attempt);
                    dst.position(start); // read it all again
                }
            }
        } finally {
            READS_IN_FLIGHT.getAndAdd(this, -1);
        }
    }

    /** The file's size now (it grows while a writer in another process appends). */
    public long size() throws IOException {
        READS_IN_FLIGHT.getAndAdd(this, 1);
        try {
            for (int attempt = 0; ; attempt++) {
                FileChannel channel = readChannelFor(attempt);
                try {
                    return channel.size();
                } catch (ClosedChannelException e) {
                    closedUnder(e, attempt);
                }
            }
        } finally {
            READS_IN_FLIGHT.getAndAdd(this, -1);
        }
    }

    /**
     * Sends {@code [position, position + count)} to {@code target} without copying it through user
     * space; stops early when a non-blocking target takes no more.
     *
     * <p>A transfer call that moved bytes returns normally even when the channel is closed
     * meanwhile; only one that moved nothing throws. So when another reader's interrupt closes the
     * shared channel, the transfer goes on from where it was, on the channel opened again, and no
     * byte reaches the target twice.
     *
     * @return the bytes sent
     */
    public long transferTo(long position, long count, WritableByteChannel target) throws IOException {
        READS_IN_FLIGHT.getAndAdd(this, 1);
        try {
            return transferInFlight(position, count, target);
        } finally {
            READS_IN_FLIGHT.getAndAdd(this, -1);
        }
    }

    private long transferInFlight(long position, long count, WritableByteChannel target) throws IOException {
        long done = 0;
        for (int attempt = 0; done < count; ) {
            if (done > 0 && Thread.currentThread().isInterrupted()) {
                return done; // what was sent is reported; the caller's next call hears of the interrupt
            }
            FileChannel channel = readChannelFor(attempt);
            long n;
            try {
                n = channel.transferTo(position + done, count - done, target);
            } catch (ClosedChannelException e) {
                try {
                    closedUnder(e, attempt++);
                } catch (InterruptedIOException interrupted) {
                    // Java does not say how many bytes the interrupted call moved.
                    InterruptedTransferException cut = new InterruptedTransferException("transferring from "
                            + path() + " was interrupted", (int) Math.min(Integer.MAX_VALUE, done));
                    cut.initCause(e);
                    throw cut;
                }
                continue;
            }
            if (n <= 0) {
                break;
            }
            done += n;
        }
        return done;
    }

    /** The read channel for an attempt at I/O, refusing it on an interrupted thread (see the class comment). */
    private FileChannel readChannelFor(int attempt) throws IOException {
        if (Thread.currentThread().isInterrupted()) {
            // Checked first: entering I/O interrupted would close the channel for everyone.
            throw interrupted(null);
        }
        return readChannel();
    }

    /**
     * The read channel was closed under this thread: by this thread's interrupt (it fails), by the
     * segment's close (it fails), or by another reader's interrupt (it tries again, on a new channel).
     */
    private void closedUnder(ClosedChannelException e, int attempt) throws IOException {
        if (e instanceof ClosedByInterruptException || Thread.currentThread().isInterrupted()) {
            throw interrupted(e);
        }
        if (closed || attempt == MAX_REOPENS) {
            throw e;
        }
    }

    // ---------------------------------------------------------------- the writer's side

    /** The write side, or a closed channel error once the segment is sealed or closed (a roll or close raced). */
    private WriteSide writeSide() throws ClosedChannelException {
        WriteSide side = writeSide;
        if (side == null) {
            throw new ClosedChannelException();
        }
        return side;
    }

    /** Writes all of {@code src} at {@code position}. Only the partition's writer calls this. */
    public void write(ByteBuffer src, long position) throws IOException {
        writeSide().write(src, position);
    }

    /**
     * Forces the file's data (and the metadata needed to read it back) to disk; nothing to do when
     * nothing was written since the last force.
     */
    public void force() throws IOException {
        writeSide().force();
    }

    /**
     * Writes the file's dirty pages back ahead of a {@link #force}, through a channel of its own,
     * so that the force that follows (a roll's, under the append lock) has little left to write.
     * It proves nothing: the pages it wrote count as durable only once {@link #force} succeeds.
     * Its channel being its own, an interrupt closes only that one (and then it simply stops). A
     * failure is sticky, as a failed {@link #force} is.
     */
    public void writeBack() throws IOException {
        WriteSide side = writeSide;
        if (side != null) {
            side.writeBack();
        }
    }

    /**
     * Cuts the file to {@code size} and forces it, through the write channel or, for a file being
     * recovered that has none, a channel of its own.
     */
    public void truncate(long size) throws IOException {
        WriteSide side = writeSide;
        if (side != null && side.writable) {
            side.truncate(size);
            return;
        }
        try (FileChannel own = opener.open(path(), StandardOpenOption.WRITE)) {
            if (own.size() > size) {
                own.truncate(size);
                own.force(true);
            }
        }
    }

    /**
     * Gives back the reserved space past {@code end}, the end of the data (see the class
     * comment): the memory map is dropped and the file cut to {@code end}, unforced; the force
     * of a seal or clean close that follows makes the cut durable. Nothing to do for a file
     * written without a map.
     */
    public void releaseReserved(long end) throws IOException {
        WriteSide side = writeSide;
        if (side != null) {
            side.releaseReserved(end);
        }
    }

    /** Closes the write channel for good: the segment is sealed and only read from now on. */
    public void closeWriter() throws IOException {
        WriteSide side = writeSide;
        if (side != null) {
            side.close();
            writeSide = null; // a writer still holding it finds it closed
        }
    }

    /** True until the segment is sealed or closed. */
    public boolean writable() {
        WriteSide side = writeSide;
        return side != null && side.writable;
    }

    /**
     * The write channel, its place in the pool, and what tells a durable write from a lost one.
     * Writes and forces hold the read side of {@link #use} (they may overlap: an append goes on
     * while the previous one is being forced); the pool's eviction takes the write side, never
     * waiting for it, so it never closes a channel in use. Opening the channel again holds this
     * object's monitor.
     */
    private final class WriteSide extends OpenFiles.Slot {
        private final ReentrantReadWriteLock use = new ReentrantReadWriteLock();
        private volatile FileChannel writer;
        /** False once the segment is sealed or closed: nothing is written to it again. */
        private volatile boolean writable = true;
        private volatile boolean used;
        /** Counts writes; {@link #forcedWrites} is its value at the start of the newest completed force. */
        private final AtomicLong writes = new AtomicLong();
        private final AtomicLong forcedWrites = new AtomicLong();
        /** The error of a force the pool made before closing the write channel; thrown by the next write or force. */
        private volatile IOException evictionFailure;
        /**
         * The first fsync of this file that failed. Sticky: on Linux a later fsync can succeed although
         * the pages the failed one could not write were dropped, so every later force fails too.
         */
        private volatile IOException forceFailure;
        /**
         * One fsync of this file at a time. On Linux an fsync error is reported to one of the fsyncs
         * under way on a file description; another that overlaps it may return success for the very
         * pages that were lost. One at a time, each sees the error or the sticky failure it left.
         */
        private final ReentrantLock forceLock = new ReentrantLock();
        /** True when small writes go through {@link #window}; the fields below are guarded by {@link #mapLock}. */
        private final boolean mapped;
        private final Object mapLock = new Object();
        /** The mapped region small writes are copied into; null until the first, and after a release or close. */
        private FileMaps.Mapping window;
        /** The file's size as this writer made it: the data, then the zeros written ahead of the window. */
        private long reservedEnd;
        /** True once the system refused a map: later writes go through the channel. */
        private boolean mapRefused;

        WriteSide(FileChannel writer, boolean mapped) {
            this.writer = writer;
            this.mapped = mapped && LINUX;
        }

        /**
         * Holds the write channel for one write or force: the channel, opened again if the pool
         * closed it. The caller unlocks {@code use.readLock()} afterwards, whatever happens.
         */
        private FileChannel useWriter() throws IOException {
            use.readLock().lock();
            IOException failed = evictionFailure;
            if (failed != null) {
                throw new IOException("forcing " + path() + " before closing it to free a descriptor failed: "
                        + failed.getMessage(), failed);
            }
            FileChannel channel = writer;
            if (channel != null) {
                used = true;
                return channel;
            }
            boolean opened = false;
            synchronized (this) {
                if (!writable) {
                    throw new ClosedChannelException(); // sealed or closed: a roll or close raced
                }
                channel = writer;
                if (channel == null) {
                    channel = opener.open(path(), writeOptions(mapped));
                    writer = channel;
                    opened = true;
                }
            }
            if (opened) {
                used = true;
                pool.opened(this); // may close other files' channels, never this one: it is in use
            }
            return channel;
        }

        void write(ByteBuffer src, long position) throws IOException {
            if (mapped) {
                synchronized (mapLock) {
                    if (src.remaining() <= MAPPED_WRITE_MAX && !mapRefused) {
                        writeMapped(src, position);
                        return;
                    }
                    writeThroughChannel(src, position);
                }
                return;
            }
            writeThroughChannel(src, position);
        }

        private void writeThroughChannel(ByteBuffer src, long position) throws IOException {
            try {
                FileChannel channel = useWriter();
                try {
                    long p = position;
                    while (src.hasRemaining()) {
                        p += channel.write(src, p);
                    }
                    if (mapped) {
                        reservedEnd = Math.max(reservedEnd, p);
                    }
                } finally {
                    writes.incrementAndGet(); // counted once made: a force that began before must not cover it
                }
            } finally {
                use.readLock().unlock();
            }
        }

        /** A small write copied into the window, which is moved (and zeros written ahead of it) first when needed. */
        private void writeMapped(ByteBuffer src, long position) throws IOException {
            int length = src.remaining();
            FileMaps.Mapping current = window;
            if (current == null || position < current.position() || position + length > current.end()) {
                current = moveWindow(position, length);
                if (current == null) {
                    writeThroughChannel(src, position); // no map to be had: written, as without maps
                    return;
                }
            }
            try {
                current.buffer().put((int) (position - current.position()), src, src.position(), length);
            } catch (InternalError | IllegalStateException e) {
                // The JVM turns a fault in the copy (SIGBUS: the file was cut behind the store's
                // back, or a copy-on-write filesystem found no space for a page) into an error.
                throw new IOException("writing " + length + " bytes at " + position + " through the memory map of "
                        + path() + " failed (" + e + "): the file was cut behind the store's back, or the filesystem "
                        + "found no space for a page it had to copy", e);
            } finally {
                writes.incrementAndGet();
            }
            src.position(src.limit());
        }

        /**
         * Maps a window from {@code position}'s page that holds {@code length} bytes, after
         * extending the file over it with real zeros. The window grows with the segment (a
         * quiet partition reserves little), from 16 KiB to 4 MiB.
         */
        private FileMaps.Mapping moveWindow(long position, int length) throws IOException {
            unmapWindow();
            long start = position & -PAGE;
            long wanted = Math.max(MIN_WINDOW, Math.min(MAX_WINDOW, Long.highestOneBit(Math.max(1, position))));
            int size = (int) Math.max(wanted, roundUpToPage(position + length - start));
            long end = start + size;
            try {
                FileChannel channel = useWriter();
                try {
                    if (reservedEnd < end) {
                        writeZeros(channel, reservedEnd, end);
                        reservedEnd = end;
                    }
                    try {
                        window = FileMaps.map(channel, start, size);
                    } catch (IOException e) {
                        refuseMaps(e);
                    }
                } finally {
                    writes.incrementAndGet();
                }
            } finally {
                use.readLock().unlock();
            }
            return window;
        }

        /**
         * A map the system would not give (the process's limit on maps, {@code vm.max_map_count},
         * reached by many partitions at once, or no address space): this segment is written
         * without maps from now on, as a store without mapped appends is.
         */
        private void refuseMaps(IOException e) {
            mapRefused = true;
            if (MAP_REFUSAL_LOGGED.compareAndSet(false, true)) {
                log.warn("Could not memory-map {} ({}); its appends, and those of any other segment the system "
                        + "refuses a map, are written without one. Raise vm.max_map_count if many partitions are "
                        + "written at once", path(), e.toString());
            }
        }

        private void unmapWindow() {
            FileMaps.Mapping current = window;
            if (current != null) {
                window = null;
                current.close();
            }
        }

        void releaseReserved(long end) throws IOException {
            if (!mapped) {
                return;
            }
            synchronized (mapLock) {
                unmapWindow();
                if (reservedEnd > end) {
                    try {
                        FileChannel channel = useWriter();
                        channel.truncate(end);
                        writes.incrementAndGet(); // the cut is forced by the next force
                    } finally {
                        use.readLock().unlock();
                    }
                    reservedEnd = end;
                }
            }
        }

        void force() throws IOException {
            try {
                FileChannel channel = useWriter();
                forceLock.lock();
                try {
                    throwIfForceFailed();
                    long covered = writes.get();
                    if (covered == forcedWrites.get()) {
                        return;
                    }
                    try {
                        channel.force(false);
                    } catch (ClosedChannelException e) {
                        throw e; // closed (a roll, a close, an interrupt): the caller decides
                    } catch (IOException e) {
                        forceFailure = e;
                        throw e;
                    }
                    forcedWrites.accumulateAndGet(covered, Math::max);
                } finally {
                    forceLock.unlock();
                }
            } finally {
                use.readLock().unlock();
            }
        }

        private void throwIfForceFailed() throws IOException {
            IOException failed = forceFailure;
            if (failed != null) {
                throw new IOException("an earlier fsync of " + path() + " failed (" + failed.getMessage() + "): the "
                        + "kernel may have dropped what it could not write, so no later fsync of it counts", failed);
            }
        }

        void writeBack() throws IOException {
            if (!writable || writes.get() == forcedWrites.get()) {
                return;
            }
            forceLock.lock();
            try {
                throwIfForceFailed();
                try (FileChannel own = opener.open(path(), StandardOpenOption.WRITE)) {
                    own.force(false);
                } catch (ClosedByInterruptException e) {
                    // stopped by an interrupt: only this channel was closed, and the roll forces the rest
                } catch (java.nio.file.NoSuchFileException e) {
                    // retention removed the segment meanwhile: nothing to write back
                } catch (IOException e) {
                    forceFailure = e;
                    throw e;
                }
            } finally {
                forceLock.unlock();
            }
        }

        void truncate(long size) throws IOException {
            synchronized (mapLock) {
                unmapWindow(); // nothing stays mapped past the end: a store into it would fault
                try {
                    FileChannel channel = useWriter();
                    channel.truncate(size);
                    channel.force(true);
                    reservedEnd = Math.min(reservedEnd, size);
                } finally {
                    use.readLock().unlock();
                }
            }
        }

        void close() throws IOException {
            synchronized (mapLock) { // before the write channel's lock, as writes take them
                unmapWindow();
                closeChannel();
            }
        }

        private void closeChannel() throws IOException {
            use.writeLock().lock();
            try {
                synchronized (this) {
                    writable = false;
                }
                FileChannel channel = writer;
                writer = null;
                if (channel != null) {
                    pool.closed();
                    channel.close();
                }
            } finally {
                use.writeLock().unlock();
            }
        }

        @Override
        OpenFiles.Eviction evict(boolean hard) {
            if (writer == null) {
                return OpenFiles.Eviction.GONE;
            }
            boolean unforced = writes.get() != forcedWrites.get();
            if (!hard && (used || unforced)) {
                used = false;
                return OpenFiles.Eviction.KEPT;
            }
            if (!use.writeLock().tryLock()) {
                return OpenFiles.Eviction.KEPT; // a write or force is under way
            }
            try {
                FileChannel channel = writer;
                if (channel == null) {
                    return OpenFiles.Eviction.GONE;
                }
                if (forceFailure != null) {
                    evictionFailure = forceFailure; // a force after a failed one proves nothing
                } else if (writes.get() != forcedWrites.get()) {
                    // Counted before the force: a mapped write takes no channel lock and may land
                    // during it, and then this force must not count it.
                    long covered = writes.get();
                    try {
                        channel.force(false);
                        forcedWrites.accumulateAndGet(covered, Math::max);
                    } catch (IOException e) {
                        forceFailure = e;
                        evictionFailure = e;
                    }
                }
                writer = null;
                pool.closed();
                closeQuietly(channel);
                return OpenFiles.Eviction.CLOSED;
            } finally {
                use.writeLock().unlock();
            }
        }

        @Override
        boolean live() {
            return writer != null;
        }
    }

    @Override
    public void close() {
        closed = true;
        closeReader();
        try {
            closeWriter();
        } catch (IOException e) {
            // nothing was pending on it: writes are forced before a segment is closed
        }
    }

    /** Writes zeros over {@code [from, to)}: the space a window is mapped over exists before any store into it. */
    private static void writeZeros(FileChannel channel, long from, long to) throws IOException {
        ByteBuffer zeros = ZEROS.duplicate();
        for (long p = from; p < to; ) {
            zeros.clear().limit((int) Math.min(zeros.capacity(), to - p));
            while (zeros.hasRemaining()) {
                p += channel.write(zeros, p);
            }
        }
    }

    private static long roundUpToPage(long bytes) {
        return (bytes + PAGE - 1) & -PAGE;
    }

    private static void closeQuietly(FileChannel channel) {
        if (channel != null) {
            try {
                channel.close();
            } catch (IOException ignored) {
                // nothing was pending on it: writes are forced before a segment is closed
            }
        }
    }

    @Override
    public String toString() {
        return path().toString();
    }
}
