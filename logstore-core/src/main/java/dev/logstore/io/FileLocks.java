package dev.logstore.io;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Semaphore;

/**
 * Exclusive OS file locks, made safe to use from many threads of one JVM.
 *
 * <p>An OS lock belongs to the process, and on Linux closing <em>any</em> channel of the file
 * releases every lock the process holds on it (see {@link FileLock}). A second opener in the same
 * JVM that opened the lock file, found it locked and closed its channel would silently unlock the
 * first. So this registry is consulted before a lock file is touched at all: one JVM-wide table,
 * keyed by the lock file's real path, says whether this process holds or is taking the lock.
 * This is the one piece of static, mutable state in the engine, because the OS lock it guards is
 * per process too.
 */
public final class FileLocks {

    /** Lock files this process holds, or is taking, by real path. */
    private static final Set<Path> HELD = ConcurrentHashMap.newKeySet();
    /** Waiting room for blocking locks, one per lock file; entries are small and live as long as the JVM. */
    private static final ConcurrentHashMap<Path, Semaphore> WAITING = new ConcurrentHashMap<>();
    /**
     * Channels that must never be closed: an OS lock on their file turned out to be held through
     * another path to the same file (a bind mount, a hard link), and closing them would release it.
     */
    private static final List<FileChannel> NEVER_CLOSE = new CopyOnWriteArrayList<>();

    private FileLocks() {
    }

    /** Why {@link #tryLock} did not get the lock. */
    public enum Busy {
        /** Another holder in this JVM. */
        THIS_PROCESS,
        /** Another process. */
        OTHER_PROCESS
    }

    /** A lock that could not be taken. */
    public static final class BusyException extends IOException {
        private static final long serialVersionUID = 1L;
        private final Busy busy;

        BusyException(Path file, Busy busy) {
            super(file + " is locked by " + (busy == Busy.THIS_PROCESS ? "this process" : "another process"));
            this.busy = busy;
        }

        public Busy busy() {
            return busy;
        }
    }

    /** A lock this process holds; closing it releases the lock. */
    public static final class Held implements AutoCloseable {
        private final Path key;
        private final FileChannel channel;
        private final FileLock lock;
        private final Semaphore permit;
        private boolean released;

        private Held(Path key, FileChannel channel, FileLock lock, Semaphore permit) {
            this.key = key;
            this.channel = channel;
            this.lock = lock;
            this.permit = permit;
        }

        /** Releases the lock. Idempotent. */
        @Override
        public synchronized void close() throws IOException {
            if (released) {
                return;
            }
            released = true;
            try {
                lock.release();
            } finally {
                try {
                    channel.close();
                } finally {
                    // Only now may another thread of this JVM open the file.
                    if (permit != null) {
                        permit.release();
                    } else {
                        HELD.remove(key);
                    }
                }
            }
        }
    }

    /**
     * Takes the exclusive lock on {@code file} (created if missing) without waiting.
     *
     * @throws BusyException when this JVM or another process holds it
     */
    public static Held tryLock(FileOpener opener, Path file) throws IOException {
        Path key = key(file);
        if (!HELD.add(key)) {
            throw new BusyException(file, Busy.THIS_PROCESS);
        }
        boolean done = false;
        try {
            Held held = lockOs(opener, file, key, null, false);
            done = true;
            return held;
        } finally {
            if (!done) {
                HELD.remove(key);
            }
        }
    }

    /**
     * Takes the exclusive lock on {@code file} (created if missing), waiting for other threads of
     * this JVM and for other processes.
     */
    public static Held lock(FileOpener opener, Path file) throws IOException {
        Path key = key(file);
        Semaphore permit = WAITING.computeIfAbsent(key, k -> new Semaphore(1));
        try {
            permit.acquire();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while waiting for the lock " + file);
        }
        boolean done = false;
        try {
            Held held = lockOs(opener, file, key, permit, true);
            done = true;
            return held;
        } finally {
            if (!done) {
                permit.release();
            }
        }
    }

    private static Held lockOs(FileOpener opener, Path file, Path key, Semaphore permit, boolean wait)
            throws IOException {
        FileChannel channel = opener.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
        FileLock lock;
        try {
            lock = wait ? channel.lock() : channel.tryLock();
        } catch (OverlappingFileLockException e) {
            // This JVM holds the file locked through another path: closing the channel would
            // release that lock, so the channel is kept open for good.
            NEVER_CLOSE.add(channel);
            throw new BusyException(file, Busy.THIS_PROCESS);
        } catch (IOException | RuntimeException e) {
            // No lock of this JVM is on the file (the registry says so): closing is safe.
            channel.close();
            throw e;
        }
        if (lock == null) {
            channel.close();
            throw new BusyException(file, Busy.OTHER_PROCESS);
        }
        return new Held(key, channel, lock, permit);
    }

    private static Path key(Path file) throws IOException {
        return file.getParent().toRealPath().resolve(file.getFileName()).normalize();
    }
}
