package dev.logstore;

import dev.logstore.io.FileLocks;
import dev.logstore.io.FileOpener;
import dev.logstore.log.PartitionRecovery;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Every writer kept out of a store, in this process and in others, until {@link #close}: holds
 * the whole of each of the store's partition lock files, so nobody opens a partition for writing.
 * While held, the store can be moved, copied or archived whole; a writer that tries to open a partition meanwhile fails with a
 * {@link StoreLockedException}, as it would against another writer, and can try again.
 *
 * <p>Partitions are counted when the exclusion begins: a writer that grows the store past a
 * multiple of 1,024 partitions meanwhile locks a file that did not exist and is not kept out.
 * Readers are not kept out. Files of a store that is moved stay readable through the handles
 * already open, but a reader that opens another segment by its path afterwards does not find it.
 *
 * @see LogStore#excludeWriters(Path, Duration)
 */
public final class WritersExcluded implements AutoCloseable {

    private final List<FileLocks.Held> held;

    private WritersExcluded(List<FileLocks.Held> held) {
        this.held = held;
    }

    static WritersExcluded acquire(FileOpener opener, Path dir, Duration wait) {
        if (!LogStore.isStore(dir)) {
            throw new LogStoreException("No LogStore at " + dir + " (no " + StoreMetadata.FILE_NAME + ")");
        }
        long deadline = System.nanoTime() + wait.toNanos();
        List<FileLocks.Held> held = new ArrayList<>();
        boolean done = false;
        try {
            StoreMetadata metadata = StoreMetadata.read(dir);
            int partitions = metadata == null ? 1 : metadata.partitions();
            for (int first = 0; first < partitions; first += PartitionRecovery.LOCKS_PER_FILE) {
                held.add(lock(opener, PartitionRecovery.lockFile(dir, first), deadline, wait));
            }
            done = true;
            return new WritersExcluded(held);
        } catch (IOException e) {
            throw new LogStoreException("Cannot lock the writers of " + dir + " out: " + e.getMessage(), e);
        } finally {
            if (!done) {
                release(held);
            }
        }
    }

    private static FileLocks.Held lock(FileOpener opener, Path file, long deadline, Duration wait) throws IOException {
        try {
            return FileLocks.lock(opener, file, deadline);
        } catch (FileLocks.BusyException e) {
            throw new StoreLockedException("A writer in " + (e.busy() == FileLocks.Busy.THIS_PROCESS ? "this process"
                    : "another process") + " still holds a partition in " + file + " after " + wait.toMillis()
                    + " ms; close it (or wait for it to close) and try again");
        } catch (java.io.InterruptedIOException e) {
            Thread.currentThread().interrupt();
            throw new LogStoreInterruptedException("Interrupted while waiting for the writers of " + file.getParent()
                    + " to close", e);
        }
    }

    private static void release(List<FileLocks.Held> held) {
        for (int i = held.size() - 1; i >= 0; i--) {
            try {
                held.get(i).close();
            } catch (IOException ignored) {
                // Closing the lock's channel releases it whatever the error says.
            }
        }
        held.clear();
    }

    /** Lets writers in again. */
    @Override
    public synchronized void close() {
        release(held);
    }
}
