package dev.logstore;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Runs the same I/O-bound work (opening, forcing, closing partitions: mostly fsyncs) for many
 * partitions at once, so a store of thousands of partitions does not wait for one fsync after
 * another; filesystems commit concurrent fsyncs together. Threads live for one call.
 */
final class Parallel {

    /** Most threads one call uses: enough to keep a disk's queue full, few enough to stay cheap. */
    static final int THREADS = 16;

    @FunctionalInterface
    interface Action {
        void run(int index);
    }

    private Parallel() {
    }

    /**
     * Runs {@code action} for every index below {@code count}, on up to {@link #THREADS} threads
     * (inline for a handful), and returns only when every index is done: every index runs even when
     * others fail, and an interrupt of the calling thread does not cut the wait short (the callers
     * release locks and files once this returns). The first failure is thrown with the later ones
     * suppressed; an interrupt is thrown as a {@link LogStoreInterruptedException} after the wait,
     * with the thread's interrupt flag set again.
     */
    static void forEach(String threadName, int count, Action action) {
        Throwable failure = null;
        boolean interrupted = false;
        if (count <= 4) {
            for (int i = 0; i < count; i++) {
                failure = runOne(action, i, failure);
            }
        } else {
            int threads = Math.min(THREADS, count);
            AtomicInteger next = new AtomicInteger();
            AtomicInteger id = new AtomicInteger();
            ExecutorService pool = Executors.newFixedThreadPool(threads, runnable -> {
                Thread thread = new Thread(runnable, threadName + "-" + id.incrementAndGet());
                thread.setDaemon(true);
                return thread;
            });
            List<Future<Throwable>> workers = new ArrayList<>(threads);
            try {
                for (int t = 0; t < threads; t++) {
                    workers.add(pool.submit(() -> {
                        Throwable failed = null;
                        for (int i = next.getAndIncrement(); i < count; i = next.getAndIncrement()) {
                            failed = runOne(action, i, failed);
                        }
                        return failed;
                    }));
                }
                for (Future<Throwable> worker : workers) {
                    while (true) {
                        try {
                            Throwable e = worker.get();
                            if (e != null) {
                                failure = add(failure, e);
                            }
                            break;
                        } catch (InterruptedException e) {
                            interrupted = true; // wait on: the work under way holds files and locks
                        } catch (ExecutionException e) {
                            failure = add(failure, new LogStoreException(threadName + " failed: " + e.getCause(),
                                    e.getCause()));
                            break;
                        }
                    }
                }
            } finally {
                pool.shutdown();
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
            failure = add(failure, new LogStoreInterruptedException("interrupted while waiting for " + threadName
                    + "; the wait went on until all of it was done", null));
        }
        if (failure instanceof Error error) {
            throw error;
        }
        if (failure != null) {
            throw (RuntimeException) failure;
        }
    }

    /** Runs index {@code i}; returns {@code failure} with what it threw added. */
    private static Throwable runOne(Action action, int i, Throwable failure) {
        try {
            action.run(i);
            return failure;
        } catch (RuntimeException | Error e) {
            return add(failure, e);
        }
    }

    private static Throwable add(Throwable failure, Throwable e) {
        if (failure == null) {
            return e;
        }
        failure.addSuppressed(e);
        return failure;
    }
}
