package dev.logstore.record;

import java.nio.ByteBuffer;

/** Reusable scratch buffers that grow to the largest batch and shrink back after it. */
final class Buffers {

    static final int INITIAL_CAPACITY = 64 * 1024;
    /** A buffer grown past this for one large batch is given back once batches are small again. */
    static final int KEEP_CAPACITY = 1 << 20;

    private Buffers() {
    }

    /**
     * {@code current} when it holds {@code size} bytes and is of the kind asked for, else a new
     * buffer; cleared either way.
     */
    static ByteBuffer ensure(ByteBuffer current, int size, boolean direct) {
        if (current == null || current.isDirect() != direct
                || (current.capacity() > KEEP_CAPACITY && size <= INITIAL_CAPACITY)) {
            return allocate(Math.max(size, INITIAL_CAPACITY), direct);
        }
        if (current.capacity() < size) {
            long grown = Math.max(size, Math.min((long) BatchFormat.MAX_BATCH_SIZE, current.capacity() * 2L));
            return allocate((int) grown, direct);
        }
        return current.clear();
    }

    private static ByteBuffer allocate(int size, boolean direct) {
        return direct ? ByteBuffer.allocateDirect(size) : ByteBuffer.allocate(size);
    }
}
