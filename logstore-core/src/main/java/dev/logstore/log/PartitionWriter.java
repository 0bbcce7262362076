package dev.logstore.log;

import static dev.logstore.record.BatchFormat.MAX_OFFSET;
import static dev.logstore.record.BatchFormat.MAX_TIMESTAMP_OFFSET;

import dev.logstore.AppendResult;
import dev.logstore.Durability;
import dev.logstore.LogStoreException;
import dev.logstore.LogStoreInterruptedException;
import dev.logstore.PartitionFailedException;
import dev.logstore.WriterFencedException;
import dev.logstore.io.FileLocks;
import dev.logstore.record.Record;
import dev.logstore.segment.Segment;
import dev.logstore.segment.SegmentSummary;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedByInterruptException;
import java.nio.channels.ClosedChannelException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one writer of a partition. It holds the partition's lock and a writer epoch of its own
 * (see {@link Manifests}), appends at the end of the active segment, rolls, applies retention,
 * and publishes a new {@link LogState} after each change.
 *
 * <p>Concurrency: appends, rolls and retention run under {@code writeLock}; fsyncs under
 * {@code syncLock}, so appenders keep appending while one of them forces the file, and every
 * appender waiting behind it finds its data already covered (group commit). Readers take no
 * lock: they read the published snapshot.
 *
 * <p>Fail-stop: a failed write, fsync or roll leaves the file in a state the writer no longer
 * knows, and after a failed fsync the kernel may have dropped pages it reported as written. So
 * any such error stops the partition: it refuses appends and flushes, naming the cause, until
 * the store is reopened and recovery finds out what the disk really holds. Readers go on reading
 * what was published.
 *
 * <p>Fencing: before it acknowledges anything as durable (a flush, an append under
 * {@link Durability#always()}), after a roll and at close, the writer checks that no newer
 * epoch was claimed. A writer that finds one stops with a {@link WriterFencedException}; its late
 * bytes land past the size the newer writer recorded for its segment, so they are never data.
 */
public final class PartitionWriter extends PartitionLog {

    private static final Logger log = LoggerFactory.getLogger(PartitionWriter.class);
    /** How often appends look for a newer writer epoch, besides every fsync. */
    private static final long EPOCH_CHECK_NANOS = TimeUnit.SECONDS.toNanos(1);

    private final FileLocks.Held lock;
    private final int epoch;
    private final Manifests manifests;
    private final ReentrantLock writeLock = new ReentrantLock();
    private final ReentrantLock syncLock = new ReentrantLock();
    /** Notified when a force ends; callers of {@link #sync} waiting for another's force wait on it. */
    private final Object forced = new Object();
    private static final long FORCE_WAIT_MILLIS = 50;
    /** Threads in {@link #sync}: waiting for a force or making one. */
    private final AtomicInteger syncers = new AtomicInteger();
    /** How many threads were in {@link #sync} when the newest force began; under syncLock. */
    private int lastGroup;
    /** How long the newest force took; under syncLock. */
    private long forceNanos;
    private static final long MAX_GATHER_NANOS = TimeUnit.MICROSECONDS.toNanos(500);
    private final AppendSignal appendSignal = new AppendSignal();
    private final AtomicLong durableOffset = new AtomicLong();
    private final Retention retention;

    // Owned by writeLock.
    private Segment[] segments;
    /** Null until the first write after a quiet open (see {@link RecoveredPartition#active}). */
    private Segment active;
    private long activeSize;
    private long activeMaxTimestamp = Long.MIN_VALUE;
    private long nextOffset;
    private long startOffset;
    private int unflushedRecords;
    private long lastEpochCheckNanos = System.nanoTime();
    private long manifestSequence;
    /** The active segment whose bulk an appender forced, or is forcing, ahead of its roll. */
    private Segment preForced;
    /** Segments a roll's retention removed, to let go of once the append lock is released. */
    private List<Segment> retiring = List.of();
    /**
     * True while the epoch holds only its claim and the partition is what the previous writer's
     * clean manifest says (see {@link RecoveredPartition#manifestUnwritten}); the first append
     * writes the epoch's first manifest before its records.
     */
    private boolean manifestUnwritten;
    /**
     * True while the epoch's manifest is written but its rename not yet forced to disk: the next
     * flush forces the directory before it acknowledges anything, and only then are the previous
     * epochs' manifests removed.
     */
    private boolean manifestUndurable;
    /** After a quiet open, the sequence of the previous epoch's manifest, checked at the claim (see {@link #startEpoch}). */
    private final long previousSequence;
    /** The random tag in this epoch's manifests: see {@link Manifest}. */
    private final int tag;
    /** The newest manifest this epoch committed; null before the first. Owned by writeLock. */
    private Manifest lastManifest;
    /** After a quiet open, the empty segment the first write takes over, or -1; see {@link #startEpoch}. */
    private final long reusable;
    /** After a quiet open that listed the directory: its stamp, which a close without a write may record. */
    private final CleanCloses.DirectoryStamp listedAs;

    private volatile PartitionFailedException failure;

    private PartitionWriter(String description, int partition, Path dir, LogConfig config, RecoveredPartition recovered) {
        super(description, partition, dir, config);
        this.lock = recovered.lock();
        this.epoch = recovered.epoch();
        this.manifests = recovered.manifests();
        this.retention = new Retention(config.retentionMillis(), config.retentionBytes());
        List<Segment> all = new ArrayList<>(recovered.sealed());
        if (recovered.active() != null) {
            all.add(recovered.active());
        }
        this.segments = all.toArray(Segment[]::new);
        this.previousSequence = recovered.previousSequence();
        this.reusable = recovered.reusable();
        this.listedAs = recovered.listedAs();
        this.lastManifest = recovered.manifest();
        this.tag = lastManifest != null ? lastManifest.tag() : Manifest.randomTag();
        this.active = recovered.active();
        this.nextOffset = recovered.nextOffset();
        this.startOffset = recovered.startOffset();
        this.durableOffset.set(nextOffset);
        this.manifestUnwritten = recovered.manifestUnwritten();
        this.manifestUndurable = manifestUnwritten;
        this.manifestSequence = manifestUnwritten ? -1 : 0;
        publish();
    }

    /**
     * Opens a partition for writing: takes its lock and a new writer epoch, recovers it and
     * leaves it ready to append into a new segment. See {@link PartitionRecovery}.
     */
    public static PartitionWriter open(String storeName, int partition, Path dir, LogConfig config) {
        String description = describe(storeName, partition);
        RecoveredPartition recovered = PartitionRecovery.open(description, partition, dir, config);
        try {
            return new PartitionWriter(description, partition, dir, config, recovered);
        } catch (RuntimeException | Error e) {
            recovered.sealed().forEach(segment -> segment.retire(false));
            if (recovered.active() != null) {
                recovered.active().retire(false);
            }
            try {
                recovered.lock().close();
            } catch (IOException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
    }

    @Override
    public boolean writable() {
        return true;
    }

    /** The writer epoch this handle holds. */
    public int epoch() {
        return epoch;
    }

    /** The offset below which everything is known to be on disk. */
    public long durableOffset() {
        return durableOffset.get();
    }

    @Override
    public void refresh() {
        // The writer's snapshot is always current.
    }

    private void publish() {
        state = new LogState(segments, startOffset, nextOffset, activeSize, activeMaxTimestamp, active == null, null);
    }

    // ---------------------------------------------------------------- appends

    /**
     * Appends records as one batch.
     *
     * @param firstOffset offset of the first record (consecutive after it), or -1 for the next offset
     * @param offsets     explicit offsets of every record (strictly increasing), or null
     */
    public AppendResult append(List<Record> records, long firstOffset, long[] offsets) {
        int count = records.size();
        if (count == 0) {
            throw new IllegalArgumentException(description + ": nothing to append (empty record list)");
        }
        if (offsets != null && offsets.length != count) {
            throw new IllegalArgumentException(description + ": " + offsets.length + " offsets for " + count + " records");
        }
        long base;
        long last;
        boolean mustSync;
        Segment preForce = null;
        writeLock.lock();
        try {
            checkWritable();
            base = offsets != null ? offsets[0] : firstOffset < 0 ? nextOffset : firstOffset;
            if (base < nextOffset) {
                throw new IllegalArgumentException(description + ": offset " + base + " is below the next offset "
                        + nextOffset + "; offsets only grow, so append at " + nextOffset + " or later");
            }
            last = offsets != null ? checkOffsets(offsets) : base + count - 1;
            if (last < base || last > MAX_OFFSET) {
                throw new IllegalArgumentException(description + ": a batch of " + count + " records from offset " + base
                        + " would pass the largest offset, " + MAX_OFFSET + " (Long.MAX_VALUE - 1)");
            }
            if (Thread.currentThread().isInterrupted()) {
                // Writing now would let Java close the segment file for every user of it.
                throw new LogStoreInterruptedException(description + ": the appending thread is interrupted; nothing "
                        + "was written. Clear the interrupt flag (or append from another thread) and append again", null);
            }
            long now = System.nanoTime();
            if (now - lastEpochCheckNanos > EPOCH_CHECK_NANOS) {
                lastEpochCheckNanos = now;
                checkEpoch();
            }
            ByteBuffer batch = config.encoders().get().encode(epoch, base, offsets, records);
            long maxTimestamp = batch.getLong(MAX_TIMESTAMP_OFFSET);
            int size = batch.remaining();
            if (manifestUnwritten) {
                // Followers and recovery learn of this epoch's segment before it holds a record.
                Segment created = active == null ? startEpoch(base) : null;
                commitManifest(startOffset, List.of(segments), false, created, false);
            }
            maybeRoll(base, last, size);
            Segment segment = active;
            long position = activeSize;
            try {
                segment.file().write(batch, position);
            } catch (IOException e) {
                throw failStop("cannot write to " + segment.path(), e);
            }
            if (position == 0) {
                segment.createdMillis(System.currentTimeMillis());
            }
            segment.indexes(position).add(position, size, base, last + 1, maxTimestamp);
            activeSize = position + size;
            activeMaxTimestamp = Math.max(activeMaxTimestamp, maxTimestamp);
            nextOffset = last + 1;
            publish();
            if (preForced != segment && activeSize >= config.segmentBytes() - preForceMargin()) {
                preForced = segment;
                preForce = segment;
            }
            unflushedRecords += count;
            Durability durability = config.durability();
            mustSync = durability.mode() == Durability.Mode.ALWAYS
                    || (durability.mode() == Durability.Mode.EVERY_RECORDS && unflushedRecords >= durability.records());
        } catch (IOException e) {
            throw failStop("cannot index " + active.path(), e);
        } finally {
            List<Segment> retired = retiring;
            retiring = List.of();
            writeLock.unlock();
            for (Segment gone : retired) {
                gone.retire(true); // files deleted here, or by the last reader: not under the append lock
            }
        }
        appendSignal.signal();
        if (preForce != null) {
            forceAheadOfRoll(preForce);
        }
        if (mustSync) {
            sync(last + 1);
        }
        return new AppendResult(partition, base, last);
    }

    private long checkOffsets(long[] offsets) {
        for (int i = 1; i < offsets.length; i++) {
            if (offsets[i] <= offsets[i - 1]) {
                throw new IllegalArgumentException(description + ": offsets must strictly increase, but offset "
                        + offsets[i] + " follows " + offsets[i - 1]);
            }
        }
        long last = offsets[offsets.length - 1];
        if (last - offsets[0] > Integer.MAX_VALUE || last - offsets[0] < 0) {
            throw new IllegalArgumentException(description + ": offsets of one batch must lie within "
                    + Integer.MAX_VALUE + " of each other; split the batch");
        }
        return last;
    }

    private void checkWritable() {
        checkOpen();
        PartitionFailedException failed = failure;
        if (failed != null) {
            if (failed instanceof WriterFencedException) {
                throw failed;
            }
            throw new PartitionFailedException(description + " stopped taking appends after an earlier failure; "
                    + "reopen the store to recover it. The failure: " + failed.getMessage(), failed);
        }
    }

    /**
     * Records that the partition failed and returns the exception to throw. The first failure
     * wins: later ones are consequences.
     */
    private PartitionFailedException failStop(String what, Throwable cause) {
        PartitionFailedException stopped = cause instanceof WriterFencedException fenced ? fenced
                : new PartitionFailedException(description + ": " + what + ": " + explain(cause) + ". The partition "
                        + "stopped taking appends; everything acknowledged before is kept. Deal with the cause, then "
                        + "reopen the store", cause);
        synchronized (this) {
            if (failure == null) {
                failure = stopped;
                log.error("{} stopped taking appends: {}", description, stopped.getMessage());
            }
        }
        return stopped;
    }

    private static String explain(Throwable e) {
        if (e instanceof ClosedByInterruptException) {
            return "the thread was interrupted during the I/O, and Java closed the segment file for every user";
        }
        if (e instanceof ClosedChannelException) {
            return "the segment file was closed (an interrupt of a thread writing to it)";
        }
        String message = e.getMessage();
        return message == null ? e.toString() : message;
    }

    /**
     * The first write after a quiet open: claims the epoch, checks that the partition is still what
     * the open read (the previous epoch's manifest unchanged, no newer claim), and creates the
     * active segment at {@code base} (or takes over the empty last segment the previous writer
     * closed, which a roll replaces when {@code base} is not its offset). Returns the segment if it
     * was created: the caller commits the epoch's first manifest, which removes that file if it
     * fails. A failure stops the partition; a claim made is left, as after a crash (the next open
     * finds a claim above a clean manifest).
     */
    private Segment startEpoch(long base) {
        try {
            manifests.claim(epoch);
        } catch (FileAlreadyExistsException e) {
            throw failStop("fenced", new WriterFencedException(description + ": another writer opened the partition "
                    + "and claimed writer epoch " + epoch + " in " + dir + " while this one had it open, before this "
                    + "one wrote anything; this one writes nothing. Its OS lock did not hold (a shared filesystem "
                    + "without working locks, or a removed lock file). Close this handle"));
        } catch (IOException e) {
            throw failStop("cannot claim writer epoch " + epoch + " in " + dir, e);
        }
        try {
            if (manifests.sequence(epoch - 1) != previousSequence || manifests.claimed(epoch + 1)) {
                throw failStop("fenced", new WriterFencedException(description + ": the partition's manifest changed in "
                        + dir + " after this writer opened it and before it wrote anything (another writer came and "
                        + "went); this one writes nothing. Its OS lock did not hold (a shared filesystem without "
                        + "working locks, or a removed lock file). Close this handle and open the store again"));
            }
        } catch (IOException e) {
            throw failStop("cannot read the manifest " + manifests.file(epoch - 1), e);
        }
        long at = reusable >= 0 ? reusable : base;
        Segment fresh;
        try {
            fresh = reusable >= 0 ? config.takeOverSegment(dir, at, epoch) : config.createSegment(dir, at, epoch);
        } catch (IOException e) {
            throw failStop("cannot " + (reusable >= 0 ? "open" : "create") + " segment "
                    + Segment.fileName(at, Segment.LOG_SUFFIX) + " in " + dir, e);
        }
        if (segments.length == 0) {
            startOffset = at; // a partition's first segment: the offsets below its first are not part of it
        }
        Segment[] next = java.util.Arrays.copyOf(segments, segments.length + 1);
        next[segments.length] = fresh;
        segments = next;
        active = fresh;
        return reusable >= 0 ? null : fresh;
    }

    /** Throws when a newer writer claimed the partition; see the class comment. */
    private void checkEpoch() {
        if (manifests.claimed(epoch + 1)) {
            throw failStop("fenced", new WriterFencedException(description + ": another writer opened the partition "
                    + "(writer epoch " + (epoch + 1) + " was claimed in " + dir + ") while this one (epoch " + epoch
                    + ") still had it open, so this one acknowledges nothing more; its later appends are not part of "
                    + "the partition. Its OS lock did not hold (a shared filesystem without working locks, or a "
                    + "removed lock file). Close this handle"));
        }
    }

    // ---------------------------------------------------------------- durability

    /** Forces everything appended so far to disk; returns when it is there. */
    public void flush() {
        sync(state.nextOffset());
    }

    /** True when appends wait for a flush. */
    public boolean dirty() {
        return failure == null && !closed && durableOffset.get() < state.nextOffset();
    }

    /**
     * Makes every offset below {@code target} durable, sharing the fsync with concurrent callers
     * (group commit). One caller at a time forces; the others wait for it and return at once if its
     * force covered them, without queueing for the force lock one by one: a thread whose append is
     * durable is back appending while the next force is gathered.
     */
    private void sync(long target) {
        syncers.incrementAndGet();
        try {
            syncLoop(target);
        } finally {
            syncers.decrementAndGet();
        }
    }

    private void syncLoop(long target) {
        while (true) {
            if (durableOffset.get() >= target) {
                checkWritable();
                return;
            }
            if (syncLock.tryLock()) {
                try {
                    forceUpTo(target);
                } finally {
                    syncLock.unlock();
                    synchronized (forced) {
                        forced.notifyAll();
                    }
                }
                continue;
            }
            synchronized (forced) {
                // The force under way ends with a notifyAll under this monitor, after its unlock.
                while (durableOffset.get() < target && syncLock.isLocked()) {
                    try {
                        forced.wait(FORCE_WAIT_MILLIS);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        throw new LogStoreInterruptedException(description + ": the appending or flushing thread was "
                                + "interrupted while waiting for an fsync; offsets below " + target + " are written but "
                                + "not known to be durable. Clear the interrupt flag and flush again", e);
                    }
                }
            }
        }
    }

    /**
     * Before forcing, gives the threads the previous force released a moment to append again, so
     * that one force carries all of their appends instead of alternating between a force for the
     * first one back and a force for the rest. It waits only while fewer threads wait than the last
     * force was made for, and no longer than half a force's time (at most 500 µs).
     */
    private void gatherGroup() {
        int expected = lastGroup;
        if (expected > 1 && syncers.get() < expected) {
            long deadline = System.nanoTime() + Math.min(MAX_GATHER_NANOS, forceNanos / 2);
            while (syncers.get() < expected && System.nanoTime() < deadline) {
                Thread.yield();
            }
        }
        lastGroup = syncers.get();
    }

    /** Forces the active segment if offsets below {@code target} are not yet durable; under syncLock. */
    private void forceUpTo(long target) {
        if (durableOffset.get() >= target) {
            return;
        }
        gatherGroup();
        Segment segment;
        long upTo;
        writeLock.lock();
        try {
            checkWritable();
            segment = active;
            upTo = nextOffset;
            unflushedRecords = 0;
        } finally {
            writeLock.unlock();
        }
        if (segment == null) {
            return; // nothing written since a quiet open: everything is durable
        }
        if (Thread.currentThread().isInterrupted()) {
            throw new LogStoreInterruptedException(description + ": the flushing thread is interrupted, so "
                    + "nothing was forced to disk (appends up to offset " + (upTo - 1) + " are written but not yet "
                    + "durable). Clear the interrupt flag and flush again", null);
        }
        try {
            long forceStart = System.nanoTime();
            segment.file().force();
            forceNanos = System.nanoTime() - forceStart;
        } catch (ClosedByInterruptException e) {
            throw failStop("fsync of " + segment.path() + " was interrupted", e);
        } catch (ClosedChannelException e) {
            // A roll sealed the segment meanwhile, forcing it first.
            if (durableOffset.get() < upTo) {
                throw failStop("fsync of " + segment.path() + " failed", e);
            }
        } catch (IOException e) {
            throw failStop("fsync of " + segment.path() + " failed", e);
        }
        checkEpoch();
        makeManifestDurable();
        durableOffset.accumulateAndGet(upTo, Math::max);
    }

    /**
     * Forces the rename of the epoch's first manifest if it is not yet durable: nothing counts as
     * durable before the manifest that names the segment holding it is.
     */
    private void makeManifestDurable() {
        writeLock.lock();
        try {
            if (manifestUndurable) {
                checkWritable();
                try {
                    manifests.sync();
                } catch (IOException e) {
                    throw failStop("cannot force the directory holding the manifest " + manifests.file(epoch), e);
                }
                manifestDurable();
            }
        } finally {
            writeLock.unlock();
        }
    }

    /** The epoch's manifest is durable: the previous epochs' manifests are superseded and go. */
    private void manifestDurable() {
        manifestUndurable = false;
        try {
            manifests.removeOlderThan(epoch);
        } catch (IOException e) {
            log.debug("{}: removing the manifests of earlier writer epochs: {}; the next open does", description,
                    e.getMessage());
        }
    }

    // ---------------------------------------------------------------- rolls and retention

    /**
     * How close to full the active segment gets before an appender forces it ahead of its roll:
     * an eighth of a segment, at most 4 MiB.
     */
    private long preForceMargin() {
        return Math.min(config.segmentBytes() / 8, 4L << 20);
    }

    /**
     * Writes the bulk of a nearly full segment back to disk outside the append lock, so that the
     * roll's own force, under the lock, has only the last few appends left to write and other
     * appenders are not held up behind a segment's worth of dirty pages. It acknowledges nothing
     * (see {@link dev.logstore.segment.SegmentFile#writeBack}); an interrupt stops only it. An
     * fsync error stops the partition, as any failed fsync does.
     */
    private void forceAheadOfRoll(Segment segment) {
        if (Thread.currentThread().isInterrupted()) {
            return; // the roll forces it
        }
        try {
            segment.file().writeBack();
        } catch (IOException e) {
            throw failStop("fsync of " + segment.path() + " ahead of its roll failed", e);
        }
    }

    private void maybeRoll(long base, long last, int batchSize) {
        Segment current = active;
        if (activeSize == 0) {
            if (current.baseOffset() != base) {
                // An empty segment whose name does not match its first offset (an append with an
                // explicit offset): replace it with one named right.
                replaceEmptyActive(base);
            }
            return;
        }
        boolean full = activeSize + batchSize > config.segmentBytes() || activeSize + batchSize > Integer.MAX_VALUE;
        boolean old = System.currentTimeMillis() - current.createdMillis() >= config.segmentMillis();
        boolean offsetOverflow = last - current.baseOffset() > Integer.MAX_VALUE;
        if (full || old || offsetOverflow) {
            roll(base);
        }
    }

    /**
     * Seals the active segment (forced, indexed, recorded with its size in the manifest) and
     * starts a new one at {@code base}, applying retention in the same manifest. Either the new
     * manifest is committed or nothing changes but a failed partition; a new segment file the
     * manifest does not name is removed.
     */
    private void roll(long base) {
        Segment old = active;
        try {
            old.file().releaseReserved(activeSize);
        } catch (IOException e) {
            throw failStop("cannot cut the space reserved for mapped appends off " + old.path() + " before sealing it",
                    e);
        }
        try {
            old.file().force();
        } catch (IOException e) {
            throw failStop("fsync of " + old.path() + " before sealing it failed", e);
        }
        checkEpoch();
        long sealedNext = nextOffset;
        SegmentSummary sealedAs = new SegmentSummary(activeSize, nextOffset, activeMaxTimestamp);
        try {
            // Before sealing: a sealed segment's indexes may be dropped under the cap on index
            // memory, and then they are loaded from these files.
            old.writeIndexFiles(activeSize);
        } catch (IOException e) {
            log.warn("{}: could not write the index files of {} ({}); they are rebuilt when next needed",
                    description, old.path(), e.getMessage());
        }
        old.seal(sealedAs);
        List<Segment> sealed = new ArrayList<>(List.of(segments));
        List<Segment> expired = retention.expired(sealed, 0, System.currentTimeMillis());
        sealed.removeAll(expired);
        long newStart = expired.isEmpty() ? startOffset : expired.get(expired.size() - 1).summary().nextOffset();
        Segment fresh;
        try {
            fresh = config.createSegment(dir, base, epoch);
        } catch (IOException e) {
            old.seal(null);
            throw failStop("cannot create the next segment " + Segment.fileName(base, Segment.LOG_SUFFIX) + " in " + dir,
                    e);
        }
        List<Segment> next = new ArrayList<>(sealed);
        next.add(fresh);
        try {
            commitManifest(newStart, next, false, fresh);
        } catch (RuntimeException e) {
            old.seal(null);
            throw e;
        }
        // Only now is the manifest naming the sealed segment durable (the epoch's first may not have been).
        durableOffset.accumulateAndGet(sealedNext, Math::max);
        try {
            old.file().closeWriter();
        } catch (IOException e) {
            log.debug("{}: closing the write channel of {}: {}", description, old.path(), e.getMessage());
        }
        segments = next.toArray(Segment[]::new);
        active = fresh;
        activeSize = 0;
        activeMaxTimestamp = Long.MIN_VALUE;
        startOffset = newStart;
        publish();
        retiring = expired; // let go of by the appender once it releases the lock
    }

    /** Replaces the empty active segment by one with base offset {@code base}. */
    private void replaceEmptyActive(long base) {
        Segment old = active;
        Segment fresh;
        try {
            fresh = config.createSegment(dir, base, epoch);
        } catch (IOException e) {
            throw failStop("cannot create segment " + Segment.fileName(base, Segment.LOG_SUFFIX) + " in " + dir, e);
        }
        List<Segment> next = new ArrayList<>(List.of(segments).subList(0, segments.length - 1));
        next.add(fresh);
        long newStart = next.size() == 1 ? base : startOffset;
        commitManifest(newStart, next, false, fresh);
        segments = next.toArray(Segment[]::new);
        active = fresh;
        startOffset = newStart;
        publish();
        old.retire(true);
    }

    /**
     * Writes and commits a manifest listing {@code list} (the last entry active unless
     * {@code clean}). {@code created}, when not null, is a segment file created for this manifest:
     * it is removed if the manifest never became visible. Any failure stops the partition.
     */
    private void commitManifest(long start, List<Segment> list, boolean clean, Segment created) {
        commitManifest(start, list, clean, created, true);
    }

    /**
     * As above; with {@code durable} false the rename is not forced to disk. Two callers: the first
     * append of an epoch (the next flush forces it before acknowledging anything), and a clean
     * close after a durable manifest of this epoch (should the rename be lost, the previous
     * manifest stands and the next open scans the active segment, which close forced).
     */
    private void commitManifest(long start, List<Segment> list, boolean clean, Segment created, boolean durable) {
        Manifest manifest = manifestOf(start, list, clean);
        boolean committed = false;
        try {
            checkEpoch();
            manifests.prepare(manifest);
            manifests.commit(epoch);
            committed = true;
            lastManifest = manifest;
            if (manifestUnwritten) {
                // The epoch's first manifest, whoever writes it (an append, a roll, retention): the
                // check after the rename fences this writer if a newer one claimed meanwhile, since
                // that one's recovery, which follows its claim, may not have seen this manifest and
                // then takes over the same empty segment file.
                manifestUnwritten = false;
                checkEpoch();
            }
            if (durable) {
                manifests.sync();
                if (manifestUndurable) {
                    manifestDurable();
                }
            }
        } catch (IOException | RuntimeException e) {
            if (!committed && created != null) {
                created.file().close();
                try {
                    Files.deleteIfExists(created.path());
                } catch (IOException suppressed) {
                    e.addSuppressed(suppressed);
                }
            }
            throw failStop("cannot write the manifest " + manifests.file(epoch), e);
        }
    }

    private Manifest manifestOf(long start, List<Segment> list, boolean clean) {
        List<Manifest.Entry> entries = new ArrayList<>(list.size());
        for (int i = 0; i < list.size(); i++) {
            Segment segment = list.get(i);
            boolean last = i == list.size() - 1;
            SegmentSummary summary = segment.summary();
            if (last && !clean) {
                entries.add(new Manifest.Entry(segment.baseOffset(), segment.epoch(), segment.createdMillis(), -1, -1,
                        Long.MIN_VALUE));
            } else if (last) {
                entries.add(new Manifest.Entry(segment.baseOffset(), segment.epoch(), segment.createdMillis(),
                        activeSize, nextOffset, activeMaxTimestamp));
            } else {
                entries.add(new Manifest.Entry(segment.baseOffset(), segment.epoch(), segment.createdMillis(),
                        summary.size(), summary.nextOffset(), summary.maxTimestamp()));
            }
        }
        return new Manifest(epoch, ++manifestSequence, clean, start, entries, tag);
    }

    /** Deletes whole sealed segments beyond the retention limits; returns how many. */
    public int enforceRetention(long nowMillis) {
        List<Segment> expired;
        writeLock.lock();
        try {
            checkWritable();
            List<Segment> sealed = new ArrayList<>(List.of(segments).subList(0, segments.length
                    - (active == null ? 0 : 1)));
            expired = retention.expired(sealed, activeSize, nowMillis);
            if (expired.isEmpty()) {
                return 0;
            }
            Segment created = null;
            if (active == null) {
                created = startEpoch(nextOffset); // the manifest below is the epoch's first
            }
            List<Segment> next = new ArrayList<>(List.of(segments));
            next.removeAll(expired);
            long newStart = expired.get(expired.size() - 1).summary().nextOffset();
            commitManifest(newStart, next, false, created);
            segments = next.toArray(Segment[]::new);
            startOffset = newStart;
            publish();
        } finally {
            writeLock.unlock();
        }
        for (Segment gone : expired) {
            gone.retire(true); // files deleted here, or by the last reader: not under the append lock
        }
        return expired.size();
    }

    // ---------------------------------------------------------------- waiting and closing

    @Override
    public boolean awaitAppend(long offset, long timeout, TimeUnit unit) throws InterruptedException {
        return appendSignal.await(() -> state.nextOffset() > offset || closed, unit.toNanos(timeout))
                && state.nextOffset() > offset;
    }

    /**
     * Closes an epoch that wrote nothing: its claim goes, and the partition is again exactly what
     * the previous writer's clean manifest says. The empty active segment stays for the next writer
     * to take over (a file removed here could be one a newer writer, on a filesystem whose locks do
     * not hold, has just created in its place). Nothing needs forcing: should the removal be lost,
     * the next open finds a claim above a clean manifest, as after a crash.
     */
    private void withdraw() {
        active.file().close();
        try {
            if (manifests.claimed(epoch + 1)) {
                return; // a newer claim exists: keep this one, so the epochs stay a chain for followers
            }
            Files.deleteIfExists(manifests.file(epoch));
        } catch (IOException e) {
            log.debug("{}: withdrawing writer epoch {}: {}; the next open cleans up", description, epoch,
                    e.getMessage());
        }
    }

    /**
     * Closes the partition. A healthy one forces its data, writes the active segment's indexes
     * and a manifest marked clean, so the next open skips recovery; a failed one only lets go of
     * its files and lock, and the next open recovers it. Always releases the lock.
     */
    @Override
    public void close() {
        close(false);
    }

    /**
     * Closes the partition as {@link #close()} does, but instead of a clean manifest of its own
     * returns what the store's {@link CleanCloses} record is to say of it, and keeps the
     * partition's lock: the caller records the entries of every partition it closed in one write,
     * then calls {@link #releaseLock()}, so that no other writer, and no move of the store, comes
     * between the close and its record. Null when there is nothing to record (a failed partition,
     * or one that wrote nothing since a clean close, whose manifest or record still stands).
     * Without the record, the next open scans the active segment, as after a crash.
     */
    public CleanCloses.Entry closeForRecord() {
        return close(true);
    }

    /**
     * {@code entry}, this partition's from {@link #closeForRecord()}, with the directory's stamp
     * when the directory holds exactly what this writer left: its segments and no other, their
     * index files where they need them, no leftover, no newer claim; and its change time has
     * settled and did not move during the look (see {@link CleanCloses}). Otherwise {@code entry}
     * as it is, and the next open lists the directory. An entry that carries a stamp already (from
     * an open that listed the directory) is returned as it is. Called after the close, while the
     * lock is still held.
     */
    public CleanCloses.Entry stamped(CleanCloses.Entry entry) {
        if (entry == null || entry.dirChanged() != 0) {
            return entry;
        }
        CleanCloses.DirectoryStamp before = CleanCloses.DirectoryStamp.settled(dir);
        if (before == null) {
            return entry;
        }
        Segment[] all = segments;
        long[] bases = new long[all.length];
        long[] sizes = new long[all.length];
        for (int i = 0; i < all.length; i++) {
            SegmentSummary summary = all[i].summary();
            bases[i] = all[i].baseOffset();
            sizes[i] = all[i] == active || summary == null ? activeSize : summary.size();
        }
        try {
            if (!PartitionListing.of(config.opener(), dir).holdsExactly(bases, sizes, epoch)) {
                log.debug("{}: the directory holds more or less than the partition's files; the next open lists it",
                        description);
                return entry;
            }
        } catch (IOException e) {
            return entry;
        }
        return before.equals(CleanCloses.DirectoryStamp.of(dir)) ? entry.stamped(before) : entry;
    }

    /** Lets go of the partition's lock after {@link #closeForRecord()}; does nothing if it is released. */
    public void releaseLock() {
        try {
            lock.close();
        } catch (IOException e) {
            log.debug("{}: releasing the lock: {}", description, e.getMessage());
        }
    }

    private CleanCloses.Entry close(boolean forRecord) {
        LogStoreException error = null;
        CleanCloses.Entry entry = null;
        writeLock.lock();
        if (closed) {
            // Closed already (a partition disowned while its store closes): nothing more to let go of.
            writeLock.unlock();
            return null;
        }
        try {
            closed = true;
            if (active == null) {
                // Nothing written since a quiet open: the entry the open used stands, and gets the
                // directory's stamp where the open listed the directory and found it as recorded.
                entry = forRecord && listedAs != null
                        ? config.cleanCloses().restamped(partition, epoch - 1, previousSequence, listedAs) : null;
            } else if (failure == null && manifestUnwritten && activeSize == 0) {
                withdraw();
            } else if (failure == null) {
                try {
                    active.file().releaseReserved(activeSize);
                    active.file().force();
                    durableOffset.accumulateAndGet(nextOffset, Math::max);
                    try {
                        active.writeIndexFiles(activeSize);
                    } catch (IOException e) {
                        log.warn("{}: could not write the index files of {} ({}); the next open rebuilds them",
                                description, active.path(), e.getMessage());
                    }
                    if (!forRecord) {
                        // The clean manifest needs forcing only when none of this epoch is durable yet.
                        commitManifest(startOffset, List.of(segments), true, null, manifestUndurable);
                    } else {
                        // The record completes this epoch's newest manifest, which must be on disk first.
                        makeManifestDurableForClose();
                        entry = CleanCloses.entry(partition, lastManifest, manifests.file(epoch), activeSize,
                                nextOffset, activeMaxTimestamp);
                    }
                } catch (IOException | LogStoreException e) {
                    error = e instanceof LogStoreException lse ? lse : new LogStoreException(description + ": clean "
                            + "shutdown failed: " + e.getMessage() + ". The next open recovers the partition from its "
                            + "files", e);
                }
            } else {
                log.info("{} closed after a failure; the next open recovers it", description);
            }
        } finally {
            for (Segment segment : segments) {
                segment.retire(false);
            }
            if (!forRecord) {
                releaseLock();
            }
            writeLock.unlock();
            appendSignal.signalAll();
        }
        if (error != null) {
            throw error;
        }
        return entry;
    }

    /** At close, under the append lock: forces the rename of the epoch's manifest if it is not yet durable. */
    private void makeManifestDurableForClose() throws IOException {
        if (manifestUndurable) {
            manifests.sync();
            manifestDurable();
        }
    }
}
