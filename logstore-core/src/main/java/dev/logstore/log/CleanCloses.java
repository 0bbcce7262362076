package dev.logstore.log;

import dev.logstore.io.Directories;
import dev.logstore.io.FileLocks;
import dev.logstore.io.FileOpener;
import dev.logstore.segment.Segment;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.zip.CRC32C;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Where each partition's active segment ended when a store was closed: the store's
 * {@code clean-close} file, written once per close for all the partitions it closed, so that a close
 * of thousands of partitions costs one fsync per partition (its segment) and one for them all,
 * instead of a clean manifest (a file, an fsync and a rename) in each.
 *
 * <p>An entry completes one manifest file: the one whose epoch, sequence and checksum it names, and
 * whose modification time and file key (inode) it recorded. The next open takes the active
 * segment's end from it, as it would from a manifest marked clean, but only while that manifest
 * file is still the partition's newest and the segment has exactly the recorded size. (A segment is
 * never replaced while its manifest stands; bytes changed in it behind the store's back are found
 * by its checksums, as in any sealed segment.) Any later writer writes a manifest of
 * its own, and a partition directory removed and made again holds new files even where their bytes
 * are the same (a partition's first manifest is the same in every new partition), so an entry never
 * applies to anything but the files it was written for. One that does not apply costs a scan of
 * the active segment, as after a crash. The file may be lost or damaged for the same price: it is
 * read as empty then.
 *
 * <pre>
 *  offset size field      meaning
 *  ------ ---- ---------- ---------------------------------------------------------------
 *       0    4 magic      "LSCC" (0x4C534343)
 *       4    2 version    1
 *       6    4 count      entries, by ascending partition
 *      10   68 entry      int32 partition
 *                         int32 epoch            of the manifest the entry completes
 *                         int64 sequence         of that manifest
 *                         int32 manifestCrc      the CRC-32C stored at the end of that manifest file
 *                         int64 manifestModified that file's modification time, in nanoseconds
 *                         int64 manifestKey      a hash of that file's key (device and inode)
 *                         int64 baseOffset       of its last (active) segment
 *                         int64 size             bytes of whole batches in that segment, forced
 *                         int64 nextOffset       offset after its last record
 *                         int64 maxTimestamp     greatest record timestamp, Long.MIN_VALUE when empty
 *  10+68n    4 crc        CRC-32C of every byte before it
 * </pre>
 *
 * Closes of different handles on the same store (other partitions, other processes) take turns
 * through the lock on {@code .clean-close.lock} and keep each other's entries.
 */
public final class CleanCloses {

    public static final String FILE_NAME = "clean-close";
    static final String LOCK_FILE = ".clean-close.lock";
    private static final int MAGIC = 0x4C534343;
    private static final short VERSION = 1;
    private static final int HEADER = 10;
    private static final int ENTRY = 68;
    /** How long a close waits for another close of the store to finish its record before it writes none. */
    private static final long LOCK_WAIT_NANOS = TimeUnit.SECONDS.toNanos(10);

    private static final Logger log = LoggerFactory.getLogger(CleanCloses.class);

    /** One partition's active segment as a close left it. */
    public record Entry(int partition, int epoch, long sequence, int manifestCrc, long manifestModified,
                        long manifestKey, long baseOffset, long size, long nextOffset, long maxTimestamp) {
    }

    /**
     * A file's modification time (nanoseconds) and a hash of its key: what tells one file from a
     * later one of the same name.
     */
    private record Stamp(long modified, long key) {
        static Stamp of(Path file) throws IOException {
            BasicFileAttributes attributes = Files.readAttributes(file, BasicFileAttributes.class);
            Object key = attributes.fileKey();
            return new Stamp(attributes.lastModifiedTime().to(TimeUnit.NANOSECONDS),
                    key == null ? 0 : String.valueOf(key).hashCode());
        }
    }

    /**
     * The entry for a partition closed with {@code manifest} (in {@code manifestFile}) its newest,
     * its active segment forced at {@code size} bytes.
     */
    static Entry entry(int partition, Manifest manifest, Path manifestFile, long size,
                       long nextOffset, long maxTimestamp) throws IOException {
        Stamp manifestStamp = Stamp.of(manifestFile);
        return new Entry(partition, manifest.epoch(), manifest.sequence(), manifest.checksum(),
                manifestStamp.modified(), manifestStamp.key(), manifest.last().baseOffset(), size, nextOffset,
                maxTimestamp);
    }

    private final Path storeDir;
    private final FileOpener opener;
    private final Object lock = new Object();
    /** What the file held when last read, and the file's identity then (null: not read yet). */
    private Map<Integer, Entry> entries = Map.of();
    private Object readAs;

    public CleanCloses(Path storeDir, FileOpener opener) {
        this.storeDir = storeDir;
        this.opener = opener;
    }

    private Path file() {
        return storeDir.resolve(FILE_NAME);
    }

    /**
     * {@code manifest}, completed by this partition's entry when the entry still applies: the
     * manifest is not already clean and is the one the entry names (epoch, sequence, checksum), in
     * the very file the entry saw (modification time and file key); the active segment is not
     * empty and its file has exactly the recorded size. Otherwise {@code manifest} itself.
     */
    Manifest complete(int partition, Manifest manifest, Path partitionDir) {
        if (manifest == null || manifest.clean() || manifest.epoch() == 0) {
            return manifest;
        }
        Entry entry = current().get(partition);
        Manifest.Entry last = manifest.last();
        // An empty active segment is not completed: there is nothing to gain, and a writer must not
        // take the file over on the strength of the record, as it would after a clean manifest,
        // since its manifest on disk still names the file as the old epoch's active segment.
        if (entry == null || entry.size() == 0 || entry.epoch() != manifest.epoch()
                || entry.sequence() != manifest.sequence()
                || entry.manifestCrc() != manifest.checksum() || entry.baseOffset() != last.baseOffset()
                || entry.nextOffset() < last.baseOffset()) {
            return manifest;
        }
        try {
            Path segment = partitionDir.resolve(Segment.fileName(last.baseOffset(), Segment.LOG_SUFFIX));
            Stamp manifestStamp = Stamp.of(partitionDir.resolve(Manifests.fileName(manifest.epoch())));
            // A segment shorter than recorded is still completed: the very manifest file the entry saw
            // stands, so the bytes the close forced were cut off behind the store's back, and the
            // open reports it as the damage it is instead of scanning it as a crash's end. One
            // longer than recorded (bytes added since) is scanned.
            if (Files.size(segment) > entry.size() || manifestStamp.modified() != entry.manifestModified()
                    || manifestStamp.key() != entry.manifestKey()) {
                return manifest;
            }
        } catch (IOException e) {
            return manifest;
        }
        List<Manifest.Entry> segments = new ArrayList<>(manifest.segments());
        segments.set(segments.size() - 1, new Manifest.Entry(last.baseOffset(), last.epoch(), last.createdMillis(),
                entry.size(), entry.nextOffset(), entry.maxTimestamp()));
        return new Manifest(manifest.epoch(), manifest.sequence(), true, manifest.startOffset(), segments,
                manifest.tag());
    }

    /**
     * The writer epoch this partition's entry names, or 0 when there is none: where a look for the
     * partition's newest claim may start without listing its directory (see
     * {@link Manifests#newestClaimed(int)}, which lists anyway when that epoch's file is gone).
     */
    int epochHint(int partition) {
        Entry entry = current().get(partition);
        return entry == null ? 0 : entry.epoch();
    }

    /** The entries as the file holds them now: read again when the file changed since the last look. */
    private Map<Integer, Entry> current() {
        synchronized (lock) {
            Object identity;
            try {
                BasicFileAttributes attributes = Files.readAttributes(file(), BasicFileAttributes.class);
                identity = List.of(String.valueOf(attributes.fileKey()), attributes.lastModifiedTime(),
                        attributes.size());
            } catch (IOException e) {
                identity = "missing";
            }
            if (!identity.equals(readAs)) {
                Map<Integer, Entry> read = read();
                entries = read == null ? Map.of() : read;
                readAs = read == null ? null : identity; // a failed read (an interrupt) is tried again next time
            }
            return entries;
        }
    }

    /**
     * The file's entries; empty when it is missing or not a whole, intact record (then every
     * partition is scanned); null when it could not be read.
     */
    private Map<Integer, Entry> read() {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file());
        } catch (NoSuchFileException e) {
            return Map.of();
        } catch (IOException e) {
            log.warn("Cannot read {} ({}); partitions closed cleanly are scanned on open instead", file(),
                    e.getMessage());
            return null;
        }
        Map<Integer, Entry> decoded = decode(ByteBuffer.wrap(bytes));
        if (decoded == null) {
            log.warn("{} is not a whole clean-close record (damaged, or cut short); it is ignored, and the partitions "
                    + "it named are scanned on open as after a crash", file());
            return Map.of();
        }
        return decoded;
    }

    static Map<Integer, Entry> decode(ByteBuffer bytes) {
        int size = bytes.remaining();
        if (size < HEADER + Integer.BYTES || (size - HEADER - Integer.BYTES) % ENTRY != 0) {
            return null;
        }
        CRC32C crc = new CRC32C();
        crc.update(bytes.duplicate().limit(size - Integer.BYTES));
        if ((int) crc.getValue() != bytes.getInt(size - Integer.BYTES) || bytes.getInt(0) != MAGIC
                || bytes.getShort(4) != VERSION) {
            return null;
        }
        int count = bytes.getInt(6);
        if (count != (size - HEADER - Integer.BYTES) / ENTRY) {
            return null;
        }
        Map<Integer, Entry> decoded = new HashMap<>(count * 2);
        bytes.position(HEADER);
        for (int i = 0; i < count; i++) {
            Entry e = new Entry(bytes.getInt(), bytes.getInt(), bytes.getLong(), bytes.getInt(), bytes.getLong(),
                    bytes.getLong(), bytes.getLong(), bytes.getLong(), bytes.getLong(), bytes.getLong());
            decoded.put(e.partition(), e);
        }
        return decoded;
    }

    static ByteBuffer encode(Collection<Entry> entries) {
        ByteBuffer bytes = ByteBuffer.allocate(HEADER + ENTRY * entries.size() + Integer.BYTES);
        bytes.putInt(MAGIC).putShort(VERSION).putInt(entries.size());
        for (Entry e : entries) {
            bytes.putInt(e.partition()).putInt(e.epoch()).putLong(e.sequence()).putInt(e.manifestCrc())
                    .putLong(e.manifestModified()).putLong(e.manifestKey()).putLong(e.baseOffset()).putLong(e.size())
                    .putLong(e.nextOffset()).putLong(e.maxTimestamp());
        }
        CRC32C crc = new CRC32C();
        crc.update(bytes.array(), 0, bytes.position());
        bytes.putInt((int) crc.getValue());
        return bytes.flip();
    }

    /**
     * Adds {@code closed} to the file, replacing older entries of the same partitions and keeping
     * the others: written to a temporary file, forced, renamed over the file, and the directory
     * forced. The caller forced every segment and manifest the entries name before, and still
     * holds their partitions' locks. Waits up to 10 s for another close of the store to finish its
     * record, then gives up (a process stopped while it held the lock would block every close).
     */
    public void record(Collection<Entry> closed) throws IOException {
        if (closed.isEmpty()) {
            return;
        }
        try (FileLocks.Held held = FileLocks.lock(opener, storeDir.resolve(LOCK_FILE),
                System.nanoTime() + LOCK_WAIT_NANOS)) {
            Map<Integer, Entry> merged;
            synchronized (lock) {
                readAs = null; // read it again under the lock: another close may have just replaced it
            }
            merged = new TreeMap<>(current());
            removeLeftovers(); // temporary files of closes that died mid-write: none runs now
            for (Entry entry : closed) {
                merged.put(entry.partition(), entry);
            }
            Directories.replaceAtomically(opener, file(), true, encode(merged.values()));
            Directories.fsync(opener, storeDir);
        }
    }

    private void removeLeftovers() throws IOException {
        try (DirectoryStream<Path> tmps = Files.newDirectoryStream(storeDir, FILE_NAME + ".*.tmp")) {
            for (Path tmp : tmps) {
                Files.deleteIfExists(tmp);
            }
        }
    }
}
