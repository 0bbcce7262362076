package dev.logstore.io;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;

/**
 * Exclusive OS locks on regions of lock files, made safe to use from many threads of one JVM,
 * with one descriptor per lock file however many regions are held.
 *
 * <p>An OS lock belongs to the process, and on Linux closing <em>any</em> channel of a file
 * releases every lock the process holds on it (see {@link FileLock}). So this registry keeps
 * exactly one channel per lock file for the whole JVM, keyed by the file's identity (device and
 * inode, so a second path to it through a hard link or bind mount finds the same channel), and
 * closes it only when the last region on it is released. Many regions of one file then cost one
 * descriptor: a store locks partition {@code p} as byte {@code p} of one file. A region held by
 * another thread of this JVM shows as Java's {@link OverlappingFileLockException}; one held by
 * another process as a refused OS lock. This is the one piece of static, mutable state in the
 * engine, because the OS lock it guards is per process too.
 */
public final class FileLocks {

    /** The channel of each lock file this JVM holds regions of, by file identity. Guarded by itself. */
    private static final Map<Object, Shared> FILES = new HashMap<>();
    /** Waiting room for blocking locks, per file identity and region; entries are small. */
    private static final ConcurrentHashMap<String, Semaphore> WAITING = new ConcurrentHashMap<>();

    private FileLocks() {
    }

    /** One lock file's channel and how many regions of it are held or being taken. */
    private static final class Shared {
        final Object key;
        final FileChannel channel;
        int users;

        Shared(Object key, FileChannel channel) {
            this.key = key;
            this.channel = channel;
        }
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

        BusyException(Path file, long position, Busy busy) {
            super(file + (position == 0 ? "" : " (byte " + position + ")") + " is locked by "
                    + (busy == Busy.THIS_PROCESS ? "this process" : "another process"));
            this.busy = busy;
        }

        public Busy busy() {
            return busy;
        }
    }

    /** A lock this process holds; closing it releases the lock. */
    public static final class Held implements AutoCloseable {
        private final Shared shared;
        private final FileLock lock;
        private final Semaphore permit;
        private boolean released;

        private Held(Shared shared, FileLock lock, Semaphore permit) {
            this.shared = shared;
            this.lock = lock;
            this.permit = permit;
        }

        /** True until released, and while the channel holding the OS lock is open. */
        public synchronized boolean valid() {
            return !released && lock.isValid();
        }

        /** Releases the lock. Idempotent. */
        @Override
        public synchronized void close() throws IOException {
            if (released) {
                return;
            }
            released = true;
            try {
                if (lock.isValid()) {
                    lock.release();
                }
            } finally {
                try {
                    leave(shared);
                } finally {
                    if (permit != null) {
                        permit.release();
                    }
                }
            }
        }
    }

    /** Takes the exclusive lock on the whole of {@code file} (created if missing) without waiting. */
    public static Held tryLock(FileOpener opener, Path file) throws IOException {
        return lock(opener, file, 0, Long.MAX_VALUE, false);
    }

    /**
     * Takes the exclusive lock on byte {@code position} of {@code file} (created if missing)
     * without waiting.
     *
     * @throws BusyException when this JVM or another process holds it
     */
    public static Held tryLock(FileOpener opener, Path file, long position) throws IOException {
        return lock(opener, file, position, 1, false);
    }

    /**
     * Takes the exclusive lock on the whole of {@code file} (created if missing), waiting for other
     * threads of this JVM and for other processes.
     */
    public static Held lock(FileOpener opener, Path file) throws IOException {
        return lock(opener, file, 0, Long.MAX_VALUE, true);
    }

    /**
     * Takes the exclusive lock on the whole of {@code file} (created if missing), trying again
     * with growing pauses (up to half a second) while this JVM or another process holds any of it,
     * until {@code deadlineNanos} ({@link System#nanoTime()}).
     *
     * @throws BusyException           when it is still held at the deadline
     * @throws InterruptedIOException  when the thread is interrupted while it waits
     */
    public static Held lock(FileOpener opener, Path file, long deadlineNanos) throws IOException {
        long pause = 10;
        while (true) {
            try {
                return tryLock(opener, file);
            } catch (BusyException e) {
                long left = deadlineNanos - System.nanoTime();
                if (left <= 0) {
                    throw e;
                }
                try {
                    Thread.sleep(Math.min(pause, java.util.concurrent.TimeUnit.NANOSECONDS.toMillis(left) + 1));
                } catch (InterruptedException interrupted) {
                    Thread.currentThread().interrupt();
                    throw new InterruptedIOException("interrupted while waiting for the lock " + file);
                }
                pause = Math.min(pause * 2, 500);
            }
        }
    }

    private static Held lock(FileOpener opener, Path file, long position, long size, boolean wait)
            throws IOException {
        Shared shared = enter(opener, file);
        Semaphore permit = null;
        boolean done = false;
        try {
            if (wait) {
                permit = WAITING.computeIfAbsent(shared.key + "@" + position, k -> new Semaphore(1));
                try {
                    permit.acquire();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    permit = null;
                    throw new InterruptedIOException("interrupted while waiting for the lock " + file);
                }
            }
            FileLock lock;
            try {
                lock = wait ? shared.channel.lock(position, size, false) : shared.channel.tryLock(position, size, false);
            } catch (OverlappingFileLockException e) {
                throw new BusyException(file, position, Busy.THIS_PROCESS);
            }
            if (lock == null) {
                throw new BusyException(file, position, Busy.OTHER_PROCESS);
            }
            done = true;
            return new Held(shared, lock, permit);
        } finally {
            if (!done) {
                try {
                    leave(shared);
                } finally {
                    if (permit != null) {
                        permit.release();
                    }
                }
            }
        }
    }

    /** The JVM's channel of {@code file}, opened (and the file created) if this is its first user. */
    private static Shared enter(FileOpener opener, Path file) throws IOException {
        Object key = identity(opener, file);
        synchronized (FILES) {
            Shared shared = FILES.get(key);
            if (shared == null) {
                shared = new Shared(key, opener.open(file, StandardOpenOption.WRITE));
                FILES.put(key, shared);
            }
            shared.users++;
            return shared;
        }
    }

    private static void leave(Shared shared) throws IOException {
        synchronized (FILES) {
            if (--shared.users > 0) {
                return;
            }
            FILES.remove(shared.key);
            // No region of this file is held by this JVM any more: closing releases nothing.
            shared.channel.close();
        }
    }

    /**
     * The identity of {@code file} (device and inode), creating the file first if it is missing.
     * A file that did not exist has no channel in this JVM, so closing the one that created it
     * releases nothing.
     */
    private static Object identity(FileOpener opener, Path file) throws IOException {
        for (int attempt = 0; ; attempt++) {
            try {
                Object key = Files.readAttributes(file, BasicFileAttributes.class).fileKey();
                return key != null ? key : file.toRealPath();
            } catch (NoSuchFileException missing) {
                if (attempt == 2) {
                    throw missing;
                }
                try {
                    opener.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE).close();
                } catch (FileAlreadyExistsException raced) {
                    // another thread or process created it: read its identity
                }
            }
        }
    }
}
