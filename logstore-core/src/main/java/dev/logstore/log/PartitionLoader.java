package dev.logstore.log;

import dev.logstore.CorruptLogException;
import dev.logstore.CorruptionPolicy;
import dev.logstore.LogStoreException;
import dev.logstore.index.IndexFiles;
import dev.logstore.segment.Segment;
import dev.logstore.segment.SegmentScanner;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Opening, recovering and cleanly closing a partition directory; the one place that decides what
 * the files on disk mean after a crash.
 *
 * <p>Recovery on open of a writable partition:
 * <ol>
 *   <li>Leftovers of interrupted work ({@code *.deleted}, {@code *.tmp}) are removed.</li>
 *   <li>If the clean-shutdown marker is present, the last close wrote every index and forced
 *       every byte: the indexes are loaded and no scan is needed. The marker is removed (and the
 *       directory forced) before anything new is written.</li>
 *   <li>Otherwise the recovery point is the start of the last segment, because every earlier
 *       segment was forced and had its indexes written when it was sealed. The last segment is
 *       scanned; the first invalid or torn batch and everything after it are truncated; its
 *       indexes are rebuilt.</li>
 *   <li>A sealed segment whose index files are missing, or whose size differs from the size
 *       recorded in its index when it was sealed, is checked: a bad batch or a changed size is
 *       corruption, and the {@link CorruptionPolicy} decides.</li>
 * </ol>
 */
final class PartitionLoader {

    static final String CLEAN_SHUTDOWN_FILE = ".clean-shutdown";

    private static final Logger log = LoggerFactory.getLogger(PartitionLoader.class);

    private PartitionLoader() {
    }

    static String describe(String storeName, int partition) {
        return "partition " + partition + " of store " + storeName;
    }

    static PartitionLog openWritable(String storeName, int partition, Path dir, LogConfig config) {
        String description = describe(storeName, partition);
        PartitionLock lock = null;
        PartitionLog partitionLog = null;
        try {
            Files.createDirectories(dir);
            lock = PartitionLock.acquire(dir, description);
            partitionLog = new PartitionLog(description, partition, dir, config, lock);
            removeLeftovers(dir);
            Path marker = dir.resolve(CLEAN_SHUTDOWN_FILE);
            boolean clean = Files.exists(marker);
            List<Segment> opened = openSegments(dir, true, config.indexIntervalBytes());
            if (opened.isEmpty()) {
                opened.add(Segment.create(dir, 0, config.indexIntervalBytes()));
                Directories.fsync(dir);
            }
            opened = checkSealed(description, opened, config.corruptionPolicy());
            Segment last = opened.get(opened.size() - 1);
            if (clean) {
                try {
                    last.ensureIndexes();
                } catch (CorruptLogException e) {
                    clean = false;
                }
            }
            if (!clean) {
                SegmentScanner.Result result = last.rescan(last.baseOffset());
                if (!result.clean()) {
                    checkDamageIsAtTheEnd(description, last, result, config.corruptionPolicy());
                    log.warn("{}: recovered {} after an unclean shutdown; truncated at byte {} ({}); next offset {}",
                            description, last.file().getFileName(), result.validEnd(), result.problem(),
                            result.nextOffset());
                    last.truncateToSize();
                }
                last.force();
            }
            for (Segment segment : opened) {
                partitionLog.segments.put(segment.baseOffset(), segment);
            }
            partitionLog.install(last);
            partitionLog.durableOffsetInit(last.nextOffset());
            if (Files.deleteIfExists(marker)) {
                Directories.fsync(dir);
            }
            return partitionLog;
        } catch (IOException | RuntimeException e) {
            if (partitionLog != null) {
                for (Segment segment : partitionLog.segments.values()) {
                    segment.close();
                }
            }
            closeQuietly(lock);
            if (e instanceof LogStoreException lse) {
                throw lse;
            }
            throw new LogStoreException("Cannot open " + description + " in " + dir + ": " + e.getMessage(), e);
        }
    }

    /**
     * A crash can only cut the end of the active segment short: its writes were sequential. Bad
     * bytes with an intact batch after them are damage to data already written, perhaps already
     * acknowledged as durable; cutting there would throw the intact batches away. The
     * {@link CorruptionPolicy} decides, as for a damaged sealed segment.
     */
    private static void checkDamageIsAtTheEnd(String description, Segment last, SegmentScanner.Result result,
            CorruptionPolicy policy) throws IOException {
        if (result.torn()) {
            return;
        }
        long fileSize = last.channel().size();
        long intact = SegmentScanner.findIntactBatch(last.channel(), result.validEnd() + 1, fileSize,
                result.nextOffset());
        if (intact < 0) {
            return;
        }
        String damage = result.problem() + ", and an intact batch follows at byte " + intact + ": the data was "
                + "damaged after it was written, a crash does not leave this";
        if (policy == CorruptionPolicy.FAIL) {
            throw new CorruptLogException(last.file(), result.validEnd(), damage + ". " + description + " was not "
                    + "opened and nothing was changed: restore the segment from a copy, or open the store with "
                    + "CorruptionPolicy.TRUNCATE to cut the partition back to the last valid batch before it, "
                    + "losing the " + (fileSize - result.validEnd()) + " bytes from there");
        }
        log.warn("{}: {} at byte {} of {}; cutting the partition there as CorruptionPolicy.TRUNCATE asks", description,
                damage, result.validEnd(), last.file());
    }

    static PartitionLog openReadOnly(String storeName, int partition, Path dir, LogConfig config) {
        String description = describe(storeName, partition);
        PartitionLog partitionLog = new PartitionLog(description, partition, dir, config, null);
        try {
            refresh(partitionLog, dir);
            return partitionLog;
        } catch (IOException | RuntimeException e) {
            partitionLog.close();
            if (e instanceof LogStoreException lse) {
                throw lse;
            }
            throw new LogStoreException("Cannot open " + description + " in " + dir + " read-only: " + e.getMessage(), e);
        }
    }

    /**
     * Brings a read-only log up to date with its directory: new batches in the last segment, new
     * segments, and segments deleted by the writer's retention.
     */
    static void refresh(PartitionLog partitionLog, Path dir) throws IOException {
        Segment last = partitionLog.active();
        if (last != null && damaged(partitionLog, dir, last, last.catchUp(), false)) {
            partitionLog.publishNextOffset(last.nextOffset());
            return;
        }
        TreeMap<Long, Path> onDisk = listSegments(dir);
        long lastBase = last == null ? -1 : last.baseOffset();
        Map<Long, Path> newer = onDisk.tailMap(lastBase, false);
        if (!newer.isEmpty()) {
            // The writer seals a segment before it creates the next: its end is final now. If it
            // is damaged, later segments stay hidden so no reader skips over the damage.
            if (last != null && damaged(partitionLog, dir, last, last.catchUp(), true)) {
                partitionLog.publishNextOffset(last.nextOffset());
                return;
            }
            long newest = onDisk.lastKey();
            for (Map.Entry<Long, Path> entry : newer.entrySet()) {
                Segment segment;
                try {
                    segment = Segment.open(entry.getValue(), entry.getKey(), false,
                            partitionLog.config().indexIntervalBytes());
                } catch (NoSuchFileException e) {
                    continue;
                }
                partitionLog.segments.put(entry.getKey(), segment);
                last = segment;
                if (entry.getKey() == newest) {
                    damaged(partitionLog, dir, segment, openNewest(dir, segment, entry.getKey()), false);
                }
            }
            partitionLog.setActive(last);
        }
        for (Segment segment : partitionLog.segments.values()) {
            if (segment != last && !onDisk.containsKey(segment.baseOffset())) {
                partitionLog.segments.remove(segment.baseOffset());
                segment.close();
            }
        }
        if (last != null) {
            partitionLog.publishNextOffset(last.nextOffset());
        }
    }

    /**
     * Makes the newest segment of a followed partition readable. After a clean close its index
     * files are complete and checked against the log, so loading them replaces a full scan;
     * otherwise the writer may be appending right now, and only a scan says how far it is valid.
     */
    private static SegmentScanner.Result openNewest(Path dir, Segment segment, long baseOffset) throws IOException {
        if (Files.exists(dir.resolve(CLEAN_SHUTDOWN_FILE))) {
            try {
                segment.ensureIndexes();
                return segment.catchUp();
            } catch (CorruptLogException e) {
                // fall through to a scan, which records where the damage is
            }
        }
        return segment.rescan(baseOffset);
    }

    /**
     * Decides whether a followed segment that stopped short of its file's end is still being
     * written or is damaged, and records the verdict on the log: readers get the valid prefix and
     * then the {@link CorruptLogException}. A torn batch at the end is a write in progress (or a
     * crash the writer's recovery will cut). Bytes that are all there but wrong are damage once
     * the segment is sealed, the writer has closed cleanly, or they stay wrong past a grace
     * period that no in-flight write lasts.
     *
     * @return true when the segment is damaged
     */
    private static boolean damaged(PartitionLog partitionLog, Path dir, Segment segment, SegmentScanner.Result result,
                                   boolean sealed) {
        if (result.clean() || result.torn()) {
            partitionLog.suspect(null, -1);
            return false;
        }
        boolean writerClosed = Files.exists(dir.resolve(CLEAN_SHUTDOWN_FILE));
        long suspectNanos = partitionLog.suspect(segment.file(), result.validEnd());
        if (sealed || writerClosed || suspectNanos > FOLLOW_GRACE_NANOS) {
            partitionLog.damage(segment.file(), result.validEnd(), result.problem());
            return true;
        }
        return false;
    }

    /** How long bytes may look wrong at a followed log's end before they count as corruption. */
    static final long FOLLOW_GRACE_NANOS = java.util.concurrent.TimeUnit.SECONDS.toNanos(2);

    /**
     * Rebuilds missing indexes of sealed segments; applies the corruption policy to a bad batch
     * found on the way. Returns the segments that remain.
     */
    private static List<Segment> checkSealed(String description, List<Segment> opened, CorruptionPolicy policy)
            throws IOException {
        for (int i = 0; i < opened.size() - 1; i++) {
            Segment segment = opened.get(i);
            if (Files.exists(segment.indexFile()) && Files.exists(segment.timeIndexFile())
                    && IndexFiles.recordedSegmentSize(segment.indexFile()) == segment.size()) {
                continue; // sealed, indexed, and still the size it was sealed with
            }
            try {
                segment.ensureIndexes();
            } catch (CorruptLogException e) {
                if (policy == CorruptionPolicy.FAIL) {
                    throw new CorruptLogException(e.file(), e.position(), e.getMessage().replaceFirst("^Corrupt batch in .*?: ", "")
                            + ". " + description + " was not opened: restore the segment from a copy, or open the store with "
                            + "CorruptionPolicy.TRUNCATE to cut the partition back to the last valid batch before it");
                }
                List<Segment> kept = new ArrayList<>(opened.subList(0, i + 1));
                for (Segment later : opened.subList(i + 1, opened.size())) {
                    later.destroy();
                }
                SegmentScanner.Result result = segment.recover(segment.baseOffset());
                log.warn("{}: {} is corrupt at byte {} ({}); truncated there and removed {} later segment(s) as "
                        + "CorruptionPolicy.TRUNCATE asks; the partition now ends at offset {}", description,
                        segment.file(), e.position(), e.getMessage(), opened.size() - i - 1, result.nextOffset());
                Files.deleteIfExists(segment.indexFile());
                Files.deleteIfExists(segment.timeIndexFile());
                return kept;
            }
        }
        return opened;
    }

    static void closeCleanly(PartitionLog partitionLog, Path dir, Segment active) throws IOException {
        active.truncateToSize();
        active.force();
        active.writeIndexes();
        Directories.fsync(dir);
        Files.write(dir.resolve(CLEAN_SHUTDOWN_FILE), new byte[0]);
        Directories.fsync(dir);
    }

    private static List<Segment> openSegments(Path dir, boolean writable, int indexIntervalBytes) throws IOException {
        List<Segment> opened = new ArrayList<>();
        try {
            for (Map.Entry<Long, Path> entry : listSegments(dir).entrySet()) {
                opened.add(Segment.open(entry.getValue(), entry.getKey(), writable, indexIntervalBytes));
            }
        } catch (IOException | RuntimeException e) {
            opened.forEach(Segment::close);
            throw e;
        }
        return opened;
    }

    /** Segment log files by base offset. */
    static TreeMap<Long, Path> listSegments(Path dir) throws IOException {
        TreeMap<Long, Path> found = new TreeMap<>();
        if (!Files.isDirectory(dir)) {
            return found;
        }
        try (DirectoryStream<Path> files = Files.newDirectoryStream(dir, "*" + Segment.LOG_SUFFIX)) {
            for (Path file : files) {
                long base = Segment.parseBaseOffset(file.getFileName().toString());
                if (base >= 0) {
                    found.put(base, file);
                }
            }
        }
        return found;
    }

    private static void removeLeftovers(Path dir) throws IOException {
        boolean removed = false;
        try (DirectoryStream<Path> files = Files.newDirectoryStream(dir, "*.{deleted,tmp}")) {
            for (Path file : files) {
                removed |= Files.deleteIfExists(file);
            }
        }
        if (removed) {
            Directories.fsync(dir);
        }
    }

    private static void closeQuietly(AutoCloseable closeable) {
        if (closeable != null) {
            try {
                closeable.close();
            } catch (Exception ignored) {
                // already failing; the first error is the one to report
            }
        }
    }
}
