package dev.logstore.log;

import dev.logstore.StoreLockedException;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * The exclusive write lock of one partition: an OS file lock on {@code .lock} in the partition
 * directory. It fences a second writer in another process and, through the JVM's overlapping-lock
 * check, a second writer in this one. The OS drops it when the process dies, so a crashed writer
 * never leaves a stale lock behind.
 */
final class PartitionLock implements AutoCloseable {

    static final String FILE_NAME = ".lock";

    private final FileChannel channel;
    private final FileLock lock;

    private PartitionLock(FileChannel channel, FileLock lock) {
        this.channel = channel;
        this.lock = lock;
    }

    static PartitionLock acquire(Path partitionDir, String description) throws IOException {
        FileChannel channel = FileChannel.open(partitionDir.resolve(FILE_NAME), StandardOpenOption.CREATE,
                StandardOpenOption.WRITE);
        FileLock lock;
        try {
            lock = channel.tryLock();
        } catch (OverlappingFileLockException e) {
            lock = null;
        } catch (IOException e) {
            channel.close();
            throw e;
        }
        if (lock == null) {
            channel.close();
            throw new StoreLockedException(description + " is already open for writing by another LogStore in this "
                    + "or another process (lock " + partitionDir.resolve(FILE_NAME) + "); close that one first, "
                    + "or open this store read-only");
        }
        return new PartitionLock(channel, lock);
    }

    @Override
    public void close() throws IOException {
        try {
            lock.release();
        } finally {
            channel.close();
        }
    }
}
