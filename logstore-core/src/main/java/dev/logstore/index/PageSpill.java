package dev.logstore.index;

import dev.logstore.io.FileOpener;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.zip.CRC32C;

/**
 * Where an active segment's index keeps the pages it moved out of memory: a file of whole pages
 * ({@link OffsetIndex#PAGE_ENTRIES} entries each), every page followed by a CRC-32C of its bytes
 * and of a random number of this spill's own.
 * So an active segment of any size holds at most two pages of each index in memory, plus the
 * first entry of every page. A lookup that lands in a moved page reads that one page back; when
 * it cannot (the file is gone, damaged, or was never written), it starts from the page's first
 * entry instead, which is slower but never wrong. When the segment is sealed its index files are
 * written from these pages and the ones in memory, and this file is removed.
 *
 * <p>The file's name ends in {@code .tmp}: nothing but the writer that made it reads it, and an
 * open after a crash removes it with the other leftovers (the crash's active segment is scanned
 * and its indexes rebuilt anyway). Nothing here is forced, and no descriptor is held between
 * uses: a store of thousands of active partitions holds none for its indexes.
 */
public final class PageSpill {

    /** Suffix added to an index file's name for its spill file. */
    public static final String SUFFIX = ".pages.tmp";

    private final FileOpener opener;
    private final Path file;
    private final int pageBytes;
    /**
     * Mixed into every page's checksum: a page some other spill left at this name (a writer that
     * died, an earlier life of the segment) never checks out as one of this spill's.
     */
    private final long salt = java.util.concurrent.ThreadLocalRandom.current().nextLong();

    /**
     * A spill that keeps nothing: a read-only view's, which writes no file. Pages moved to it are
     * dropped, and a lookup in one starts from its first entry.
     */
    public static final PageSpill NONE = new PageSpill(null, null, 0);

    /** Pages of {@code entrySize}-byte entries, in {@code file}. */
    public PageSpill(FileOpener opener, Path file, int entrySize) {
        this.opener = opener;
        this.file = file;
        this.pageBytes = OffsetIndex.PAGE_ENTRIES * entrySize;
    }

    /** The file, or what {@link #NONE} is: for messages. */
    @Override
    public String toString() {
        return file == null ? "nowhere (moved pages are not kept)" : file.toString();
    }

    /**
     * Writes page {@code page}: exactly one page of entries, from the buffer's position. False
     * when it could not be written (the caller goes on without it: lookups in that page start at
     * its first entry, and the sealed segment's index files are rebuilt from the segment).
     */
    boolean write(int page, ByteBuffer entries) {
        if (file == null) {
            return false;
        }
        if (entries.remaining() != pageBytes) {
            throw new IllegalArgumentException("a page is " + pageBytes + " bytes, not " + entries.remaining());
        }
        CRC32C crc = salted();
        crc.update(entries.duplicate());
        ByteBuffer checksum = ByteBuffer.allocate(Integer.BYTES).putInt(0, (int) crc.getValue());
        long at = (long) page * (pageBytes + Integer.BYTES);
        // The first page starts the file afresh: nothing of a file left at this name (by a writer
        // that died) may ever be read back as a page of this segment.
        StandardOpenOption[] options = page == 0
                ? new StandardOpenOption[] {StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                                            StandardOpenOption.TRUNCATE_EXISTING}
                : new StandardOpenOption[] {StandardOpenOption.CREATE, StandardOpenOption.WRITE};
        try (FileChannel channel = opener.open(file, options)) {
            writeFully(channel, entries.duplicate(), at);
            writeFully(channel, checksum, at + pageBytes);
            return true;
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    private static void writeFully(FileChannel channel, ByteBuffer bytes, long at) throws IOException {
        long position = at;
        while (bytes.hasRemaining()) {
            position += channel.write(bytes, position);
        }
    }

    /** Page {@code page} as written, its checksum checked; null when it cannot be read or does not check out. */
    ByteBuffer read(int page) {
        if (file == null) {
            return null;
        }
        ByteBuffer bytes = ByteBuffer.allocate(pageBytes + Integer.BYTES);
        long at = (long) page * (pageBytes + Integer.BYTES);
        try (FileChannel channel = opener.open(file, StandardOpenOption.READ)) {
            while (bytes.hasRemaining()) {
                if (channel.read(bytes, at + bytes.position()) < 0) {
                    return null;
                }
            }
        } catch (IOException | RuntimeException e) {
            return null; // gone (the segment was sealed meanwhile), or unreadable: the caller does without
        }
        CRC32C crc = salted();
        crc.update(bytes.duplicate().position(0).limit(pageBytes));
        if ((int) crc.getValue() != bytes.getInt(pageBytes)) {
            return null;
        }
        return bytes.position(0).limit(pageBytes).slice();
    }

    private CRC32C salted() {
        CRC32C crc = new CRC32C();
        crc.update(ByteBuffer.allocate(Long.BYTES).putLong(0, salt));
        return crc;
    }
}
