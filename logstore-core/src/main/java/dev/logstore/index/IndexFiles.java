package dev.logstore.index;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;

/** File chores shared by the two index kinds. */
final class IndexFiles {

    private IndexFiles() {
    }

    /**
     * Writes {@code bytes} to a temporary sibling, forces it and renames it over {@code file}, so
     * the index on disk is always either the old one or the whole new one. The caller fsyncs the
     * directory.
     */
    static void writeAtomically(Path file, ByteBuffer bytes) throws IOException {
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        try (FileChannel channel = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            while (bytes.hasRemaining()) {
                channel.write(bytes);
            }
            channel.force(true);
        }
        Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    /** The whole file, or null when it is missing or its size is not a multiple of {@code entrySize}. */
    static ByteBuffer readIfPresent(Path file, int entrySize) throws IOException {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = channel.size();
            if (size % entrySize != 0 || size > Integer.MAX_VALUE) {
                return null;
            }
            ByteBuffer bytes = ByteBuffer.allocate((int) size);
            while (bytes.hasRemaining() && channel.read(bytes) >= 0) {
                // keep reading until full or end of file
            }
            return bytes.hasRemaining() ? null : bytes.flip();
        } catch (NoSuchFileException e) {
            return null;
        }
    }
}
