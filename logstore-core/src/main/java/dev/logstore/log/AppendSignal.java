package dev.logstore.log;

import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.BooleanSupplier;

/**
 * Wakes readers that wait for new appends (tailing). Costs an appender one volatile read while
 * nobody waits: a waiter registers before it checks the condition and the appender publishes
 * before it looks for waiters, so no wake-up is lost.
 */
final class AppendSignal {

    private final ReentrantLock lock = new ReentrantLock();
    private final Condition appended = lock.newCondition();
    private volatile int waiters;

    /**
     * Waits until {@code ready} holds or {@code nanos} pass.
     *
     * @return whether {@code ready} holds
     */
    boolean await(BooleanSupplier ready, long nanos) throws InterruptedException {
        lock.lock();
        try {
            waiters++;
            long left = nanos;
            while (!ready.getAsBoolean() && left > 0) {
                left = appended.awaitNanos(left);
            }
            return ready.getAsBoolean();
        } finally {
            waiters--;
            lock.unlock();
        }
    }

    /** After an append: wakes the waiters, if any. */
    void signal() {
        if (waiters > 0) {
            signalAll();
        }
    }

    /** Wakes every waiter (on close, so they see it). */
    void signalAll() {
        lock.lock();
        try {
            appended.signalAll();
        } finally {
            lock.unlock();
        }
    }
}
