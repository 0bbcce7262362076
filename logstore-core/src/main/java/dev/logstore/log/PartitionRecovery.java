package dev.logstore.log;

import dev.logstore.CorruptLogException;
import dev.logstore.CorruptionPolicy;
import dev.logstore.LogStoreException;
import dev.logstore.StoreLockedException;
import dev.logstore.index.IndexFiles;
import dev.logstore.io.FileLocks;
import dev.logstore.segment.Segment;
import dev.logstore.segment.SegmentIndexes;
import dev.logstore.segment.SegmentScanner;
import dev.logstore.segment.SegmentSummary;
import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Opening a partition for writing; the one place that decides what the files on disk mean
 * after a crash.
 *
 * <ol>
 *   <li>Take the partition's lock: byte {@code p} of the store's {@code .partitions.lock}, or of
 *       {@code .partitions-<k>.lock} from partition 1024 on (see
 *       {@link FileLocks}), after checking that no LogStore 0.1 writer holds the partition's own
 *       {@code .lock}.</li>
 *   <li>Claim the next writer epoch ({@link Manifests}). From here on a writer of an older epoch
 *       that still runs (its lock lost) acknowledges nothing more. Not when the partition was
 *       closed cleanly with nothing to repair, or never written ({@link #openQuietly}): that open
 *       writes nothing, and the writer claims its epoch at its first write.</li>
 *   <li>Read the newest complete manifest, or, for a partition written by LogStore 0.1, list
 *       its segments ({@link LegacyLayout}).</li>
 *   <li>Remove leftovers: temporary files, segment files the manifest does not name (a roll
 *       that never committed, or segments retention removed before a crash).</li>
 *   <li>Check the sealed segments: each file at least the size recorded for it; a segment of
 *       more than {@link Segment#UNINDEXED_MAX_BYTES} whose index files are missing is read
 *       through and its indexes rebuilt. Damage goes to the
 *       {@link CorruptionPolicy}. (The quiet open under {@code FAIL} reads no sealed segment's
 *       size: one cut short behind the store's back is found when a read reaches it.)</li>
 *   <li>Seal the previous active segment. After a clean close its size is in the manifest.
 *       Otherwise it is scanned from its start (the <em>recovery point</em>: every earlier
 *       segment was sealed): a torn batch at its end, and anything after, is cut; bad bytes with
 *       an intact batch after them are damage, not a torn write, and the policy decides. An
 *       empty one is removed.</li>
 *   <li>Start a new active segment for the new epoch, so no byte this writer appends can ever
 *       land in a file an older writer may still write to, and commit the new manifest.</li>
 * </ol>
 */
public final class PartitionRecovery {

    /** The store's lock file: byte {@code p} is partition {@code p}'s writer lock, for partitions below {@link #LOCKS_PER_FILE}. */
    public static final String LOCK_FILE = ".partitions.lock";
    /**
     * Partitions per lock file. Java keeps the locks a process holds on one file in one list that
     * every new lock is checked against, so one file for 10,000 partitions made opening them
     * quadratic; partitions from {@code k * LOCKS_PER_FILE} on lock byte {@code p % LOCKS_PER_FILE}
     * of {@code .partitions-<k>.lock}.
     */
    public static final int LOCKS_PER_FILE = 1024;
    /** The lock file that holds partition {@code partition}'s writer lock, at byte {@code partition % LOCKS_PER_FILE}. */
    public static Path lockFile(Path storeDir, int partition) {
        int shard = partition / LOCKS_PER_FILE;
        return storeDir.resolve(shard == 0 ? LOCK_FILE : ".partitions-" + shard + ".lock");
    }

    /** LogStore 0.1's per-partition lock file, in the partition's directory. */
    static final String LEGACY_LOCK_FILE = ".lock";

    private static final Logger log = LoggerFactory.getLogger(PartitionRecovery.class);

    private final String description;
    private final int partition;
    private final Path dir;
    private final LogConfig config;
    private final Manifests manifests;
    private final List<Segment> opened = new ArrayList<>();
    private int claimed;

    private PartitionRecovery(String description, int partition, Path dir, LogConfig config) {
        this.partition = partition;
        this.description = description;
        this.dir = dir;
        this.config = config;
        this.manifests = new Manifests(dir, config.opener());
    }

    static RecoveredPartition open(String description, int partition, Path dir, LogConfig config) {
        FileLocks.Held lock;
        Path lockFile = lockFile(dir.getParent(), partition);
        try {
            if (!Files.isDirectory(dir)) {
                // The store's metadata counts this partition (its directory is made first), so a
                // missing directory was removed behind the store's back: refuse, or the partition
                // would start over at offset 0 without a word.
                throw new LogStoreException("Cannot open " + description + ": its directory " + dir + " is missing, "
                        + "although the store has this partition. Restore it from a copy; to start the partition "
                        + "over, empty, create the directory");
            }
            lock = FileLocks.tryLock(config.opener(), lockFile, partition % LOCKS_PER_FILE);
        } catch (FileLocks.BusyException e) {
            throw new StoreLockedException(description + " is already open for writing by another LogStore in "
                    + (e.busy() == FileLocks.Busy.THIS_PROCESS ? "this process" : "another process") + " (lock "
                    + lockFile + ", byte " + partition % LOCKS_PER_FILE + "); close that one first, or open this store read-only");
        } catch (IOException e) {
            throw new LogStoreException("Cannot open " + description + " in " + dir + ": " + e.getMessage()
                    + ". Check that the directory exists and is writable", e);
        }
        PartitionRecovery recovery = new PartitionRecovery(description, partition, dir, config);
        try {
            refuseLegacyWriter(description, dir, config);
            return recovery.recover(lock);
        } catch (RuntimeException | Error e) {
            recovery.abandon(lock, e);
            throw e;
        } catch (IOException e) {
            LogStoreException failure = new LogStoreException("Cannot open " + description + " in " + dir + ": "
                    + e.getMessage() + ". Check that the directory is writable and the disk has room", e);
            recovery.abandon(lock, failure);
            throw failure;
        }
    }

    /**
     * LogStore 0.1 locked each partition through a {@code .lock} file of its own. A 0.1 writer
     * still running (one that opened the store before it was upgraded) holds it: refuse rather than
     * write beside it. Once no one holds it, the file has no use (0.1 refuses an upgraded store)
     * and is removed.
     */
    private static void refuseLegacyWriter(String description, Path dir, LogConfig config) throws IOException {
        Path legacy = dir.resolve(LEGACY_LOCK_FILE);
        if (!Files.exists(legacy)) {
            return;
        }
        try (FileLocks.Held probe = FileLocks.tryLock(config.opener(), legacy)) {
            Files.deleteIfExists(legacy);
        } catch (FileLocks.BusyException e) {
            throw new StoreLockedException(description + " is open for writing by a LogStore 0.1 process (it holds "
                    + legacy + "); stop it first: one partition has one writer");
        }
    }

    /** After a failed open: closes what was opened, withdraws the epoch claim, releases the lock. */
    private void abandon(FileLocks.Held lock, Throwable failure) {
        for (Segment segment : opened) {
            segment.retire(false); // closes its file and lets go of any indexes it loaded
        }
        try {
            if (claimed > 0 && !manifests.claimed(claimed + 1)) {
                // Nothing was written under the claim; withdrawing it leaves the partition as it was.
                // (Not under a newer claim, made past a lock that did not hold: epochs stay a chain
                // without gaps, which a look for the newest from a known one relies on.)
                Files.deleteIfExists(manifests.file(claimed));
            }
        } catch (IOException e) {
            failure.addSuppressed(e);
        }
        try {
            lock.close();
        } catch (IOException e) {
            failure.addSuppressed(e);
        }
    }

    private RecoveredPartition recover(FileLocks.Held lock) throws IOException {
        // One listing serves the quiet open whole: the newest claim, the segments, their index
        // files and any leftover (a directory of a million segments costs a second per listing).
        // After a clean close that left the directory as it is, the manifest says all of that.
        PartitionListing first = unchangedSinceClose();
        CleanCloses.DirectoryStamp listedAs = null;
        if (first == null) {
            // The directory's stamp before and after the listing: when they agree, and the change
            // time was settled, a close of this quiet open may record it (the listing vouches).
            CleanCloses.DirectoryStamp before = CleanCloses.DirectoryStamp.settled(dir);
            first = PartitionListing.of(config.opener(), dir);
            listedAs = before != null && before.equals(CleanCloses.DirectoryStamp.of(dir)) ? before : null;
        }
        int previous = manifests.newestClaimed(first.newestEpoch());
        if (previous == Integer.MAX_VALUE) {
            throw new LogStoreException(description + ": " + manifests.file(previous) + " claims the largest writer "
                    + "epoch there is, so no writer can open the partition again. A file of that name is not one "
                    + "LogStore wrote in the ordinary course: if it is a stray file, remove it");
        }
        int epoch = previous + 1;
        RecoveredPartition untouched = openQuietly(lock, previous, first, listedAs);
        if (untouched != null) {
            return untouched;
        }
        try {
            manifests.claim(epoch);
            claimed = epoch;
        } catch (FileAlreadyExistsException e) {
            throw new StoreLockedException(description + ": another writer claimed writer epoch " + epoch + " in "
                    + dir + " at the same moment, although this one holds the partition's lock: the filesystem's locks "
                    + "do not work between these two writers. Make sure one writer at a time opens the partition");
        }
        Manifest manifest = newest(manifests.newestComplete(previous));
        boolean legacy = manifest == null;
        // The first listing still holds: the quiet open changed nothing, and this writer's own
        // claim is all that was made since, unless another claim came in past a broken lock.
        PartitionListing listing = previous == first.newestEpoch() && first.fromManifest() == null ? first
                : PartitionListing.of(config.opener(), dir);
        if (legacy) {
            manifest = LegacyLayout.manifestOf(dir, listing.segments(), listing.legacyMarker());
        }
        // A writer that reopened after a clean close and closed again without appending leaves the
        // empty segment it would have written at the next offset, named by no manifest: the next
        // writer takes it over rather than removing it and creating it again.
        long adoptable = -1;
        if (!legacy && manifest.clean() && !manifest.segments().isEmpty()) {
            Manifest.Entry newest = manifest.segments().get(manifest.segments().size() - 1);
            Path candidate = dir.resolve(Segment.fileName(newest.nextOffset(), Segment.LOG_SUFFIX));
            if (newest.size() > 0 && listing.segments().contains(newest.nextOffset()) && Files.size(candidate) == 0) {
                adoptable = newest.nextOffset();
            }
        }
        removeLeftovers(listing, manifest, legacy, adoptable);

        // After a clean close with nothing to repair, the previous manifest describes the partition
        // exactly: the first manifest of this epoch can wait until the writer's first append.
        boolean quiet = !legacy && manifest.clean();
        Segment reused = null;
        List<Segment> sealed = new ArrayList<>();
        List<Manifest.Entry> entries = manifest.segments();
        long nextOffset = manifest.startOffset();
        int count = entries.size();
        for (int i = 0; i < count; i++) {
            Manifest.Entry entry = entries.get(i);
            boolean last = i == count - 1;
            Segment segment = config.openSegment(dir, entry.baseOffset(), entry.epoch(), entry.createdMillis(), true);
            opened.add(segment);
            SegmentSummary summary;
            try {
                summary = last ? recoverLast(segment, entry, manifest.clean(), legacy)
                        : checkSealed(segment, entry, listing, legacy);
            } catch (CorruptLogException e) {
                if (config.corruptionPolicy() == CorruptionPolicy.FAIL) {
                    throw refuse(e);
                }
                summary = truncateAt(segment, e, entries.subList(i + 1, count));
                i = count; // every later segment is gone
                quiet = false;
            }
            if (summary.size() == 0) {
                nextOffset = Math.max(nextOffset, entry.baseOffset());
                segment.file().close();
                if (quiet && last && entry.baseOffset() == nextOffset) {
                    reused = segment; // a cleanly closed, empty last segment: the new active one
                } else {
                    quiet = false;
                    removeFiles(segment);
                }
                continue;
            }
            segment.seal(summary);
            sealed.add(segment);
            nextOffset = summary.nextOffset();
        }

        // The previous writer closed cleanly, so nothing writes the empty segment it left: this
        // writer takes it over. Otherwise a new file, which no writer of an older epoch may write to.
        if (adoptable >= 0 && adoptable != nextOffset) {
            for (String suffix : new String[] {Segment.LOG_SUFFIX, Segment.INDEX_SUFFIX, Segment.TIME_INDEX_SUFFIX}) {
                Files.deleteIfExists(dir.resolve(Segment.fileName(adoptable, suffix)));
            }
        }
        Segment active = reused != null || adoptable == nextOffset
                ? config.takeOverSegment(dir, nextOffset, epoch)
                : config.createSegment(dir, nextOffset, epoch);
        opened.add(active);
        long startOffset = sealed.isEmpty() ? Math.max(manifest.startOffset(), nextOffset) : manifest.startOffset();
        List<Manifest.Entry> written = new ArrayList<>();
        for (Segment segment : sealed) {
            SegmentSummary s = segment.summary();
            written.add(new Manifest.Entry(segment.baseOffset(), segment.epoch(), segment.createdMillis(), s.size(),
                    s.nextOffset(), s.maxTimestamp()));
        }
        if (quiet) {
            claimed = 0;
            return new RecoveredPartition(lock, epoch, manifests, sealed, active, startOffset, nextOffset, true, -1, -1,
                    null, null);
        }
        written.add(new Manifest.Entry(active.baseOffset(), epoch, -1, -1, -1, Long.MIN_VALUE));
        Manifest fresh = new Manifest(epoch, 0, false, startOffset, written, Manifest.randomTag());
        manifests.prepare(fresh);
        manifests.commit(epoch);
        claimed = 0;
        manifests.sync();
        manifests.removeOlderThan(epoch);
        if (legacy && Files.deleteIfExists(dir.resolve(LegacyLayout.CLEAN_MARKER))) {
            manifests.sync();
        }
        if (legacy && !sealed.isEmpty()) {
            log.info("{}: upgraded to format version 2 (a manifest and writer epochs); it can no longer be opened "
                    + "by LogStore 0.1", description);
        }
        return new RecoveredPartition(lock, epoch, manifests, sealed, active, startOffset, nextOffset, false, -1, -1,
                fresh, null);
    }

    /**
     * The open after a clean close that left nothing to repair, which writes nothing: no epoch
     * claim, no new segment file. The newest claim holds a clean manifest, and the directory holds
     * exactly the segments it names (each sealed one with its index files, unless it is no larger
     * than an index interval; no temporary files); the
     * last segment has exactly the size the manifest recorded. The writer claims its epoch and
     * creates its segment (or takes over the last one, when that is empty) at its first write,
     * checking then that this manifest is still the newest. Null when any of this does not hold
     * (nothing was changed): then the partition is opened the ordinary way, claim first.
     */
    private RecoveredPartition openQuietly(FileLocks.Held lock, int previous, PartitionListing listing,
                                           CleanCloses.DirectoryStamp listedAs) throws IOException {
        if (previous == 0) {
            return openNew(lock, listing);
        }
        if (previous != listing.newestEpoch()) {
            return null; // a claim made since the listing: the ordinary open lists again
        }
        Manifest manifest = newest(listing.fromManifest() != null ? listing.fromManifest() : manifests.read(previous));
        if (manifest == null || !manifest.clean()) {
            return null;
        }
        List<Manifest.Entry> entries = manifest.segments();
        if (!listing.leftovers().isEmpty() || listing.segments().size() != entries.size()) {
            return null;
        }
        List<Segment> sealed = new ArrayList<>(entries.size());
        long nextOffset = manifest.startOffset();
        long reusable = -1;
        boolean whole = false;
        try {
            for (int i = 0; i < entries.size(); i++) {
                Manifest.Entry entry = entries.get(i);
                boolean last = i == entries.size() - 1;
                if (listing.segments().get(i) != entry.baseOffset()) {
                    return null;
                }
                if (last && entry.size() == 0) {
                    if (Files.size(dir.resolve(Segment.fileName(entry.baseOffset(), Segment.LOG_SUFFIX))) != 0) {
                        return null;
                    }
                    reusable = Math.max(nextOffset, entry.baseOffset()); // taken over at the first write
                    nextOffset = reusable;
                    break;
                }
                if (!listing.indexed().contains(entry.baseOffset()) && !Segment.mayLackIndexFiles(entry.size())) {
                    return null;
                }
                Segment segment = config.openSegment(dir, entry.baseOffset(), entry.epoch(), entry.createdMillis(),
                        true);
                opened.add(segment);
                // Under FAIL only the last segment's size is read: a sealed one cut short behind
                // the store's back is found when a read reaches it, as in a read-only view (a file
                // status per segment was a third of the open of a million segments). TRUNCATE is
                // the remedy for such damage, so an open under it checks every size and repairs.
                if (last ? fileSize(segment) != entry.size()
                        : config.corruptionPolicy() == CorruptionPolicy.TRUNCATE && fileSize(segment) < entry.size()) {
                    return null;
                }
                segment.seal(new SegmentSummary(entry.size(), entry.nextOffset(), entry.maxTimestamp()));
                sealed.add(segment);
                nextOffset = entry.nextOffset();
            }
            whole = true;
        } catch (CorruptLogException | NoSuchFileException e) {
            return null;
        } finally {
            if (!whole) {
                for (Segment segment : opened) {
                    segment.retire(false);
                }
                opened.clear();
            }
        }
        long startOffset = sealed.isEmpty() ? Math.max(manifest.startOffset(), nextOffset) : manifest.startOffset();
        return new RecoveredPartition(lock, previous + 1, manifests, sealed, null, startOffset, nextOffset, true,
                manifest.sequence(), reusable, null, listedAs);
    }

    /**
     * A partition no writer ever wrote (no manifest, no segment, no file of LogStore 0.1), opened
     * without writing anything either: its first write claims epoch 1 and creates its first
     * segment. Null when the directory holds anything of a partition.
     */
    private RecoveredPartition openNew(FileLocks.Held lock, PartitionListing listing) {
        if (!listing.segments().isEmpty() || !listing.leftovers().isEmpty() || listing.legacyMarker()) {
            return null;
        }
        return new RecoveredPartition(lock, 1, manifests, List.of(), null, 0, 0, true, -1, -1, null, null);
    }

    /** The newest manifest, completed by the store's clean-close record where that still applies. */
    private Manifest newest(Manifest manifest) {
        return config.cleanCloses().complete(partition, manifest, dir);
    }

    /**
     * What the directory holds, from its newest manifest, when the store's clean-close record says
     * the directory has not changed since the close that wrote it (see {@link CleanCloses}): the
     * manifest's segments, each with its index files where it needs them, and nothing else. Null
     * when the record does not say so; then the directory is listed.
     */
    private PartitionListing unchangedSinceClose() throws IOException {
        CleanCloses.Entry entry = config.cleanCloses().unchangedSinceClose(partition, dir);
        if (entry == null) {
            return null;
        }
        Manifest manifest;
        try {
            manifest = manifests.read(entry.epoch());
        } catch (CorruptLogException e) {
            return null; // the ordinary open lists the directory and reports it
        }
        if (manifest == null) {
            return null;
        }
        List<Long> segments = new ArrayList<>(manifest.segments().size());
        for (Manifest.Entry segment : manifest.segments()) {
            segments.add(segment.baseOffset());
        }
        // The close wrote the index files of every segment that needs them (a segment whose index
        // files were lost since is rebuilt in memory by its first lookup, as index files are a cache).
        return new PartitionListing(segments, new HashSet<>(segments), List.of(), entry.epoch(), false, manifest);
    }

    /** Removes temporary files and, for a partition with a manifest, segment files it does not name. */
    private void removeLeftovers(PartitionListing listing, Manifest manifest, boolean legacy, long keep)
            throws IOException {
        boolean removed = false;
        for (Path file : listing.leftovers()) {
            removed |= Files.deleteIfExists(file);
        }
        if (!legacy) {
            Set<Long> named = new HashSet<>();
            for (Manifest.Entry entry : manifest.segments()) {
                named.add(entry.baseOffset());
            }
            for (long base : listing.segments()) {
                if (!named.contains(base) && base != keep) {
                    log.info("{}: removing {}, which the manifest does not name (a roll that never completed, or a "
                            + "segment retention removed)", description, Segment.fileName(base, Segment.LOG_SUFFIX));
                    for (String suffix : new String[] {Segment.LOG_SUFFIX, Segment.INDEX_SUFFIX,
                                                        Segment.TIME_INDEX_SUFFIX}) {
                        removed |= Files.deleteIfExists(dir.resolve(Segment.fileName(base, suffix)));
                    }
                }
            }
        }
        if (removed) {
            manifests.sync();
        }
    }

    /**
     * Checks a sealed segment: its file holds at least the recorded bytes, and one whose index
     * files are missing is read through (its indexes rebuilt), since nothing else would notice
     * damage in it before a reader reaches it. Not one too small to have index files (see
     * {@link Segment#mayLackIndexFiles}): damage in it is found by the read that reaches it, as after a
     * clean close.
     */
    private SegmentSummary checkSealed(Segment segment, Manifest.Entry entry, PartitionListing listing, boolean legacy)
            throws IOException {
        long fileSize = fileSize(segment);
        long size = entry.size();
        if (fileSize < size) {
            throw new CorruptLogException(segment.path(), fileSize, "the segment is " + fileSize + " bytes but was "
                    + size + " bytes when it was sealed: bytes were cut off behind the store's back");
        }
        if (legacy) {
            long recorded = IndexFiles.recordedSegmentSize(segment.indexFile());
            if (recorded >= 0 && recorded != fileSize) {
                throw new CorruptLogException(segment.path(), Math.min(fileSize, recorded), "the segment is "
                        + fileSize + " bytes but was " + recorded + " bytes when its index was written");
            }
        }
        SegmentSummary summary = new SegmentSummary(size, entry.nextOffset(), entry.maxTimestamp());
        boolean unindexed = !listing.indexed().contains(entry.baseOffset())
                && !Segment.mayLackIndexFiles(size);
        if (unindexed || legacy) {
            SegmentIndexes indexes = segment.indexes(size);
            summary = new SegmentSummary(size, indexes.nextOffset(), indexes.maxTimestamp());
        }
        return summary;
    }

    /** The previous writer's active segment: known after a clean close, else scanned and cut after its last valid batch. */
    private SegmentSummary recoverLast(Segment segment, Manifest.Entry entry, boolean clean, boolean legacy)
            throws IOException {
        long fileSize = fileSize(segment);
        if (clean && entry.complete() && fileSize >= entry.size() && !legacy) {
            // The clean manifest recorded its end, next offset and newest timestamp after forcing
            // it: nothing to read (an open of thousands of partitions reads no index).
            if (fileSize > entry.size()) {
                log.warn("{}: cutting {} bytes past the end {} had at its clean close (written by a writer that "
                        + "was no longer the partition's)", description, fileSize - entry.size(), segment.path());
                segment.file().truncate(entry.size());
            }
            return new SegmentSummary(entry.size(), entry.nextOffset(), entry.maxTimestamp());
        }
        if (clean && entry.complete() && fileSize >= entry.size()) {
            try {
                SegmentIndexes indexes = segment.indexes(entry.size());
                if (fileSize > entry.size()) {
                    log.warn("{}: cutting {} bytes past the end {} had at its clean close (written by a writer that "
                            + "was no longer the partition's)", description, fileSize - entry.size(), segment.path());
                    segment.file().truncate(entry.size());
                }
                return new SegmentSummary(entry.size(), indexes.nextOffset(), indexes.maxTimestamp());
            } catch (CorruptLogException e) {
                if (!legacy) {
                    throw e;
                }
                // LogStore 0.1 left a marker whose segment does not check out: recover as after a crash.
                segment.installIndexes(null);
            }
        }
        if (clean && entry.complete() && !legacy) {
            // fileSize < entry.size(): the bytes the clean close forced are gone.
            throw new CorruptLogException(segment.path(), fileSize, "the segment is " + fileSize + " bytes but was "
                    + entry.size() + " bytes when the partition was closed cleanly: bytes were cut off behind the "
                    + "store's back");
        }
        SegmentIndexes indexes = SegmentIndexes.empty(segment.baseOffset(), config.indexIntervalBytes());
        SegmentScanner.Result result = segment.scan(0, fileSize, segment.baseOffset(), indexes);
        if (!result.clean()) {
            checkDamageIsAtTheEnd(segment, result, fileSize);
            log.warn("{}: recovered {} after an unclean shutdown; cut at byte {} ({}); next offset {}", description,
                    segment.path().getFileName(), result.validEnd(), result.problem(), result.nextOffset());
        }
        if (fileSize > result.validEnd()) {
            segment.file().truncate(result.validEnd());
        }
        segment.installIndexes(indexes);
        if (result.validEnd() > 0) {
            try {
                segment.writeIndexFiles(result.validEnd());
            } catch (IOException e) {
                log.warn("{}: could not write the index files of {}: {}", description, segment.path(), e.getMessage());
            }
        }
        return new SegmentSummary(result.validEnd(), result.nextOffset(), result.maxTimestamp());
    }

    /**
     * A crash leaves the end of the active segment short, or bad. Bad bytes with an intact batch
     * after them are damage to data already written, perhaps already acknowledged as durable;
     * cutting there would throw the intact batches away. Looked for after a torn batch too: a
     * batch looks torn by the length its header declares, and that length may be the damage.
     */
    private void checkDamageIsAtTheEnd(Segment segment, SegmentScanner.Result result, long fileSize)
            throws IOException {
        // After a torn batch, only a batch of later offsets counts: batch-shaped bytes inside
        // its payload (a record holding a copy of a batch) are not data after it.
        long minOffset = result.torn()
                ? SegmentScanner.offsetsAfter(segment.file(), result.validEnd(), fileSize, result.nextOffset())
                : result.nextOffset();
        long intact = SegmentScanner.findIntactBatch(segment.file(), result.validEnd() + 1, fileSize, minOffset);
        if (intact >= 0) {
            throw new CorruptLogException(segment.path(), result.validEnd(), result.problem() + ", and an intact batch "
                    + "follows at byte " + intact + ": the data was damaged after it was written, a crash does not "
                    + "leave this");
        }
    }

    /** Refusal under {@link CorruptionPolicy#FAIL}, saying what to do. */
    private CorruptLogException refuse(CorruptLogException e) {
        return new CorruptLogException(e.getMessage() + ". " + description + " was not opened and nothing was changed: "
                + "restore the segment from a copy, or open the store with CorruptionPolicy.TRUNCATE to cut the "
                + "partition back to the last valid batch before the damage", e.file(), e.position());
    }

    /**
     * {@link CorruptionPolicy#TRUNCATE}: cuts {@code segment} at the damage and removes every
     * later segment, so the partition is again a clean prefix.
     */
    private SegmentSummary truncateAt(Segment segment, CorruptLogException damage, List<Manifest.Entry> later)
            throws IOException {
        SegmentIndexes indexes = SegmentIndexes.empty(segment.baseOffset(), config.indexIntervalBytes());
        long fileSize = fileSize(segment);
        SegmentScanner.Result result = segment.scan(0, fileSize, segment.baseOffset(), indexes);
        long cut = result.validEnd();
        segment.file().truncate(cut);
        segment.installIndexes(indexes);
        Files.deleteIfExists(segment.indexFile());
        Files.deleteIfExists(segment.timeIndexFile());
        for (Manifest.Entry entry : later) {
            for (String suffix : new String[] {Segment.LOG_SUFFIX, Segment.INDEX_SUFFIX, Segment.TIME_INDEX_SUFFIX}) {
                Files.deleteIfExists(dir.resolve(Segment.fileName(entry.baseOffset(), suffix)));
            }
        }
        manifests.sync();
        log.warn("{}: {}; cut {} at byte {} and removed {} later segment(s) as CorruptionPolicy.TRUNCATE asks; the "
                + "partition now ends at offset {}", description, damage.getMessage(), segment.path(), cut,
                later.size(), result.nextOffset());
        return new SegmentSummary(cut, result.nextOffset(), result.maxTimestamp());
    }

    private long fileSize(Segment segment) throws IOException {
        try {
            return Files.size(segment.path());
        } catch (NoSuchFileException e) {
            throw new CorruptLogException(segment.path(), 0, "the segment file is missing although the partition's "
                    + "manifest names it");
        }
    }

    private void removeFiles(Segment segment) throws IOException {
        segment.file().close();
        Files.deleteIfExists(segment.path());
        Files.deleteIfExists(segment.indexFile());
        Files.deleteIfExists(segment.timeIndexFile());
    }
}
