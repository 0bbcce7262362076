package dev.logstore.segment;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A cap on the heap that sealed segments' indexes hold, so that reading an archive end to end
 * costs memory in proportion to what is being read, not to how much was ever read. A sealed
 * segment's indexes are loaded from their files on first use; once the loaded indexes of all
 * segments pass the cap, others are dropped, chosen by a clock (an index used since the last
 * sweep gets a second chance), and loaded again when next needed. Dropping is always safe: a
 * reader that holds an index keeps it for as long as it uses it, and the index files stay.
 *
 * <p>Active segments' indexes are not counted: every append adds to them, and each holds at most
 * two pages of each index in memory, moving older ones out (see
 * {@link dev.logstore.index.PageSpill}). They join the count when their segment is sealed, unless
 * pages moved out: then the sealed segment's indexes are loaded from its files when next needed.
 *
 * <p>{@link #shared()} is the cap every store uses unless its builder gives it one of its own.
 */
public final class IndexMemory {

    /** The default cap: 32 MiB, the indexes of about 6 GiB of log at the default index interval. */
    public static final long DEFAULT_MAX_BYTES = 32L << 20;

    /** A segment whose indexes the cap may drop; {@link #live()} while it holds loaded indexes. */
    abstract static class Holder extends ClockQueue.Entry {
        /**
         * Drops the indexes if it may.
         *
         * @param hard false on the first sweep: keep indexes used since the last one
         * @return the bytes freed; 0 when kept (ask again later); -1 when none are held (the entry is stale)
         */
        abstract long drop(boolean hard);
    }

    private static volatile IndexMemory shared;

    private final long max;
    private final ClockQueue<Holder> queue = new ClockQueue<>();
    private final AtomicLong bytes = new AtomicLong();
    private final AtomicLong dropped = new AtomicLong();
    /** Holders holding indexes now. */
    private final AtomicInteger holding = new AtomicInteger();

    /** A cap of {@code maxBytes} on loaded indexes. */
    public IndexMemory(long maxBytes) {
        if (maxBytes < 0) {
            throw new IllegalArgumentException("index memory cap " + maxBytes + " must not be negative");
        }
        this.max = maxBytes;
    }

    /** The process-wide cap, {@link #DEFAULT_MAX_BYTES}. */
    public static IndexMemory shared() {
        IndexMemory memory = shared;
        if (memory == null) {
            synchronized (IndexMemory.class) {
                memory = shared;
                if (memory == null) {
                    memory = new IndexMemory(DEFAULT_MAX_BYTES);
                    shared = memory;
                }
            }
        }
        return memory;
    }

    /** The cap in bytes. */
    public long max() {
        return max;
    }

    /** Bytes of sealed segments' indexes held now (an estimate of their heap). */
    public long bytes() {
        return bytes.get();
    }

    /** Segments the cap keeps track of: those holding indexes and stale ones not yet swept out. */
    public int tracked() {
        return queue.size();
    }

    /** How many times indexes were dropped to stay under the cap. */
    public long drops() {
        return dropped.get();
    }

    /**
     * Counts in {@code size} bytes of indexes just loaded for (or sealed with) {@code holder},
     * dropping others while the cap is passed. Never call it holding a lock that
     * {@link Holder#drop} takes.
     */
    void loaded(Holder holder, long size) {
        holding.incrementAndGet();
        queue.offer(holder);
        if (bytes.addAndGet(size) > max) {
            evict();
        }
    }

    /**
     * Counts out {@code size} bytes of indexes let go of other than by the cap (their segment
     * closed or deleted). The holder stays queued, stale, until a sweep drops it (see
     * {@link ClockQueue}), so closed stores leave nothing behind.
     */
    void released(long size) {
        bytes.addAndGet(-size);
        queue.sweepIfStale(holding.decrementAndGet());
    }

    private void evict() {
        // A soft sweep over everything queued, then a hard one: this thread's own new indexes may
        // go too (it holds them for its read), so the count never stays above the cap.
        for (int sweep = 0; sweep < 2 && bytes.get() > max; sweep++) {
            boolean hard = sweep > 0;
            int budget = queue.size();
            while (bytes.get() > max && budget-- > 0) {
                Holder holder = queue.poll();
                if (holder == null) {
                    return;
                }
                long freed = holder.drop(hard);
                if (freed > 0) {
                    bytes.addAndGet(-freed);
                    holding.decrementAndGet();
                    dropped.incrementAndGet();
                } else if (freed == 0) {
                    queue.offer(holder);
                }
            }
        }
    }
}
