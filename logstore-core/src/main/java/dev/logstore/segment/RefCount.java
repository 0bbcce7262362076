package dev.logstore.segment;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * A reference count that runs an action when it drops to zero, and can never be taken again
 * after that. The owner (a partition's segment list) holds the first reference; every reader
 * that uses the resource holds one more, so the resource outlives its removal from the list
 * until the last reader lets go.
 */
public final class RefCount {

    private final AtomicInteger refs = new AtomicInteger(1);
    private final Runnable onZero;

    /** A count of one, the owner's; {@code onZero} runs once, on the thread that releases the last reference. */
    public RefCount(Runnable onZero) {
        this.onZero = onZero;
    }

    /** Takes a reference; false when the count already reached zero (the resource is gone). */
    public boolean tryRetain() {
        while (true) {
            int n = refs.get();
            if (n <= 0) {
                return false;
            }
            if (refs.compareAndSet(n, n + 1)) {
                return true;
            }
        }
    }

    /** Gives a reference back; the last one runs the action. */
    public void release() {
        int n = refs.decrementAndGet();
        if (n == 0) {
            onZero.run();
        } else if (n < 0) {
            throw new IllegalStateException("released more often than retained");
        }
    }

    /** The number of references held now (for tests and diagnostics). */
    public int count() {
        return Math.max(0, refs.get());
    }
}
