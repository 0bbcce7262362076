package dev.logstore;

import dev.logstore.record.Codec;
import dev.logstore.record.Packing;
import dev.logstore.io.FileOpener;
import dev.logstore.log.BatchReads;
import dev.logstore.log.CleanCloses;
import dev.logstore.log.LogConfig;
import dev.logstore.log.LogState;
import dev.logstore.log.PartitionFollower;
import dev.logstore.log.PartitionLog;
import dev.logstore.log.PartitionWriter;
import dev.logstore.record.Record;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.WritableByteChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntFunction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A partitioned, append-only store: a directory with N partitions, each an ordered log of records
 * in segment files. Writers only append; any number of {@linkplain #reader(int) readers} read
 * sequentially while they do. Order is guaranteed within a partition.
 *
 * <pre>{@code
 * try (LogStore store = LogStore.open(Path.of("logs"), 10)) {
 *     AppendResult at = store.append("10084".getBytes(UTF_8), "Hello World!".getBytes(UTF_8));
 *     try (LogReader reader = store.reader(at.partition())) {
 *         for (LogRecord record : reader.poll(100, 1 << 20)) { ... }
 *     }
 * }
 * }</pre>
 *
 * <p>A store handle owns the partitions it opened for writing (an exclusive lock and a writer
 * epoch each, held until {@link #close()}); a second writer on the same partition, in this
 * process or another, gets a {@link StoreLockedException}, and a writer superseded behind its
 * lock's back (a shared filesystem whose locks failed) a {@link WriterFencedException}.
 * Partitions it does not own, or all of them when opened {@linkplain Builder#readOnly()
 * read-only}, can be read while another handle writes them.
 *
 * <p>Thread safety: every method may be called from any thread.
 */
public final class LogStore implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(LogStore.class);

    private final Path dir;
    private final String name;
    private final LogConfig config;
    // Replaced by a longer copy when another handle grows the store; slots of partitions this
    // handle does not own fill in as they open, read-only. Both under partitionsLock.
    private volatile PartitionLog[] partitions;
    private final Object partitionsLock = new Object();
    private Object metadataSeen;
    private final Opening opening;
    private final Object ownership = new Object();
    // Started by the builder, or by the first own() that needs it; under ownership after construction.
    private volatile BackgroundWork background;
    private final AtomicInteger roundRobin = new AtomicInteger();
    private volatile boolean closed;

    /** How the store was opened: what later calls to {@link #own} may do, and what background work it needs. */
    private record Opening(boolean readOnly, boolean grow, Duration flushEvery, Duration retentionEvery,
                           String threadName) {
        boolean needsBackground() {
            return flushEvery != null || retentionEvery != null;
        }
    }

    private LogStore(Path dir, LogConfig config, PartitionLog[] partitions, Opening opening) {
        this.dir = dir;
        this.name = dir.toString();
        this.config = config;
        this.partitions = partitions;
        this.opening = opening;
    }

    /**
     * Creates the store with {@code partitions} partitions, or opens it for writing if it exists
     * with exactly that many, with default settings.
     */
    public static LogStore open(Path dir, int partitions) {
        return builder(dir).partitions(partitions).open();
    }

    /** A builder for the store at {@code dir}, to choose segment, durability and retention settings. */
    public static Builder builder(Path dir) {
        return new Builder(dir);
    }

    /**
     * Keeps every writer out of the store at {@code dir}, in this process and in others, until the
     * returned handle is closed, so that the store can be moved or copied whole: waits up to
     * {@code wait} for writers holding partitions to close them. Writers that try to open a
     * partition meanwhile get a {@link StoreLockedException}. Readers are not kept out.
     *
     * @throws StoreLockedException when a writer still holds a partition after {@code wait}
     * @throws LogStoreException    when {@code dir} holds no store
     */
    public static WritersExcluded excludeWriters(Path dir, Duration wait) {
        return WritersExcluded.acquire(FileOpener.DEFAULT, dir, wait);
    }

    /**
     * Whether {@code dir} holds a store, that is, its metadata file ({@code logstore.properties});
     * does not open it or check its contents.
     */
    public static boolean isStore(Path dir) {
        return Files.isRegularFile(dir.resolve(StoreMetadata.FILE_NAME));
    }

    /** The store directory. */
    public Path directory() {
        return dir;
    }

    /**
     * The number of partitions. It looks at the store's metadata each time (one file status
     * call), so a handle sees partitions another handle added by {@linkplain
     * Builder#growPartitions() growing} the store; it reads those read-only.
     */
    public int partitionCount() {
        return grown().length;
    }

    /** The partitions, longer when another handle grew the store since the last look. */
    private PartitionLog[] grown() {
        Path file = dir.resolve(StoreMetadata.FILE_NAME);
        BasicFileAttributes attributes;
        try {
            attributes = Files.readAttributes(file, BasicFileAttributes.class);
        } catch (IOException e) {
            return partitions; // gone or unreadable now: the partitions known stay readable
        }
        // The metadata is replaced, never edited in place: a new file means it may have changed.
        List<Object> seen = Arrays.asList(attributes.fileKey(), attributes.lastModifiedTime(), attributes.size());
        synchronized (partitionsLock) {
            if (seen.equals(metadataSeen)) {
                return partitions;
            }
            StoreMetadata metadata;
            try {
                metadata = StoreMetadata.read(dir);
            } catch (IOException e) {
                return partitions;
            }
            if (metadata != null && metadata.partitions() > partitions.length) {
                log.debug("Store {}: grew from {} to {} partitions", name, partitions.length, metadata.partitions());
                partitions = Arrays.copyOf(partitions, metadata.partitions());
            }
            metadataSeen = seen;
            return partitions;
        }
    }

    /** The partition a key goes to: see {@link Partitioner}. Null keys are spread round-robin. */
    public int partitionFor(byte[] key) {
        if (key == null) {
            return Math.floorMod(roundRobin.getAndIncrement(), partitions.length);
        }
        return Partitioner.partition(key, partitions.length);
    }

    /**
     * Appends one record, stamped with the current time, to the partition its key hashes to
     * ({@link #partitionFor(byte[])}).
     */
    public AppendResult append(byte[] key, byte[] payload) {
        return append(Record.of(key, payload));
    }

    /** Appends one record to the partition its key hashes to. */
    public AppendResult append(Record record) {
        return writer(partitionFor(record.key())).append(List.of(record), -1, null);
    }

    /** Appends records, as one batch, to {@code partition} at the next offsets. */
    public AppendResult append(int partition, List<Record> records) {
        return writer(partition).append(checkRecords(records), -1, null);
    }

    /**
     * Appends records, as one batch, with consecutive offsets from {@code firstOffset}, which must
     * be at least the partition's next offset: the offsets in between are never used (a gap).
     */
    public AppendResult append(int partition, long firstOffset, List<Record> records) {
        if (firstOffset < 0) {
            throw new IllegalArgumentException(name + ": first offset " + firstOffset + " is negative");
        }
        return writer(partition).append(checkRecords(records), firstOffset, null);
    }

    /**
     * Appends records, as one batch, each at its own offset: {@code offsets} strictly increasing,
     * the first at least the partition's next offset, all within {@code Integer.MAX_VALUE} of
     * each other. This keeps another system's offsets, gaps included.
     */
    public AppendResult append(int partition, long[] offsets, List<Record> records) {
        Objects.requireNonNull(offsets, "offsets");
        if (offsets.length > 0 && offsets[0] < 0) {
            throw new IllegalArgumentException(name + ": offset " + offsets[0] + " is negative");
        }
        return writer(partition).append(checkRecords(records), -1, offsets);
    }

    private List<Record> checkRecords(List<Record> records) {
        Objects.requireNonNull(records, "records");
        for (Record record : records) {
            Objects.requireNonNull(record, "records must not contain null");
        }
        return records;
    }

    /**
     * Fills {@code buffer}, from its position, with whole batches: first the one holding
     * {@code offset} (or the first after it, if the offset fell in a gap), then as many following
     * batches of the same segment as fit. Decode them with
     * {@link dev.logstore.record.RecordDecoder}. The first batch may start before {@code offset}
     * (a batch is never split): skip records below it. Bytes of the buffer past the returned count
     * may be overwritten.
     *
     * @return the number of bytes added; 0 when nothing is stored at or after {@code offset}
     * @throws BufferTooSmallException   when the buffer cannot hold the first batch
     * @throws OffsetOutOfRangeException when {@code offset} is below the partition's start offset
     */
    public int read(int partition, long offset, ByteBuffer buffer) {
        Objects.requireNonNull(buffer, "buffer must not be null");
        return BatchReads.read(partition(partition), offset, buffer);
    }

    /**
     * Sends whole batches from {@code offset} on to {@code target} with
     * {@link java.nio.channels.FileChannel#transferTo} (zero copy where the OS allows): at most
     * {@code maxBytes} of them, but at least the first whole batch so a caller always progresses.
     *
     * @return bytes sent; 0 when nothing is stored at or after {@code offset}
     */
    public long transferTo(int partition, long offset, long maxBytes, WritableByteChannel target) {
        return transfer(partition, offset, maxBytes, target).bytes();
    }

    /**
     * Like {@link #transferTo}, and also returns where to continue, so a zero-copy sender can
     * stream a partition without decoding anything. A non-blocking target may take only part of
     * a batch; continue with {@link #transfer(int, Transfer, long, WritableByteChannel)}.
     */
    public Transfer transfer(int partition, long offset, long maxBytes, WritableByteChannel target) {
        Objects.requireNonNull(target, "target channel must not be null");
        return transferred(BatchReads.transfer(partition(partition), offset, 0, maxBytes, target, null));
    }

    /**
     * Continues a transfer where {@code previous} stopped, also in the middle of a batch that a
     * non-blocking target took only part of: the rest of that batch is sent first, then whole
     * batches, at most about {@code maxBytes} in all.
     *
     * <p>Where {@code previous} ended in a gap of offsets (a compacted topic, transaction
     * markers), finding where to go on steps over the gap. A transfer from an offset in a gap
     * reads the batch before it again to check its checksum, since a damaged header there could
     * hide records; the continuation skips that read for the batch {@code previous} itself sent
     * whole: a transfer of this partition by this store as opened, of a batch in the same segment
     * (base offset and writer epoch), with the same end in its file and stored checksum, ending at
     * the offset named. Its receiver has those bytes as stored and checks them. Any other batch
     * before the gap is checked as always, also when {@code previous} came from another
     * partition, another store, this store before it was opened again, or a segment that a
     * writer taking over made anew with the same base offset.
     */
    public Transfer transfer(int partition, Transfer previous, long maxBytes, WritableByteChannel target) {
        Objects.requireNonNull(previous, "previous transfer must not be null");
        Objects.requireNonNull(target, "target channel must not be null");
        return transferred(BatchReads.transfer(partition(partition), previous.nextOffset(),
                previous.nextBatchBytesSent(), maxBytes, target, previous.lastSent()));
    }

    private static Transfer transferred(BatchReads.Sent sent) {
        return new Transfer(sent.bytes(), sent.nextOffset(), sent.nextBatchBytesSent(), sent.last());
    }

    /** A new reader of {@code partition}, positioned at its start offset. Close it when done. */
    public LogReader reader(int partition) {
        return new LogReader(partition(partition));
    }

    public PartitionInfo partitionInfo(int partition) {
        return partition(partition).info();
    }

    /**
     * The bytes {@code partition}'s batches take as stored against their records' bytes unpacked
     * (see {@link StoredBytes}). Reads every batch header: about one read per 4 KiB of small
     * batches, one per batch of large ones.
     *
     * @throws CorruptLogException when a batch header is damaged
     */
    public StoredBytes storedBytes(int partition) {
        return partition(partition).storedBytes();
    }

    public List<PartitionInfo> partitionInfos() {
        int count = partitionCount();
        List<PartitionInfo> infos = new ArrayList<>(count);
        for (int p = 0; p < count; p++) {
            infos.add(partition(p).info());
        }
        return infos;
    }

    /**
     * The offset the next record appended to {@code partition} gets, at the least: one past the
     * last record stored.
     *
     * @throws CorruptLogException when a read-only view finds damaged bytes where its valid data
     *                             ends, so that the true end is unknown
     */
    public long nextOffset(int partition) {
        PartitionLog partitionLog = partition(partition);
        partitionLog.refresh();
        LogState state = partitionLog.state();
        state.checkDamage();
        return state.nextOffset();
    }

    /** The lowest readable offset of {@code partition}: offsets below it were removed, or never written. */
    public long startOffset(int partition) {
        return partition(partition).state().startOffset();
    }

    /** True when this handle may append to {@code partition}. */
    public boolean isWritable(int partition) {
        return partition(partition).writable();
    }

    /**
     * Forces everything appended to every owned partition to disk; returns when it is there.
     *
     * @throws PartitionFailedException when a partition stopped taking appends after a failure
     *                                  (a {@link WriterFencedException} when another writer took
     *                                  it over): what it holds was not all made durable
     */
    public void flush() {
        checkOpen();
        List<PartitionWriter> writers = writers();
        Parallel.forEach("logstore-flush-" + dir.getFileName(), writers.size(), i -> writers.get(i).flush());
    }

    /** Forces everything appended to {@code partition} to disk; see {@link #flush()}. */
    public void flush(int partition) {
        PartitionLog partitionLog = partition(partition);
        if (partitionLog instanceof PartitionWriter writer) {
            writer.flush();
        }
    }

    /** Applies the retention limits now; returns the number of segments deleted. */
    public int enforceRetention() {
        checkOpen();
        int deleted = 0;
        long now = System.currentTimeMillis();
        for (PartitionWriter writer : writers()) {
            deleted += writer.enforceRetention(now);
        }
        return deleted;
    }

    /**
     * Opens {@code partition} for writing through this handle: takes its lock and a new writer
     * epoch, recovers it, and starts a new segment, as opening the store with it among its
     * {@linkplain Builder#ownedPartitions owned partitions} would. A store opened with
     * {@link Builder#growPartitions()} grows to hold the partition. Does nothing for a partition
     * this handle already writes. Readers of the partition through this handle must be opened
     * again afterwards.
     *
     * @throws StoreLockedException when another writer has the partition
     */
    public void own(int partition) {
        checkOpen();
        if (opening.readOnly()) {
            throw new LogStoreException("Store " + name + " is open read-only; open it for writing to own partitions");
        }
        if (partition < 0) {
            throw new IllegalArgumentException("Store " + name + ": partition " + partition + " is negative");
        }
        synchronized (ownership) {
            checkOpen();
            if (partition < partitions.length && partitions[partition] instanceof PartitionWriter) {
                return;
            }
            if (partition >= partitionCount()) {
                if (!opening.grow()) {
                    throw new IllegalArgumentException("Store " + name + " has partitions 0 to " + (partitionCount() - 1)
                            + "; there is no partition " + partition + " to own. Open the store with growPartitions() "
                            + "to add it");
                }
                StoreMetadata.grow(config.opener(), dir, partition + 1);
                grown();
            }
            PartitionWriter writer = PartitionWriter.open(name, partition, dir.resolve(partitionDirectoryName(partition)),
                    config);
            PartitionLog replaced;
            synchronized (partitionsLock) {
                replaced = partitions[partition];
                partitions[partition] = writer;
            }
            if (replaced != null) {
                replaced.close();
            }
            if (background == null && opening.needsBackground()) {
                background = BackgroundWork.start(opening.threadName(), name, this::writers, opening.flushEvery(),
                        opening.retentionEvery());
            }
        }
    }

    /**
     * Closes this handle's writer of {@code partition} cleanly (forced, manifest marked clean) and
     * lets go of its lock, so another writer can take it; the partition stays readable here.
     * Does nothing for a partition this handle does not write.
     */
    public void disown(int partition) {
        synchronized (ownership) {
            PartitionLog current;
            synchronized (partitionsLock) {
                if (partition < 0 || partition >= partitions.length
                        || !(partitions[partition] instanceof PartitionWriter)) {
                    return;
                }
                current = partitions[partition];
                partitions[partition] = null;
            }
            current.close();
        }
    }

    private PartitionWriter writer(int partition) {
        PartitionLog partitionLog = partition(partition);
        if (partitionLog instanceof PartitionWriter writer) {
            return writer;
        }
        throw new LogStoreException(partitionLog.description() + " is open read-only; open the store for writing (or "
                + "own this partition) to append");
    }

    private PartitionLog partition(int partition) {
        checkOpen();
        PartitionLog[] logs = partitions;
        if (partition >= logs.length) {
            logs = grown();
        }
        if (partition < 0 || partition >= logs.length) {
            throw new IllegalArgumentException("Store " + name + " has partitions 0 to " + (logs.length - 1)
                    + "; there is no partition " + partition);
        }
        PartitionLog partitionLog = logs[partition];
        if (partitionLog != null) {
            return partitionLog;
        }
        // Read-only partitions open on first use: a handle that owns one partition of a large
        // store pays nothing for the others.
        synchronized (partitionsLock) {
            checkOpen();
            logs = partitions;
            if (logs[partition] == null) {
                logs[partition] = PartitionFollower.open(name, partition,
                        dir.resolve(partitionDirectoryName(partition)), config);
            }
            return logs[partition];
        }
    }

    /** The partitions this handle writes. */
    List<PartitionWriter> writers() {
        List<PartitionWriter> writers = new ArrayList<>();
        for (PartitionLog partitionLog : openPartitions()) {
            if (partitionLog instanceof PartitionWriter writer) {
                writers.add(writer);
            }
        }
        return writers;
    }

    /** The partitions opened so far (all owned ones, and read-only ones once used). */
    private List<PartitionLog> openPartitions() {
        synchronized (partitionsLock) {
            List<PartitionLog> open = new ArrayList<>(partitions.length);
            for (PartitionLog partitionLog : partitions) {
                if (partitionLog != null) {
                    open.add(partitionLog);
                }
            }
            return open;
        }
    }

    private void checkOpen() {
        if (closed) {
            throw new LogStoreException("Store " + name + " is closed");
        }
    }

    /**
     * Flushes and closes every partition, then records where each owned partition's active segment
     * ended in the store's {@code clean-close} file, so the next open needs no recovery scan: one
     * fsync per partition and one for them all. The partitions' locks are let go of after that
     * record. Open readers fail on their next call.
     */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        List<PartitionLog> open = openPartitions();
        closed = true;
        BackgroundWork work = background;
        if (work != null) {
            work.close();
        }
        // Each writer forces its segment, in parallel rather than one after another; where each
        // active segment ended then goes into one clean-close record for them all.
        CleanCloses.Entry[] ends = new CleanCloses.Entry[open.size()];
        long[] segments = new long[open.size()];
        try {
            Parallel.forEach("logstore-close-" + dir.getFileName(), open.size(), i -> {
                if (open.get(i) instanceof PartitionWriter writer) {
                    segments[i] = writer.state().segmentCount();
                    ends[i] = writer.closeForRecord();
                } else {
                    open.get(i).close();
                }
            });
        } finally {
            // Also after a failed partition: the others closed cleanly. Written while the writers
            // still hold their locks, so no writer, and no move of the store, comes in between.
            List<CleanCloses.Entry> closed = new ArrayList<>();
            long closedSegments = 0;
            for (int i = 0; i < ends.length; i++) {
                if (ends[i] != null) {
                    closed.add(ends[i]);
                    closedSegments += segments[i];
                }
            }
            IntFunction<Path> partitionDirs = p -> dir.resolve(partitionDirectoryName(p));
            boolean interrupted = false;
            try {
                // Each writer that closed takes its directory's stamp, where the directory holds
                // exactly its files, once the changes the close made have settled.
                interrupted = CleanCloses.awaitSettled(closed, partitionDirs, closedSegments);
                if (!interrupted && !Thread.currentThread().isInterrupted()) {
                    List<PartitionWriter> stamping = new ArrayList<>();
                    for (int i = 0; i < ends.length; i++) {
                        if (ends[i] != null) {
                            stamping.add((PartitionWriter) open.get(i));
                        }
                    }
                    CleanCloses.Entry[] stamped = closed.toArray(new CleanCloses.Entry[0]);
                    Parallel.forEach("logstore-close-" + dir.getFileName(), stamped.length,
                            i -> stamped[i] = stamping.get(i).stamped(stamped[i]));
                    closed = List.of(stamped);
                }
            } catch (RuntimeException e) {
                log.debug("Store {}: directory stamps not taken ({}); the next open lists the directories", name,
                        e.getMessage());
            }
            try {
                config.cleanCloses().record(closed, partitionDirs);
            } catch (IOException | RuntimeException e) {
                log.warn("Store {}: cannot write {} ({}); its partitions are durable, and the next open scans their "
                        + "active segments as after a crash", name, dir.resolve(CleanCloses.FILE_NAME),
                        e.getMessage());
            } finally {
                for (PartitionLog partitionLog : open) {
                    if (partitionLog instanceof PartitionWriter writer) {
                        writer.releaseLock();
                    }
                }
                config.encoders().close(); // the codecs' native contexts
                if (interrupted) {
                    Thread.currentThread().interrupt(); // kept through the record's write
                }
            }
        }
    }

    @Override
    public String toString() {
        return "LogStore[" + name + ", " + partitions.length + " partitions]";
    }

    /**
     * Options for opening a store. Defaults: 1 GiB segments rolled at least every 7 days, an index
     * entry every 4 KiB, fsync every second ({@link Durability#interval}), no retention limits,
     * {@link CorruptionPolicy#FAIL}.
     */
    public static final class Builder {

        private final Path dir;
        private int partitions;
        private boolean growPartitions;
        private boolean readOnly;
        private Set<Integer> owned;
        private long segmentBytes = 1L << 30;
        private Duration segmentAge = Duration.ofDays(7);
        private int indexIntervalBytes = 4096;
        private Durability durability = Durability.interval(Duration.ofSeconds(1));
        private Duration retentionAge;
        private long retentionBytes = -1;
        private Duration retentionCheckInterval = Duration.ofMinutes(5);
        private CorruptionPolicy corruptionPolicy = CorruptionPolicy.FAIL;
        private FileOpener opener = FileOpener.DEFAULT;
        private String threadName;
        private int maxOpenFiles;
        private long maxIndexMemory = -1;
        private dev.logstore.segment.IndexMemory indexMemory;
        private Codec codec = Codec.NONE;
        private int compressionLevel;
        private KeyProvider keys;
        private KeyProvider encryptionKeys;
        private String encryptionKeyId;
        private javax.crypto.SecretKey encryptionKey;
        private boolean mappedAppends;

        private Builder(Path dir) {
            this.dir = Objects.requireNonNull(dir, "store directory must not be null").toAbsolutePath().normalize();
        }

        /**
         * Partition count: required to create a store; when the store exists it must match (or
         * be 0, meaning "as stored"), unless {@link #growPartitions()} allows more.
         */
        public Builder partitions(int partitions) {
            if (partitions < 0) {
                throw new IllegalArgumentException("partition count " + partitions + " must be positive");
            }
            this.partitions = partitions;
            return this;
        }

        /** Lets an existing store with fewer partitions grow to the requested count. */
        public Builder growPartitions() {
            this.growPartitions = true;
            return this;
        }

        /** Opens every partition read-only: no lock, no recovery, follows a live writer. */
        public Builder readOnly() {
            this.readOnly = true;
            return this;
        }

        /**
         * Opens only these partitions for writing (locking each); the others are read-only.
         * By default a writable store owns all partitions.
         */
        public Builder ownedPartitions(Collection<Integer> partitions) {
            this.owned = Set.copyOf(partitions);
            return this;
        }

        /** Roll to a new segment before the active one would pass this size (at least 1 KiB, at most 2 GiB). */
        public Builder segmentBytes(long bytes) {
            if (bytes < 1024 || bytes > Integer.MAX_VALUE) {
                throw new IllegalArgumentException("segment size " + bytes + " must be between 1024 and "
                        + Integer.MAX_VALUE + " bytes");
            }
            this.segmentBytes = bytes;
            return this;
        }

        /** Roll a non-empty active segment this long after its first append. */
        public Builder segmentAge(Duration age) {
            this.segmentAge = positive(age, "segment age");
            return this;
        }

        /** Bytes between two entries of the sparse offset index. */
        public Builder indexIntervalBytes(int bytes) {
            if (bytes < 1) {
                throw new IllegalArgumentException("index interval " + bytes + " must be positive");
            }
            this.indexIntervalBytes = bytes;
            return this;
        }

        public Builder durability(Durability durability) {
            this.durability = Objects.requireNonNull(durability, "durability");
            return this;
        }

        /** Delete sealed segments whose newest record is older than this (null keeps everything). */
        public Builder retentionAge(Duration age) {
            this.retentionAge = age == null ? null : positive(age, "retention age");
            return this;
        }

        /** Delete the oldest sealed segments while a partition is larger than this (-1 keeps everything). */
        public Builder retentionBytes(long bytes) {
            if (bytes < -1) {
                throw new IllegalArgumentException("retention bytes " + bytes + " must be -1 (unlimited) or more");
            }
            this.retentionBytes = bytes;
            return this;
        }

        /** How often the background thread applies retention (also applied at every roll). */
        public Builder retentionCheckInterval(Duration interval) {
            this.retentionCheckInterval = positive(interval, "retention check interval");
            return this;
        }

        public Builder corruptionPolicy(CorruptionPolicy policy) {
            this.corruptionPolicy = Objects.requireNonNull(policy, "corruption policy");
            return this;
        }

        /**
         * Name of the store's background thread (durability interval and retention), to tell it
         * apart from other stores' in thread dumps; default {@code logstore-background-<dir name>}.
         */
        public Builder threadName(String name) {
            this.threadName = Objects.requireNonNull(name, "thread name");
            return this;
        }

        /**
         * Most segment files the store keeps open at once, read and write channels alike: beyond
         * that the least recently used are closed (a write channel forced first) and opened again
         * when next used. By default every store of the process shares one such cap, half the
         * process's descriptor limit, so thousands of partitions open and take appends under any
         * {@code ulimit -n}. Besides these, a store holds one descriptor for its partition locks
         * while it writes.
         */
        public Builder maxOpenFiles(int files) {
            if (files < 2) {
                throw new IllegalArgumentException("at least two open files must be allowed (one to write, one to "
                        + "read), not " + files);
            }
            this.maxOpenFiles = files;
            return this;
        }

        /**
         * Most heap, in bytes, that sealed segments' indexes may hold at once: beyond that the
         * least recently used are dropped and loaded again from their files when next needed. The
         * offset and time indexes take about 5 MiB per GiB of log at the default index interval,
         * so without a cap an archive read end to end would keep them all. By default every store
         * of the process shares one cap of 32 MiB; 0 keeps no sealed segment's indexes between
         * reads. Active segments' indexes are not counted: each keeps at most two pages of each
         * index in memory (about 20 KiB), however large the segment grows.
         */
        public Builder maxIndexMemory(long bytes) {
            if (bytes < 0) {
                throw new IllegalArgumentException("index memory cap " + bytes + " must not be negative");
            }
            this.maxIndexMemory = bytes;
            return this;
        }

        /**
         * Copies small batches (up to 32 KiB encoded) into a memory map of the active segment
         * instead of writing each with a system call: single-record appends run several times
         * faster, at the speed of memory-mapped queues. Readers, in this process and others, see
         * each batch as soon as its append returns, and {@link Durability} holds as with plain
         * writes (an fsync of the file covers what was written through the map). On Linux only,
         * where the map is the page cache readers read: elsewhere every batch is written.
         *
         * <p>What it costs: the file of each segment being written is extended with zeros ahead of
         * its data (16 KiB at first, growing with the segment to 4 MiB), so that a full disk fails
         * that write, as a plain append would, rather than a store into the map. A seal or clean
         * close cuts the zeros off, and recovery after a crash cuts what is left. On a
         * copy-on-write filesystem (btrfs, ZFS), where overwriting zeros needs new space, a full
         * disk can still fault a store into the map: the append then fails and the partition stops,
         * as for any failed write. Default off.
         */
        public Builder mappedAppends(boolean mapped) {
            this.mappedAppends = mapped;
            return this;
        }

        /**
         * Compresses every batch appended from now on with {@code codec} at its default level.
         * Each batch records its own codec, so this may change over a store's life: readers take
         * any mix. A batch the codec does not make smaller is stored as it is. Default
         * {@link Codec#NONE}.
         */
        public Builder compression(Codec codec) {
            return compression(codec, 0);
        }

        /**
         * Like {@link #compression(Codec)}, at {@code level} (zstd: 1 to 22; 0 for the codec's default).
         *
         * @throws IllegalArgumentException when the codec takes no such level
         */
        public Builder compression(Codec codec, int level) {
            Objects.requireNonNull(codec, "codec");
            Packing.compressed(codec, level); // checks the level
            this.codec = codec;
            this.compressionLevel = level;
            return this;
        }

        /**
         * Encrypts every batch appended from now on with AES-256-GCM under the key {@code keyId}
         * of {@code keys}, which also decrypt what readers of this store read (so a store whose
         * keys rotated reads its older batches as long as {@code keys} still holds theirs). The
         * batch headers (offsets, timestamps, counts, sizes) stay in the clear, so seeks,
         * retention, statistics and verification work without keys; see FORMAT.md.
         *
         * @throws LogStoreException when {@code keys} has no AES-256 key {@code keyId}
         */
        public Builder encryption(KeyProvider keys, String keyId) {
            Objects.requireNonNull(keys, "keys");
            Keys.checkId(keyId, "the encryption settings");
            javax.crypto.SecretKey key = keys.key(keyId);
            if (key == null) {
                throw new LogStoreException("The keys given hold no key '" + keyId + "' to encrypt with: add it, or "
                        + "name one they hold");
            }
            byte[] encoded = key.getEncoded();
            if (encoded == null || encoded.length != Keys.KEY_BYTES) {
                throw new LogStoreException("Key '" + keyId + "' is not an AES-256 key (32 bytes)");
            }
            this.encryptionKeys = keys;
            this.encryptionKeyId = keyId;
            this.encryptionKey = key;
            return this;
        }

        /**
         * Decrypts encrypted batches with {@code keys} (a read-only view of an encrypted store,
         * or a writer that reads batches of keys it no longer encrypts with). Without keys an
         * encrypted batch fails to read with an {@link EncryptionKeyException} naming its key id.
         */
        public Builder keys(KeyProvider keys) {
            this.keys = Objects.requireNonNull(keys, "keys");
            return this;
        }


        /** Counts index memory against {@code memory}: a seam for tests that watch it. */
        Builder indexMemory(dev.logstore.segment.IndexMemory memory) {
            this.indexMemory = Objects.requireNonNull(memory, "index memory");
            return this;
        }

        /** Opens every file through {@code opener}: a seam for tests that inject I/O failures. */
        Builder fileOpener(FileOpener opener) {
            this.opener = Objects.requireNonNull(opener, "opener");
            return this;
        }

        private static Duration positive(Duration duration, String what) {
            Objects.requireNonNull(duration, what);
            if (duration.isNegative() || duration.isZero()) {
                throw new IllegalArgumentException(what + " " + duration + " must be positive");
            }
            return duration;
        }

        /**
         * The keys reads decrypt with: the one new batches are encrypted with, then those of
         * {@link #keys}, then the others of the provider given to {@link #encryption}.
         */
        private KeyProvider readKeys() {
            if (encryptionKey == null) {
                return keys;
            }
            KeyProvider given = keys;
            KeyProvider encrypting = encryptionKeys;
            String id = encryptionKeyId;
            javax.crypto.SecretKey key = encryptionKey;
            return keyId -> {
                if (id.equals(keyId)) {
                    return key;
                }
                javax.crypto.SecretKey found = given == null ? null : given.key(keyId);
                return found != null ? found : encrypting.key(keyId);
            };
        }

        private Packing packing() {
            Packing packing = Packing.compressed(codec, compressionLevel);
            return encryptionKey == null ? packing : packing.encryptedWith(encryptionKeyId, encryptionKey);
        }

        /** Opens (or creates) the store. */
        public LogStore open() {
            LogConfig config = new LogConfig(segmentBytes, segmentAge.toMillis(), indexIntervalBytes, durability,
                    retentionAge == null ? -1 : retentionAge.toMillis(), retentionBytes, corruptionPolicy, opener,
                    new dev.logstore.log.Encoders(packing()), readKeys(), maxOpenFiles > 0 ? new dev.logstore.segment.OpenFiles(maxOpenFiles)
                    : dev.logstore.segment.OpenFiles.shared(),
                    indexMemory != null ? indexMemory : maxIndexMemory >= 0
                    ? new dev.logstore.segment.IndexMemory(maxIndexMemory) : dev.logstore.segment.IndexMemory.shared(),
                    mappedAppends, new CleanCloses(dir, opener));
            StoreMetadata metadata = resolveMetadata();
            if (owned != null) {
                for (int p : owned) {
                    if (p < 0 || p >= metadata.partitions()) {
                        throw new IllegalArgumentException("Store " + dir + " has partitions 0 to "
                                + (metadata.partitions() - 1) + "; cannot own partition " + p);
                    }
                }
            }
            PartitionLog[] logs = new PartitionLog[metadata.partitions()];
            boolean anyWritable = false;
            try {
                List<Integer> toOpen = new ArrayList<>();
                for (int p = 0; p < logs.length; p++) {
                    if (!readOnly && (owned == null || owned.contains(p))) {
                        toOpen.add(p);
                    }
                }
                anyWritable = !toOpen.isEmpty();
                // Recovery and the first manifest of each partition are fsyncs: in parallel.
                Parallel.forEach("logstore-open-" + dir.getFileName(), toOpen.size(), i -> {
                    int p = toOpen.get(i);
                    logs[p] = PartitionWriter.open(dir.toString(), p, dir.resolve(partitionDirectoryName(p)), config);
                });
            } catch (Throwable e) {
                // An Error too: whatever was opened must let go of its locks.
                for (PartitionLog opened : logs) {
                    if (opened != null) {
                        try {
                            opened.close();
                        } catch (RuntimeException suppressed) {
                            e.addSuppressed(suppressed);
                        }
                    }
                }
                throw e;
            }
            boolean flushes = durability.mode() == Durability.Mode.INTERVAL;
            boolean retains = retentionAge != null || retentionBytes >= 0;
            Opening opening = new Opening(readOnly, growPartitions, flushes ? durability.interval() : null,
                    retains ? retentionCheckInterval : null,
                    threadName != null ? threadName : "logstore-background-" + dir.getFileName());
            LogStore store = new LogStore(dir, config, logs, opening);
            if (anyWritable && opening.needsBackground()) {
                store.background = BackgroundWork.start(opening.threadName(), dir.toString(), store::writers,
                        opening.flushEvery(), opening.retentionEvery());
            }
            return store;
        }

        private StoreMetadata resolveMetadata() {
            try {
                if (readOnly) {
                    StoreMetadata metadata = StoreMetadata.read(dir);
                    if (metadata == null) {
                        throw new LogStoreException("No LogStore at " + dir + " (no " + StoreMetadata.FILE_NAME
                                + "); check the path");
                    }
                    return checkCount(metadata);
                }
                if (Files.exists(dir) && !Files.isDirectory(dir)) {
                    throw new LogStoreException("Cannot open store " + dir + ": it is a file, not a directory");
                }
                Files.createDirectories(dir);
                return StoreMetadata.locked(opener, dir, () -> {
                    StoreMetadata existing = StoreMetadata.read(dir);
                    if (existing == null) {
                        if (partitions == 0) {
                            throw new LogStoreException("No LogStore at " + dir + " yet; give a partition count to "
                                    + "create one");
                        }
                        return create(partitions);
                    }
                    if (growPartitions && partitions > existing.partitions()) {
                        log.info("Store {}: growing from {} to {} partitions", dir, existing.partitions(), partitions);
                        return create(partitions);
                    }
                    checkCount(existing);
                    if (existing.formatVersion() < StoreMetadata.FORMAT_VERSION) {
                        log.info("Store {}: upgrading from format version {} to {}", dir, existing.formatVersion(),
                                StoreMetadata.FORMAT_VERSION);
                        existing.upgraded().write(dir);
                    }
                    return existing;
                });
            } catch (IOException e) {
                throw new LogStoreException("Cannot open store " + dir + ": " + e.getMessage()
                        + ". Check that the directory exists and is writable", e);
            }
        }

        private StoreMetadata create(int count) throws IOException {
            StoreMetadata metadata = new StoreMetadata(StoreMetadata.FORMAT_VERSION, count, StoreMetadata.PARTITIONER);
            for (int p = 0; p < count; p++) {
                Files.createDirectories(dir.resolve(partitionDirectoryName(p)));
            }
            metadata.write(dir);
            return metadata;
        }

        private StoreMetadata checkCount(StoreMetadata metadata) {
            if (partitions != 0 && partitions != metadata.partitions()
                    && !(growPartitions && partitions < metadata.partitions())) {
                throw new LogStoreException("Store " + dir + " has " + metadata.partitions() + " partitions but was opened "
                        + "with " + partitions + "; open it with " + metadata.partitions() + " (or 0 to use the stored "
                        + "count)" + (partitions > metadata.partitions() ? ", or allow growPartitions()" : ""));
            }
            return metadata;
        }
    }

    /** Name of a partition's directory inside the store: {@code partition-N}. */
    public static String partitionDirectoryName(int partition) {
        return "partition-" + partition;
    }
}
