package dev.logstore.segment;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The candidates of a clock cache: what holds a resource the cache may take back (an open
 * channel for {@link OpenFiles}, loaded indexes for {@link IndexMemory}). The cache polls them
 * in turn and offers back those it kept, so each gets a second chance. An entry is queued at
 * most once, by a flag in the entry itself (no object per entry besides the queue's node).
 *
 * <p>An entry whose resource was let go of by other means stays queued, stale, until it is
 * polled or a sweep drops it: once stale entries outnumber live ones they are swept out, so a
 * process that opens and closes stores again and again keeps no memory of them.
 */
final class ClockQueue<E extends ClockQueue.Entry> {

    /** Something a cache may take back; subclasses say whether it still holds anything. */
    abstract static class Entry {
        private static final VarHandle QUEUED;

        static {
            try {
                QUEUED = MethodHandles.lookup().findVarHandle(Entry.class, "queued", int.class);
            } catch (ReflectiveOperationException e) {
                throw new ExceptionInInitializerError(e);
            }
        }

        /** 1 while in the queue. */
        @SuppressWarnings("unused") // through QUEUED
        private volatile int queued;

        /** False once the resource was let go of; the queue drops the entry at its next sweep. */
        abstract boolean live();

        final boolean markQueued() {
            return QUEUED.compareAndSet(this, 0, 1);
        }

        final void unmarkQueued() {
            queued = 0;
        }
    }

    private final ConcurrentLinkedQueue<E> queue = new ConcurrentLinkedQueue<>();
    /** Entries in the queue, live or stale (an estimate while threads add and poll). */
    private final AtomicInteger size = new AtomicInteger();
    private final AtomicBoolean sweeping = new AtomicBoolean();

    /** Queues {@code entry} unless it is queued already. */
    void offer(E entry) {
        if (entry.markQueued()) {
            queue.add(entry);
            size.incrementAndGet();
        }
    }

    /** The next candidate, taken out of the queue (offer it back to keep it a candidate); null when none. */
    E poll() {
        E entry = queue.poll();
        if (entry != null) {
            size.decrementAndGet();
            entry.unmarkQueued();
        }
        return entry;
    }

    /** Entries queued, live or stale. */
    int size() {
        return size.get();
    }

    /** Sweeps stale entries out when they outnumber the {@code live} ones (plus some slack). */
    void sweepIfStale(int live) {
        if (size.get() > 2 * Math.max(live, 0) + 64) {
            sweep();
        }
    }

    /** Drops stale entries; one thread at a time (the others go on: the queue is only a list of candidates). */
    private void sweep() {
        if (!sweeping.compareAndSet(false, true)) {
            return;
        }
        try {
            queue.removeIf(entry -> {
                if (entry.live()) {
                    return false;
                }
                entry.unmarkQueued();
                if (entry.live() && entry.markQueued()) {
                    queue.add(entry); // live again meanwhile (and not queued by its user): it stays a candidate
                }
                return true;
            });
            int count = 0;
            for (E ignored : queue) {
                count++;
            }
            size.set(count);
        } finally {
            sweeping.set(false);
        }
    }
}
