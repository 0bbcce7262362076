package dev.logstore.segment;

import java.lang.management.ManagementFactory;
import java.lang.management.OperatingSystemMXBean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A cap on the segment files held open, read and write channels alike, so the descriptors a
 * process holds follow what is being read and written, not how many partitions and segments
 * exist. When opening a channel passes the cap, others are closed, chosen by a clock: a channel
 * used since the last sweep gets a second chance, and a write channel with unforced writes is
 * taken only when nothing else can be (it is forced before it is closed). Closing one is always
 * safe: its user opens it again when it next needs it (see {@link SegmentFile}).
 *
 * <p>{@link #shared()} is the pool every store uses unless its builder gives it one of its own:
 * the descriptor limit is the process's, so the cap is too.
 */
public final class OpenFiles {

    /** What a slot did when asked to close its channel. */
    enum Eviction {
        /** Closed it (and counted itself out). */
        CLOSED,
        /** Kept it (in use, used recently, or holding unforced writes); ask again later. */
        KEPT,
        /** Its channel was closed already; the slot is stale. */
        GONE
    }

    /** One open channel the pool may close; {@link #live()} is false once it is closed by other means. */
    abstract static class Slot extends ClockQueue.Entry {
        /**
         * Closes the channel if it may.
         *
         * @param hard false on the first sweep: keep recently used and unforced channels
         */
        abstract Eviction evict(boolean hard);
    }

    private static final int DEFAULT_WHEN_UNKNOWN = 4096;
    private static volatile OpenFiles shared;

    private final int max;
    private final ClockQueue<Slot> slots = new ClockQueue<>();
    private final AtomicInteger open = new AtomicInteger();

    /** A pool of at most {@code max} open files. */
    public OpenFiles(int max) {
        if (max < 2) {
            throw new IllegalArgumentException("at least two open files must be allowed (one to write, one to read), "
                    + "not " + max);
        }
        this.max = max;
    }

    /**
     * The process-wide pool: half the process's descriptor limit (the rest is left to sockets,
     * jars and everything else the process opens), or 4096 where the limit is unknown.
     */
    public static OpenFiles shared() {
        OpenFiles pool = shared;
        if (pool == null) {
            synchronized (OpenFiles.class) {
                pool = shared;
                if (pool == null) {
                    pool = new OpenFiles(defaultLimit());
                    shared = pool;
                }
            }
        }
        return pool;
    }

    static int defaultLimit() {
        try {
            OperatingSystemMXBean os = ManagementFactory.getOperatingSystemMXBean();
            if (os instanceof com.sun.management.UnixOperatingSystemMXBean unix) {
                long limit = unix.getMaxFileDescriptorCount();
                if (limit > 0) {
                    return (int) Math.max(16, Math.min(Integer.MAX_VALUE, limit / 2));
                }
            }
        } catch (LinkageError | RuntimeException e) {
            // a JVM without the jdk.management module: the limit is unknown
        }
        return DEFAULT_WHEN_UNKNOWN;
    }

    /** The cap. */
    public int max() {
        return max;
    }

    /** Channels the pool keeps track of: the open ones and closed ones not yet swept out. */
    public int tracked() {
        return slots.size();
    }

    /** Files open now. */
    public int open() {
        return open.get();
    }

    /**
     * Counts a newly opened channel in, closing others while the cap is passed. Never call it
     * holding a lock a slot's {@link Slot#evict} takes.
     */
    void opened(Slot slot) {
        slots.offer(slot);
        if (open.incrementAndGet() > max) {
            evict();
        } else {
            slots.sweepIfStale(open.get());
        }
    }

    /**
     * Counts a closed channel out. Closing a store leaves its slots in the queue, stale, until a
     * sweep drops them (see {@link ClockQueue}).
     */
    void closed() {
        slots.sweepIfStale(open.decrementAndGet());
    }

    private void evict() {
        // A soft sweep over everything queued, then hard ones: a channel in use is never closed,
        // so a pool whose every channel is busy may stay above the cap for a moment.
        for (int sweep = 0; sweep < 3 && open.get() > max; sweep++) {
            boolean hard = sweep > 0;
            int budget = slots.size();
            while (open.get() > max && budget-- > 0) {
                Slot slot = slots.poll();
                if (slot == null) {
                    return;
                }
                if (slot.evict(hard) == Eviction.KEPT) {
                    slots.offer(slot);
                }
            }
        }
    }
}
