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
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.IntFunction;
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
 * <p>An entry also records the partition directory's change time (ctime) and file key as the close
 * left it, once that change time lay well in the past (see {@link #STAMP_MARGIN_NANOS}): any entry
 * made in the directory, removed or renamed since then gives it a later change time, which no one
 * can set back. While both still match, the directory holds what the close left, so a writer's open
 * takes its segments and index files from the manifest without listing it (a partition of a
 * hundred segments holds three hundred names). Where they do not, or no stamp was taken, the open
 * lists the directory as before.
 *
 * <pre>
 *  offset size field      meaning
 *  ------ ---- ---------- ---------------------------------------------------------------
 *       0    4 magic      "LSCC" (0x4C534343)
 *       4    2 version    2 (version 1, without the directory's stamp, is read too)
 *       6    4 count      entries, by ascending partition
 *      10   84 entry      int32 partition
 *                         int32 epoch            of the manifest the entry completes
 *                         int64 sequence         of that manifest
 *                         int32 manifestCrc      the CRC-32C stored at the end of that manifest file
 *                         int64 manifestModified that file's modification time, in nanoseconds
 *                         int64 manifestKey      a hash of that file's key (device and inode)
 *                         int64 baseOffset       of its last (active) segment
 *                         int64 size             bytes of whole batches in that segment, forced
 *                         int64 nextOffset       offset after its last record
 *                         int64 maxTimestamp     greatest record timestamp, Long.MIN_VALUE when empty
 *                         int64 dirChanged       the partition directory's change time, in nanoseconds; 0: none taken
 *                         int64 dirKey           a hash of the directory's key (device and inode)
 *  10+84n    4 crc        CRC-32C of every byte before it
 * </pre>
 *
 * Closes of different handles on the same store (other partitions, other processes) take turns
 * through the lock on {@code .clean-close.lock} and keep each other's entries.
 */
public final class CleanCloses {

    public static final String FILE_NAME = "clean-close";
    static final String LOCK_FILE = ".clean-close.lock";
    private static final int MAGIC = 0x4C534343;
    private static final short VERSION = 2;
    private static final short VERSION_WITHOUT_STAMPS = 1;
    private static final int HEADER = 10;
    private static final int ENTRY = 84;
    private static final int ENTRY_WITHOUT_STAMPS = 68;
    /**
     * How far in the past a directory's change time must lie before it is recorded: more than a
     * tick of the coarse clock that stamps files (at most 10 ms), so that any later change to the
     * directory gets a later time. A close of many segments waits out what is left of it once, for
     * all the directories it changed last (writing the active segment's index files changes it).
     */
    static final long STAMP_MARGIN_NANOS = TimeUnit.MILLISECONDS.toNanos(40);
    /**
     * The fewest segments in the partitions a close records for which it waits out the margin:
     * listing their directories (three names a segment) at the next open costs more than the wait.
     * A smaller close records no stamp for the directories it changed last; the next open lists them.
     */
    static volatile long waitForStampsFromSegments = 10_000;
    /** The margin on a filesystem that stamps whole seconds only: no close waits that long. */
    private static final long COARSE_STAMP_MARGIN_NANOS = TimeUnit.SECONDS.toNanos(3);
    /** How long a close waits for another close of the store to finish its record before it writes none. */
    private static final long LOCK_WAIT_NANOS = TimeUnit.SECONDS.toNanos(10);

    private static final Logger log = LoggerFactory.getLogger(CleanCloses.class);

    /** One partition's active segment as a close left it. */
    public record Entry(int partition, int epoch, long sequence, int manifestCrc, long manifestModified,
                        long manifestKey, long baseOffset, long size, long nextOffset, long maxTimestamp,
                        long dirChanged, long dirKey) {

        Entry stamped(DirectoryStamp stamp) {
            return new Entry(partition, epoch, sequence, manifestCrc, manifestModified, manifestKey, baseOffset, size,
                    nextOffset, maxTimestamp, stamp == null ? 0 : stamp.changed(), stamp == null ? 0 : stamp.key());
        }

        /** True when the entry holds the directory's stamp {@code now} (non-null). */
        boolean stampMatches(DirectoryStamp now) {
            return dirChanged != 0 && now != null && now.changed() == dirChanged && now.key() == dirKey;
        }
    }

    /**
     * A directory's change time (nanoseconds since the epoch) and a hash of its key: any entry added,
     * removed or renamed in it makes the time later, and no call can set it back.
     */
    record DirectoryStamp(long changed, long key) {
        /** The directory's stamp, or null where the filesystem does not give change times. */
        static DirectoryStamp of(Path dir) {
            try {
                Map<String, Object> unix = Files.readAttributes(dir, "unix:ctime,dev,ino");
                long changed = ((FileTime) unix.get("ctime")).to(TimeUnit.NANOSECONDS);
                long key = 31 * ((Number) unix.get("dev")).longValue() + ((Number) unix.get("ino")).longValue();
                return changed == 0 ? null : new DirectoryStamp(changed, key);
            } catch (IOException | UnsupportedOperationException | IllegalArgumentException | ClassCastException e) {
                return null;
            }
        }

        /** The directory's stamp when its change time lies far enough in the past to be recorded; else null. */
        static DirectoryStamp settled(Path dir) {
            DirectoryStamp stamp = of(dir);
            return stamp == null || stamp.waitNanos(wallClockNanos()) > 0 ? null : stamp;
        }

        /**
         * How long until this stamp may be recorded, measured at {@code nowNanos} (wall clock):
         * 0 when its change time lies far enough in the past.
         */
        long waitNanos(long nowNanos) {
            boolean wholeSeconds = changed % 1_000_000_000L == 0;
            long margin = wholeSeconds ? COARSE_STAMP_MARGIN_NANOS : STAMP_MARGIN_NANOS;
            return Math.max(0, changed + margin - nowNanos);
        }
    }

    private static long wallClockNanos() {
        Instant now = Instant.now();
        return now.getEpochSecond() * 1_000_000_000L + now.getNano();
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
                maxTimestamp, 0, 0);
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
     * This partition's entry when it holds the directory's stamp as it is now: the directory holds
     * what the close that made the entry left in it. Null otherwise.
     */
    Entry unchangedSinceClose(int partition, Path partitionDir) {
        Entry entry = current().get(partition);
        if (entry == null || entry.dirChanged() == 0) {
            return null;
        }
        return entry.stampMatches(DirectoryStamp.of(partitionDir)) ? entry : null;
    }

    /**
     * This partition's entry with the directory stamp {@code listedAs}, when the entry is the one
     * that completed the manifest of {@code epoch} and {@code sequence} for an open that listed the
     * directory and found it as that manifest says; else null. For a close without a write, so that
     * a directory left as it was gets a stamp (after a record without stamps, or one taken too soon)
     * when the close records other partitions' ends.
     */
    Entry restamped(int partition, int epoch, long sequence, DirectoryStamp listedAs) {
        Entry entry = current().get(partition);
        if (entry == null || entry.epoch() != epoch || entry.sequence() != sequence || entry.size() == 0
                || entry.stampMatches(listedAs)) {
            return null; // nothing to record, or it is recorded already
        }
        return entry.stamped(listedAs);
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
        if (size < HEADER + Integer.BYTES) {
            return null;
        }
        CRC32C crc = new CRC32C();
        crc.update(bytes.duplicate().limit(size - Integer.BYTES));
        if ((int) crc.getValue() != bytes.getInt(size - Integer.BYTES) || bytes.getInt(0) != MAGIC) {
            return null;
        }
        short version = bytes.getShort(4);
        int entrySize = version == VERSION ? ENTRY : version == VERSION_WITHOUT_STAMPS ? ENTRY_WITHOUT_STAMPS : -1;
        int count = bytes.getInt(6);
        if (entrySize < 0 || (size - HEADER - Integer.BYTES) % entrySize != 0
                || count != (size - HEADER - Integer.BYTES) / entrySize) {
            return null;
        }
        boolean stamps = entrySize == ENTRY;
        Map<Integer, Entry> decoded = new HashMap<>(count * 2);
        bytes.position(HEADER);
        for (int i = 0; i < count; i++) {
            Entry e = new Entry(bytes.getInt(), bytes.getInt(), bytes.getLong(), bytes.getInt(), bytes.getLong(),
                    bytes.getLong(), bytes.getLong(), bytes.getLong(), bytes.getLong(), bytes.getLong(),
                    stamps ? bytes.getLong() : 0, stamps ? bytes.getLong() : 0);
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
                    .putLong(e.nextOffset()).putLong(e.maxTimestamp()).putLong(e.dirChanged()).putLong(e.dirKey());
        }
        CRC32C crc = new CRC32C();
        crc.update(bytes.array(), 0, bytes.position());
        bytes.putInt((int) crc.getValue());
        return bytes.flip();
    }

    /**
     * Before the closing writers take their directories' stamps ({@code PartitionWriter.stamped}):
     * when the partitions of {@code closed} hold {@code segments} of at least
     * {@link #waitForStampsFromSegments}, waits once until the directories changed last (writing
     * the active segment's index files changes one) have settled, at most
     * {@link #STAMP_MARGIN_NANOS}. A smaller close does not wait: those directories get no stamp,
     * and the next open lists them.
     *
     * @return true when the wait was interrupted (the caller sets the thread's interrupt flag
     *         again once the record is written; those directories get no stamp)
     */
    public static boolean awaitSettled(Collection<Entry> closed, IntFunction<Path> partitionDirs, long segments) {
        if (segments < waitForStampsFromSegments) {
            return false;
        }
        long now = wallClockNanos();
        long longest = 0;
        for (Entry entry : closed) {
            DirectoryStamp stamp = entry.dirChanged() == 0 ? DirectoryStamp.of(partitionDirs.apply(entry.partition()))
                    : null;
            long left = stamp == null ? 0 : stamp.waitNanos(now);
            if (left <= STAMP_MARGIN_NANOS) {
                longest = Math.max(longest, left);
            }
        }
        if (longest == 0) {
            return false;
        }
        try {
            TimeUnit.NANOSECONDS.sleep(longest);
            return false;
        } catch (InterruptedException e) {
            return true;
        }
    }

    /**
     * Adds {@code closed} to the file, replacing older entries of the same partitions and keeping
     * the others: written to a temporary file, forced, renamed over the file, and the directory
     * forced. The caller forced every segment and manifest the entries name before, and still
     * holds their partitions' locks. An entry's directory stamp is kept only while the directory
     * (from {@code partitionDirs}) still has it. Writes nothing when the entries differ from those
     * in the file by stamps alone (an idle open and close writes nothing; the stamps go in with the
     * next record). Waits up to 10 s for another close of the store to finish its record, then
     * gives up (a process stopped while it held the lock would block every close).
     */
    public void record(Collection<Entry> closed, IntFunction<Path> partitionDirs) throws IOException {
        Map<Integer, Entry> before = current();
        if (closed.stream().allMatch(entry -> {
            Entry recorded = before.get(entry.partition());
            return recorded != null && entry.stamped(null).equals(recorded.stamped(null));
        })) {
            return;
        }
        List<Entry> checked = new ArrayList<>(closed.size());
        for (Entry entry : closed) {
            checked.add(entry.dirChanged() == 0 || entry.stampMatches(DirectoryStamp.of(
                    partitionDirs.apply(entry.partition()))) ? entry : entry.stamped(null));
        }
        try (FileLocks.Held held = FileLocks.lock(opener, storeDir.resolve(LOCK_FILE),
                System.nanoTime() + LOCK_WAIT_NANOS)) {
            Map<Integer, Entry> merged;
            synchronized (lock) {
                readAs = null; // read it again under the lock: another close may have just replaced it
            }
            merged = new TreeMap<>(current());
            removeLeftovers(); // temporary files of closes that died mid-write: none runs now
            for (Entry entry : checked) {
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
