package dev.logstore.io;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;

/**
 * Durability of files and directory entries: new, renamed and deleted files survive a crash only
 * after their directory is forced.
 */
public final class Directories {

    private Directories() {
    }

    /**
     * Replaces {@code file} with {@code parts}, written in order, so that it is always either the
     * old file or the whole new one: the bytes go to a temporary sibling of its own
     * ({@code <name>.<random>.tmp}, so that writers of the same file in other threads or processes
     * never write into each other's), which is forced and then renamed over the file. The rename
     * is durable once the caller forces the directory ({@link #fsync}); callers replacing several
     * files force it once.
     */
    public static void replaceAtomically(Path file, ByteBuffer... parts) throws IOException {
        replaceAtomically(FileOpener.DEFAULT, file, true, parts);
    }

    /**
     * Like {@link #replaceAtomically(Path, ByteBuffer...)}, through {@code opener}; with
     * {@code force} false the temporary file is not forced, for files whose loss or damage in a
     * crash is detected and repaired (index files carry a checksum and are rebuilt).
     */
    public static void replaceAtomically(FileOpener opener, Path file, boolean force, ByteBuffer... parts)
            throws IOException {
        Path tmp = file.resolveSibling(file.getFileName() + "."
                + Long.toHexString(java.util.concurrent.ThreadLocalRandom.current().nextLong() >>> 1) + ".tmp");
        try (FileChannel channel = opener.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            for (ByteBuffer part : parts) {
                while (part.hasRemaining()) {
                    channel.write(part);
                }
            }
            if (force) {
                channel.force(true);
            }
        } catch (IOException | RuntimeException e) {
            Files.deleteIfExists(tmp);
            throw e;
        }
        Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    /** Forces a directory's entries to disk (fsync on the directory itself). */
    public static void fsync(Path dir) throws IOException {
        fsync(FileOpener.DEFAULT, dir);
    }

    /** Forces a directory's entries to disk, opening it through {@code opener}. */
    public static void fsync(FileOpener opener, Path dir) throws IOException {
        try (FileChannel channel = opener.open(dir, StandardOpenOption.READ)) {
            channel.force(true);
        }
    }

    /** Reads until {@code buffer} is full; an {@link EOFException} when the file ends first. */
    public static void readFully(FileChannel channel, ByteBuffer buffer, long position) throws IOException {
        long p = position;
        while (buffer.hasRemaining()) {
            int n = channel.read(buffer, p);
            if (n < 0) {
                throw new EOFException("end of file at byte " + p + " while " + buffer.remaining()
                        + " more bytes were expected");
            }
            p += n;
        }
    }
}
