package dev.logstore.segment;

import dev.logstore.io.Directories;
import dev.logstore.io.FileOpener;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedByInterruptException;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.FileChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

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
 */
public final class SegmentFile implements PositionalReader, AutoCloseable {

    /** How often a read reopens a read channel that other threads' interrupts keep closing. */
    private static final int MAX_REOPENS = 8;

    private final Path path;
    private final FileOpener opener;
    private final ReadChannelPool pool;
    private final Object readerLock = new Object();
    private volatile FileChannel reader;
    private volatile FileChannel writer;
    private volatile boolean closed;

    private SegmentFile(Path path, FileOpener opener, ReadChannelPool pool, FileChannel writer) {
        this.path = path;
        this.opener = opener;
        this.pool = pool;
        this.writer = writer;
    }

    /** Creates a new, empty file with a write channel; fails if the file exists. The caller forces the directory. */
    public static SegmentFile create(FileOpener opener, ReadChannelPool pool, Path path) throws IOException {
        FileChannel channel = opener.open(path, StandardOpenOption.CREATE_NEW, StandardOpenOption.READ,
                StandardOpenOption.WRITE);
        return new SegmentFile(path, opener, pool, channel);
    }

    /** An existing file, to read; nothing is opened before the first read. */
    public static SegmentFile existing(FileOpener opener, ReadChannelPool pool, Path path) {
        return new SegmentFile(path, opener, pool, null);
    }

    public Path path() {
        return path;
    }

    // ---------------------------------------------------------------- reads

    private InterruptedIOException interrupted(IOException cause) {
        InterruptedIOException e = new InterruptedIOException("reading " + path + " was interrupted: the thread's "
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
            return channel;
        }
        synchronized (readerLock) {
            if (closed) {
                throw new ClosedChannelException();
            }
            channel = reader;
            if (channel == null || !channel.isOpen()) {
                if (channel != null) {
                    pool.closed(); // closed by an interrupt: counted out before a new one is counted in
                }
                reader = null;
                channel = opener.open(path, StandardOpenOption.READ);
                reader = channel;
                pool.opened(this);
            }
            return channel;
        }
    }

    /**
     * Closes the read channel to give its descriptor back ({@link ReadChannelPool}); a reader
     * using it opens it again. Safe at any time.
     */
    void closeReader() {
        synchronized (readerLock) {
            if (reader != null) {
                closeQuietly(reader);
                reader = null;
                pool.closed();
            }
        }
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
    }

    /** The file's size now (it grows while a writer in another process appends). */
    public long size() throws IOException {
        for (int attempt = 0; ; attempt++) {
            FileChannel channel = readChannelFor(attempt);
            try {
                return channel.size();
            } catch (ClosedChannelException e) {
                closedUnder(e, attempt);
            }
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
                    InterruptedTransferException cut = new InterruptedTransferException("transferring from " + path
                            + " was interrupted", (int) Math.min(Integer.MAX_VALUE, done));
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

    /** The write channel; a closed-channel error once the segment was sealed or closed (a roll or close raced). */
    private FileChannel writeChannel() throws IOException {
        FileChannel channel = writer;
        if (channel == null) {
            throw new ClosedChannelException();
        }
        return channel;
    }

    /** Writes all of {@code src} at {@code position}. Only the partition's writer calls this. */
    public void write(ByteBuffer src, long position) throws IOException {
        FileChannel channel = writeChannel();
        long p = position;
        while (src.hasRemaining()) {
            p += channel.write(src, p);
        }
    }

    /** Forces the file's data (and the metadata needed to read it back) to disk. */
    public void force() throws IOException {
        writeChannel().force(false);
    }

    /**
     * Cuts the file to {@code size} and forces it, through the write channel or, for a file being
     * recovered that has none, a channel of its own.
     */
    public void truncate(long size) throws IOException {
        FileChannel channel = writer;
        if (channel != null) {
            channel.truncate(size);
            channel.force(true);
            return;
        }
        try (FileChannel own = opener.open(path, StandardOpenOption.WRITE)) {
            if (own.size() > size) {
                own.truncate(size);
                own.force(true);
            }
        }
    }

    /** Closes the write channel: the segment is sealed and only read from now on. */
    public void closeWriter() throws IOException {
        FileChannel channel = writer;
        writer = null;
        if (channel != null) {
            channel.close();
        }
    }

    /** True while the write channel is open. */
    public boolean writable() {
        FileChannel channel = writer;
        return channel != null && channel.isOpen();
    }

    @Override
    public void close() {
        closed = true;
        closeReader();
        closeQuietly(writer);
        writer = null;
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
        return path.toString();
    }
}
