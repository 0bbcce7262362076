package dev.logstore.log;

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
     * old file or the whole new one: the bytes go to a temporary sibling ({@code <name>.tmp}),
     * which is forced and then renamed over the file. The rename is durable once the caller
     * forces the directory ({@link #fsync}); callers replacing several files force it once.
     */
    public static void replaceAtomically(Path file, ByteBuffer... parts) throws IOException {
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        try (FileChannel channel = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            for (ByteBuffer part : parts) {
                while (part.hasRemaining()) {
                    channel.write(part);
                }
            }
            channel.force(true);
        }
        Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    /** Forces a directory's entries to disk (fsync on the directory itself). */
    public static void fsync(Path dir) throws IOException {
        try (FileChannel channel = FileChannel.open(dir, StandardOpenOption.READ)) {
            channel.force(true);
        }
    }
}
