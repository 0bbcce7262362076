package dev.logstore.log;

import dev.logstore.CorruptLogException;
import dev.logstore.LogStoreException;
import dev.logstore.LogStoreInterruptedException;
import dev.logstore.segment.Segment;
import dev.logstore.segment.SegmentIndexes;
import dev.logstore.segment.SegmentScanner;
import dev.logstore.segment.SegmentSummary;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.channels.ClosedByInterruptException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A read-only view of a partition that a writer elsewhere (another process, or another handle)
 * may be appending to. It learns the partition's shape only from the newest complete manifest:
 * which segments exist, how far each sealed one may be read, where the partition starts. The
 * active segment it scans from where it stopped, publishing whole valid batches only.
 *
 * <p>Fencing: before it publishes bytes it scanned in the active segment, the follower checks
 * that no newer writer epoch was claimed meanwhile. A newer writer scans that segment only after
 * its claim, so bytes that were on disk before the claim end up inside the size it seals the
 * segment with; bytes a fenced writer adds later are never published.
 *
 * <p>One refresh runs at a time (readers that reach the end of what was published call it); the
 * fields below are owned by {@code refreshLock}.
 */
public final class PartitionFollower extends PartitionLog {

    private static final Logger log = LoggerFactory.getLogger(PartitionFollower.class);
    private static final long POLL_NANOS = TimeUnit.MILLISECONDS.toNanos(20);

    private final Manifests manifests;
    private final ReentrantLock refreshLock = new ReentrantLock();
    private final FollowerDamage damage = new FollowerDamage();

    private int claimedEpoch = -1;
    private Manifest manifest;
    private TreeMap<Long, Segment> segments = new TreeMap<>();
    private Segment active;
    private SegmentIndexes activeIndexes;
    private long activeEnd;
    private long activeNext;
    private long activeMaxTimestamp = Long.MIN_VALUE;
    private LogState.Damage found;

    private PartitionFollower(String description, int partition, Path dir, LogConfig config) {
        super(description, partition, dir, config);
        this.manifests = new Manifests(dir, config.opener());
        this.state = LogState.empty(0);
    }

    /** Opens a read-only view of a partition that may be written elsewhere meanwhile. */
    public static PartitionFollower open(String storeName, int partition, Path dir, LogConfig config) {
        PartitionFollower follower = new PartitionFollower(describe(storeName, partition), partition, dir, config);
        try {
            follower.refresh();
            return follower;
        } catch (RuntimeException e) {
            follower.close();
            throw e;
        }
    }

    @Override
    public boolean writable() {
        return false;
    }

    /**
     * Picks up what the writer did since the last look: new batches in the active segment, a new
     * manifest (a roll, retention, a clean close, a new writer).
     */
    @Override
    public void refresh() {
        if (closed) {
            return;
        }
        if (Thread.currentThread().isInterrupted()) {
            // Checked first: file I/O on an interrupted thread would fail anyway, less clearly.
            throw interrupted(null);
        }
        refreshLock.lock();
        try {
            if (!closed) {
                follow();
            }
        } catch (InterruptedIOException | ClosedByInterruptException e) {
            throw interrupted(e);
        } catch (IOException e) {
            throw new LogStoreException(description + ": cannot follow " + dir + ": " + e.getMessage(), e);
        } finally {
            refreshLock.unlock();
        }
    }

    private LogStoreInterruptedException interrupted(IOException cause) {
        return new LogStoreInterruptedException(description + ": looking for new data in " + dir + " was "
                + "interrupted: the thread's interrupt flag is set. The store and other readers are unaffected; clear "
                + "the flag (or read on another thread) and read again", cause);
    }

    /**
     * Looks for what the writer did, and publishes it. When the active segment's file is gone
     * before it could be scanned, or a newer writer claimed the partition during the scan, the
     * manifest read is out of date (the writer deletes a segment only after a manifest without
     * it; a new writer touches the file only after claiming the partition): look again, a few
     * times, so that the view holds at least what was appended before this look began, or learns
     * that retention removed it. While a new writer recovers (claimed, no manifest written yet),
     * the view keeps what it had until that manifest appears.
     */
    private void follow() throws IOException {
        for (int attempt = 1; !followOnce() && attempt < 3; attempt++) {
            // the manifest read was out of date: read the newer one
        }
    }

    /** One look; false when the manifest it read was out of date (see {@link #scanActive}), so that the view lags. */
    private boolean followOnce() throws IOException {
        int newest;
        if (claimedEpoch >= 0) {
            newest = manifests.newestClaimed(claimedEpoch);
        } else {
            // The first look: from the epoch the store's clean-close record names for the
            // partition, if any (two file statuses), else from a listing of the directory.
            int hint = config.cleanCloses().epochHint(partition);
            newest = hint > 0 ? manifests.newestClaimed(hint) : manifests.newestClaimed();
        }
        if (newest == 0) {
            followLegacy();
            return true;
        }
        boolean changed = newest != claimedEpoch;
        claimedEpoch = newest;
        Manifest current = manifest;
        // A newer epoch that only claimed (a writer reopened after a clean close and has not
        // appended) writes its first manifest with its first append: look for it until it appears.
        if (current == null || changed || current.epoch() == 0
                || manifests.sequence(current.epoch()) != current.sequence()
                || (current.epoch() < newest && manifests.sequence(newest) >= 0)) {
            Manifest read = readNewest(newest);
            if (read != null && !read.equals(current)) {
                apply(read);
            }
        }
        if (manifest == null) {
            return true; // epochs claimed, none written yet: a first writer is recovering
        }
        boolean upToDate = active == null || newest != manifest.epoch() || scanActive(manifest.epoch());
        publish();
        return upToDate;
    }

    /** The newest complete manifest; null when only claims exist. */
    private Manifest readNewest(int newest) throws IOException {
        // A writer's store close records the active segment's end in the store's clean-close
        // record rather than in a clean manifest: completed here, the segment is read as sealed.
        return config.cleanCloses().complete(partition, manifests.newestComplete(newest), dir);
    }

    /** Makes the follower's segments those of {@code next}, reusing the ones it already has. */
    private void apply(Manifest next) {
        TreeMap<Long, Segment> kept = new TreeMap<>();
        List<Manifest.Entry> entries = next.segments();
        Segment nextActive = null;
        for (int i = 0; i < entries.size(); i++) {
            Manifest.Entry entry = entries.get(i);
            boolean last = i == entries.size() - 1;
            Segment segment = segments.get(entry.baseOffset());
            if (segment == null || segment.epoch() != entry.epoch()) {
                segment = config.openSegment(dir, entry.baseOffset(), entry.epoch(), entry.createdMillis(), false);
            }
            if (!last || next.clean()) {
                sealAt(segment, entry);
            } else {
                nextActive = segment;
            }
            kept.put(entry.baseOffset(), segment);
        }
        for (Map.Entry<Long, Segment> old : segments.entrySet()) {
            if (kept.get(old.getKey()) != old.getValue()) {
                old.getValue().retire(false);
            }
        }
        if (nextActive != active) {
            active = nextActive;
            if (active != null) {
                activeIndexes = active.startIndexes();
                activeEnd = 0;
                activeNext = active.baseOffset();
                activeMaxTimestamp = Long.MIN_VALUE;
                damage.clear();
                found = null;
            }
        }
        segments = kept;
        manifest = next;
    }

    private void sealAt(Segment segment, Manifest.Entry entry) {
        if (segment.summary() != null) {
            return;
        }
        if (segment == active && activeEnd > entry.size()) {
            log.warn("{}: {} was sealed at {} bytes, but {} bytes of it had been read: bytes a fenced writer "
                    + "added were seen; reads stop at the sealed size from now on", description, segment.path(),
                    entry.size(), activeEnd);
        }
        segment.seal(new SegmentSummary(entry.size(), entry.nextOffset(), entry.maxTimestamp()));
        if (segment == active) {
            active = null;
            found = null;
        }
    }

    /**
     * Scans what the writer appended to the active segment since the last look. Returns false
     * when the manifest the look read is out of date and a newer one decides: the segment's file
     * is gone (removed by retention since the manifest was read, or replaced by a new writer), or
     * a newer writer claimed the partition during the scan (its manifest, once written, says where
     * the segment ends; until then the look keeps what it had).
     */
    private boolean scanActive(int epoch) throws IOException {
        long fileSize;
        try {
            fileSize = active.file().size();
        } catch (NoSuchFileException e) {
            return false;
        }
        if (fileSize <= activeEnd || SegmentScanner.nothingWrittenAt(active.file(), activeEnd, fileSize)) {
            return true; // nothing new: the file ends there, or holds the zeros a mapped writer reserves
        }
        SegmentScanner.Result result;
        for (int attempt = 0; ; attempt++) {
            try {
                result = active.scan(activeEnd, fileSize, activeNext, activeIndexes);
                break;
            } catch (CorruptLogException | NoSuchFileException e) {
                if (manifests.claimed(epoch + 1)) {
                    return false; // a newer writer took over the segment: its manifest decides
                }
                if (e instanceof NoSuchFileException) {
                    return false;
                }
                long cutTo = sizeBelow(fileSize);
                if (cutTo < 0) {
                    throw e;
                }
                if (cutTo == 0) {
                    return false; // gone
                }
                // A writer with mapped appends cut the zeros it reserved (a seal or a clean close)
                // while this scan ran towards the old end. The cut falls at the end of its last
                // batch, so all before it is whole batches: scanned again to there, the view holds
                // every batch appended before this look began. A segment is cut once; should it
                // shrink again, the manifest says where it ends.
                if (attempt > 0 || cutTo <= activeEnd) {
                    return true;
                }
                fileSize = cutTo;
            }
        }
        if (manifests.claimed(epoch + 1)) {
            // A newer writer claimed the partition while this scan ran: what was scanned may be a
            // fenced writer's late bytes. The newer writer's manifest says how far the segment goes.
            return false;
        }
        activeEnd = result.validEnd();
        activeNext = result.nextOffset();
        activeMaxTimestamp = Math.max(activeMaxTimestamp, result.maxTimestamp());
        if (result.clean() || result.torn() || result.reserved()) {
            damage.clear();
            found = null;
        } else {
            found = damage.suspect(active.path(), result.validEnd(), result.problem());
        }
        return true;
    }

    /** The active segment's size when it is now below {@code size} (0: gone); -1 when it is not. */
    private long sizeBelow(long size) throws IOException {
        try {
            long now = active.file().size();
            return now < size ? now : -1;
        } catch (NoSuchFileException gone) {
            return 0;
        }
    }

    private void publish() {
        Segment[] list = segments.values().toArray(Segment[]::new);
        if (list.length == 0) {
            state = LogState.empty(manifest == null ? 0 : manifest.startOffset());
            return;
        }
        long start = manifest.startOffset();
        if (active == null) {
            SegmentSummary last = list[list.length - 1].summary();
            state = new LogState(list, start, last.nextOffset(), 0, Long.MIN_VALUE, true, null);
        } else {
            state = new LogState(list, start, activeNext, activeEnd, activeMaxTimestamp, false, found);
        }
    }

    // ---------------------------------------------------------------- partitions of LogStore 0.1

    /**
     * A partition no writer of this version opened yet: its segments are the files a listing
     * finds, every one but the last sealed at its file's size.
     */
    private void followLegacy() throws IOException {
        List<Long> bases = LegacyLayout.listSegments(dir);
        boolean clean = Files.exists(dir.resolve(LegacyLayout.CLEAN_MARKER));
        Manifest listed = LegacyLayout.manifestOf(dir, bases, clean);
        if (listed.segments().isEmpty()) {
            state = LogState.empty(0);
            return;
        }
        List<Manifest.Entry> entries = new ArrayList<>();
        for (int i = 0; i < listed.segments().size(); i++) {
            Manifest.Entry entry = listed.segments().get(i);
            boolean last = i == listed.segments().size() - 1;
            if (last && !clean) {
                entries.add(entry);
                continue;
            }
            Segment known = segments.get(entry.baseOffset());
            SegmentSummary summary = known == null ? null : known.summary();
            if (summary == null) {
                // Next offset and newest timestamp come from the segment's indexes.
                Segment probe = known != null ? known : config.openSegment(dir, entry.baseOffset(), 0, -1, false);
                SegmentIndexes indexes = probe.indexes(entry.size());
                if (probe != known) {
                    segments.put(entry.baseOffset(), probe);
                }
                summary = new SegmentSummary(entry.size(), indexes.nextOffset(), indexes.maxTimestamp());
            }
            entries.add(new Manifest.Entry(entry.baseOffset(), 0, -1, summary.size(), summary.nextOffset(),
                    summary.maxTimestamp()));
        }
        Manifest next = new Manifest(0, 0, clean, listed.startOffset(), entries);
        if (!next.equals(manifest)) {
            apply(next);
        }
        if (active != null) {
            scanActive(0);
        }
        publish();
    }

    // ---------------------------------------------------------------- waiting and closing

    @Override
    public boolean awaitAppend(long offset, long timeout, TimeUnit unit) throws InterruptedException {
        long deadline = System.nanoTime() + unit.toNanos(timeout);
        refresh();
        while (state.nextOffset() <= offset && !closed) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                break;
            }
            TimeUnit.NANOSECONDS.sleep(Math.min(left, POLL_NANOS));
            refresh();
        }
        return state.nextOffset() > offset;
    }

    @Override
    public void close() {
        refreshLock.lock();
        try {
            if (closed) {
                return;
            }
            closed = true;
            for (Segment segment : segments.values()) {
                segment.retire(false);
            }
        } finally {
            refreshLock.unlock();
        }
    }
}
