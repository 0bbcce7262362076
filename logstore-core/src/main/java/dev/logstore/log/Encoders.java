package dev.logstore.log;

import dev.logstore.record.BatchEncoder;
import dev.logstore.record.Packing;

/**
 * The batch encoders of one store, one per appending thread rather than one per partition: an
 * encoder's buffer is only needed while its thread encodes and writes a batch, so a store of
 * thousands of partitions holds as many buffers as threads append to it, not as partitions.
 */
public final class Encoders {

    private final ThreadLocal<BatchEncoder> perThread;
    /** Every encoder handed out, so that closing the store frees the codecs' native memory. */
    private final java.util.Queue<BatchEncoder> all = new java.util.concurrent.ConcurrentLinkedQueue<>();

    /** Encoders of batches stored as {@code packing} says. */
    public Encoders(Packing packing) {
        perThread = ThreadLocal.withInitial(() -> {
            BatchEncoder encoder = new BatchEncoder(0, packing);
            all.add(encoder);
            return encoder;
        });
    }

    /** Frees what the encoders hold outside the heap; called once no append runs any more (the store closed). */
    public void close() {
        for (BatchEncoder encoder; (encoder = all.poll()) != null; ) {
            encoder.close();
        }
    }

    /** The newest thread to ask, with its encoder: most appends come from one thread, and skip the lookup. */
    private volatile Owner last;

    private record Owner(Thread thread, BatchEncoder encoder) {
    }

    /** The calling thread's encoder; use it only within one append. */
    BatchEncoder get() {
        Thread current = Thread.currentThread();
        Owner owner = last;
        if (owner != null && owner.thread == current) {
            return owner.encoder;
        }
        // A thread-local lookup costs more than it seems: the thread's map is shared with every
        // other library's thread locals, and a probe past stale entries shows in a profile.
        BatchEncoder encoder = perThread.get();
        last = new Owner(current, encoder);
        return encoder;
    }
}
