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

    /** Encoders of batches stored as {@code packing} says. */
    public Encoders(Packing packing) {
        perThread = ThreadLocal.withInitial(() -> new BatchEncoder(0, packing));
    }

    /** The calling thread's encoder; use it only within one append. */
    BatchEncoder get() {
        return perThread.get();
    }
}
