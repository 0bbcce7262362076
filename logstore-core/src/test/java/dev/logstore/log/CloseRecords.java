package dev.logstore.log;

import dev.logstore.io.FileOpener;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;
import java.util.zip.CRC32C;

/** Test support: the store's clean-close record as a test needs to see or age it. */
public final class CloseRecords {

    private CloseRecords() {
    }

    /** True when the record holds the directory stamp of {@code partition} as the directory is now. */
    public static boolean directoryUnchanged(Path store, int partition) {
        return new CleanCloses(store, FileOpener.DEFAULT).unchangedSinceClose(partition,
                store.resolve("partition-" + partition)) != null;
    }

    /**
     * Makes a close wait for the stamps of the directories it changed last from {@code segments}
     * segments on (10,000 by default); returns the previous bound.
     */
    public static long waitForStampsFromSegments(long segments) {
        long previous = CleanCloses.waitForStampsFromSegments;
        CleanCloses.waitForStampsFromSegments = segments;
        return previous;
    }

    /** Rewrites the record as a build before directory stamps wrote it: version 1, 68-byte entries. */
    public static void rewriteAsVersionOne(Path store) throws IOException {
        Path file = store.resolve(CleanCloses.FILE_NAME);
        Map<Integer, CleanCloses.Entry> entries = new TreeMap<>(CleanCloses.decode(ByteBuffer.wrap(Files.readAllBytes(file))));
        ByteBuffer bytes = ByteBuffer.allocate(10 + 68 * entries.size() + 4);
        bytes.putInt(0x4C534343).putShort((short) 1).putInt(entries.size());
        for (CleanCloses.Entry e : entries.values()) {
            bytes.putInt(e.partition()).putInt(e.epoch()).putLong(e.sequence()).putInt(e.manifestCrc())
                    .putLong(e.manifestModified()).putLong(e.manifestKey()).putLong(e.baseOffset()).putLong(e.size())
                    .putLong(e.nextOffset()).putLong(e.maxTimestamp());
        }
        CRC32C crc = new CRC32C();
        crc.update(bytes.array(), 0, bytes.position());
        bytes.putInt((int) crc.getValue());
        Files.write(file, bytes.array());
    }
}
