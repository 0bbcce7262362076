package dev.logstore.index;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.zip.CRC32C;

/** File chores shared by the two index kinds. */
final class IndexFiles {

    /** Bytes of the CRC-32C trailer after the entries. */
    static final int CRC_SIZE = 4;

    private IndexFiles() {
    }

    /**
     * Writes {@code bytes} to a temporary sibling, forces it and renames it over {@code file}, so
     * the index on disk is always either the old one or the whole new one. The caller fsyncs the
     * directory.
     */
    static void writeAtomically(Path file, ByteBuffer bytes) throws IOException {
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        CRC32C crc = new CRC32C();
        crc.update(bytes.duplicate());
        ByteBuffer trailer = ByteBuffer.allocate(CRC_SIZE).putInt(0, (int) crc.getValue());
        try (FileChannel channel = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            while (bytes.hasRemaining()) {
                channel.write(bytes);
            }
            while (trailer.hasRemaining()) {
                channel.write(trailer);
            }
            channel.force(true);
        }
        Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    /**
     * The entries of an index file, or null when it is missing, its size is not whole entries plus
     * the trailer, or the trailer's CRC-32C does not match (the caller rebuilds the index).
     */
    static ByteBuffer readIfPresent(Path file, int entrySize) throws IOException {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = channel.size();
            if (size < CRC_SIZE || (size - CRC_SIZE) % entrySize != 0 || size > Integer.MAX_VALUE) {
                return null;
            }
            ByteBuffer bytes = ByteBuffer.allocate((int) size);
            while (bytes.hasRemaining() && channel.read(bytes) >= 0) {
                // keep reading until full or end of file
            }
            if (bytes.hasRemaining()) {
                return null;
            }
            int stored = bytes.getInt((int) size - CRC_SIZE);
            bytes.flip().limit((int) size - CRC_SIZE);
            CRC32C crc = new CRC32C();
            crc.update(bytes.duplicate());
            return (int) crc.getValue() == stored ? bytes : null;
        } catch (NoSuchFileException e) {
            return null;
        }
    }
}
