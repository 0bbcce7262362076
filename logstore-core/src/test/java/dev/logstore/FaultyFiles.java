package dev.logstore;

import dev.logstore.io.FileOpener;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Predicate;

/**
 * A {@link FileOpener} whose channels fail where a test says, as a failing disk would: a write
 * that stops halfway, an fsync that reports an I/O error, an open that runs out of descriptors.
 * It also counts the bytes read through it and the fsyncs.
 */
final class FaultyFiles implements FileOpener {

    /** Fails the writes to matching files, after writing half of what was asked. */
    volatile Predicate<Path> failWrites = path -> false;
    /** Fails fsync of matching files (a directory included). */
    volatile Predicate<Path> failForces = path -> false;
    /** Interrupts the writing thread as it writes to matching files, as a cancelled task would be. */
    volatile Predicate<Path> interruptWrites = path -> false;
    /** Refuses memory maps of matching files, as a process at its {@code vm.max_map_count} is refused. */
    volatile Predicate<Path> failMaps = path -> false;
    /** Fails opening matching files, as "Too many open files" does. */
    volatile Predicate<Path> failOpens = path -> false;
    final AtomicLong bytesRead = new AtomicLong();
    /** The part of {@link #bytesRead} read from segment ({@code .log}) files. */
    final AtomicLong segmentBytesRead = new AtomicLong();
    /** Counts positional reads (preads). */
    final AtomicLong preads = new AtomicLong();
    /** Counts fsyncs of files and directories alike. */
    final AtomicLong forces = new AtomicLong();
    /** Counts listings of directories. */
    final AtomicLong listings = new AtomicLong();

    static Predicate<Path> named(String suffix) {
        return path -> path.getFileName().toString().endsWith(suffix);
    }

    static Predicate<Path> directories() {
        return Files::isDirectory;
    }

    void heal() {
        failWrites = path -> false;
        failForces = path -> false;
        failOpens = path -> false;
        failMaps = path -> false;
        interruptWrites = path -> false;
    }

    @Override
    public String[] list(Path dir) throws IOException {
        listings.incrementAndGet();
        return FileOpener.super.list(dir);
    }

    @Override
    public FileChannel open(Path file, OpenOption... options) throws IOException {
        if (failOpens.test(file)) {
            throw new IOException(file + ": Too many open files (injected)");
        }
        return new Channel(file, FileChannel.open(file, options));
    }

    private final class Channel extends DelegatingFileChannel {
        Channel(Path path, FileChannel delegate) {
            super(path, delegate);
        }

        private void counted(long n) {
            bytesRead.addAndGet(Math.max(0, n));
            if (path.getFileName().toString().endsWith(".log")) {
                segmentBytesRead.addAndGet(Math.max(0, n));
            }
        }

        /** A delegate closed under us (an interrupt) closes this wrapper too, so isOpen() tells the truth. */
        private <T extends Exception> T closing(T e) {
            if (e instanceof ClosedChannelException) {
                try {
                    close();
                } catch (IOException ignored) {
                    // already closed
                }
            }
            return e;
        }

        private int failHalfway(ByteBuffer src, long position) throws IOException {
            int half = src.remaining() / 2;
            ByteBuffer part = src.duplicate();
            part.limit(part.position() + half);
            int written = position < 0 ? delegate.write(part) : delegate.write(part, position);
            src.position(src.position() + written);
            throw new IOException(path + ": Input/output error (injected after " + written + " bytes)");
        }

        @Override
        public int read(ByteBuffer dst) throws IOException {
            try {
                int n = delegate.read(dst);
                counted(n);
                return n;
            } catch (ClosedChannelException e) {
                throw closing(e);
            }
        }

        @Override
        public long read(ByteBuffer[] dsts, int offset, int length) throws IOException {
            long n = delegate.read(dsts, offset, length);
            counted(n);
            return n;
        }

        @Override
        public int write(ByteBuffer src) throws IOException {
            if (failWrites.test(path)) {
                return failHalfway(src, -1);
            }
            return delegate.write(src);
        }

        @Override
        public long write(ByteBuffer[] srcs, int offset, int length) throws IOException {
            if (failWrites.test(path)) {
                throw new IOException(path + ": Input/output error (injected)");
            }
            return delegate.write(srcs, offset, length);
        }

        @Override
        public long size() throws IOException {
            try {
                return delegate.size();
            } catch (ClosedChannelException e) {
                throw closing(e);
            }
        }

        @Override
        public void force(boolean metaData) throws IOException {
            if (failForces.test(path)) {
                throw new IOException(path + ": Input/output error (injected fsync failure)");
            }
            forces.incrementAndGet();
            try {
                delegate.force(metaData);
            } catch (ClosedChannelException e) {
                throw closing(e);
            }
        }

        @Override
        public int read(ByteBuffer dst, long position) throws IOException {
            preads.incrementAndGet();
            try {
                int n = delegate.read(dst, position);
                counted(n);
                return n;
            } catch (ClosedChannelException e) {
                throw closing(e);
            }
        }

        @Override
        public int write(ByteBuffer src, long position) throws IOException {
            if (failWrites.test(path)) {
                return failHalfway(src, position);
            }
            if (interruptWrites.test(path)) {
                Thread.currentThread().interrupt();
            }
            try {
                return delegate.write(src, position);
            } catch (ClosedChannelException e) {
                throw closing(e);
            }
        }

        @Override
        public MappedByteBuffer map(MapMode mode, long position, long size) throws IOException {
            if (failMaps.test(path)) {
                throw new IOException("Map failed (injected)", new OutOfMemoryError("Map failed"));
            }
            return delegate.map(mode, position, size);
        }
    }
}
