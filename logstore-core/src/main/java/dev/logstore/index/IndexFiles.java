package dev.logstore.index;

import dev.logstore.io.Directories;
import dev.logstore.io.FileOpener;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.zip.CRC32C;

/** File chores shared by the two index kinds. */
public final class IndexFiles {

    /** Bytes after the entries: int64 segment size, then a CRC-32C of entries and size. */
    public static final int TRAILER_SIZE = Long.BYTES + Integer.BYTES;

    private IndexFiles() {
    }

    /**
     * Replaces {@code file} atomically with the entries and the trailer (the size of the segment
     * they index, and a CRC-32C of entries and size). Not forced: an index is a cache of what its
     * segment holds, and one lost or damaged in a crash fails its checks and is rebuilt.
     */
    static void writeAtomically(FileOpener opener, Path file, ByteBuffer bytes, long segmentSize) throws IOException {
        ByteBuffer size = ByteBuffer.allocate(Long.BYTES).putLong(0, segmentSize);
        CRC32C crc = new CRC32C();
        crc.update(bytes.duplicate());
        crc.update(size.duplicate());
        ByteBuffer trailer = ByteBuffer.allocate(TRAILER_SIZE).putLong(0, segmentSize).putInt(Long.BYTES,
                (int) crc.getValue());
        Directories.replaceAtomically(opener, file, false, bytes, trailer);
    }

    /**
     * The segment size recorded in an index file's trailer, read without loading the entries (or
     * -1 when the file is missing or too short). A cheap check that a sealed segment still has the
     * size it was sealed with.
     */
    public static long recordedSegmentSize(Path file) throws IOException {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = channel.size();
            if (size < TRAILER_SIZE) {
                return -1;
            }
            ByteBuffer trailer = ByteBuffer.allocate(Long.BYTES);
            while (trailer.hasRemaining() && channel.read(trailer, size - TRAILER_SIZE + trailer.position()) >= 0) {
                // read the size field
            }
            return trailer.getLong(0);
        } catch (NoSuchFileException e) {
            return -1;
        }
    }

    /** An index file's entries and the segment size it was written for. */
    record Loaded(ByteBuffer entries, long segmentSize) {
    }

    /**
     * The entries of an index file and the segment size recorded with them, or null when the file
     * is missing, its size is not whole entries plus the trailer, or its CRC-32C does not match
     * (the caller rebuilds the index).
     */
    static Loaded readIfPresent(Path file, int entrySize) throws IOException {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = channel.size();
            if (size < TRAILER_SIZE || (size - TRAILER_SIZE) % entrySize != 0 || size > Integer.MAX_VALUE) {
                return null;
            }
            ByteBuffer bytes = ByteBuffer.allocate((int) size);
            while (bytes.hasRemaining() && channel.read(bytes) >= 0) {
                // keep reading until full or end of file
            }
            if (bytes.hasRemaining()) {
                return null;
            }
            int entriesEnd = (int) size - TRAILER_SIZE;
            long segmentSize = bytes.getLong(entriesEnd);
            int stored = bytes.getInt(entriesEnd + Long.BYTES);
            CRC32C crc = new CRC32C();
            crc.update(bytes.duplicate().limit(entriesEnd + Long.BYTES).position(0));
            if ((int) crc.getValue() != stored || segmentSize < 0) {
                return null;
            }
            bytes.flip().limit(entriesEnd);
            return new Loaded(bytes, segmentSize);
        } catch (NoSuchFileException e) {
            return null;
        }
    }
}
