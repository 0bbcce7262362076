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
     * (inline for a handful), and waits for all. Every index runs even when others fail; the first
     * failure is thrown with the later ones suppressed.
     */
    static void forEach(String threadName, int count, Action action) {
        if (count <= 4) {
            RuntimeException failure = null;
            for (int i = 0; i < count; i++) {
                try {
                    action.run(i);
                } catch (RuntimeException e) {
                    failure = add(failure, e);
                }
            }
            if (failure != null) {
                throw failure;
            }
            return;
        }
        int threads = Math.min(THREADS, count);
        AtomicInteger next = new AtomicInteger();
        AtomicInteger id = new AtomicInteger();
        ExecutorService pool = Executors.newFixedThreadPool(threads, runnable -> {
            Thread thread = new Thread(runnable, threadName + "-" + id.incrementAndGet());
            thread.setDaemon(true);
            return thread;
        });
        List<Future<RuntimeException>> workers = new ArrayList<>(threads);
        try {
            for (int t = 0; t < threads; t++) {
                workers.add(pool.submit(() -> {
                    RuntimeException failure = null;
                    for (int i = next.getAndIncrement(); i < count; i = next.getAndIncrement()) {
                        try {
                            action.run(i);
                        } catch (RuntimeException e) {
                            failure = add(failure, e);
                        }
                    }
                    return failure;
                }));
            }
            RuntimeException failure = null;
            for (Future<RuntimeException> worker : workers) {
                try {
                    RuntimeException e = worker.get();
                    if (e != null) {
                        failure = add(failure, e);
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    failure = add(failure, new LogStoreInterruptedException("interrupted while waiting for "
                            + threadName, e));
                } catch (ExecutionException e) {
                    Throwable cause = e.getCause();
                    if (cause instanceof Error error) {
                        throw error;
                    }
                    failure = add(failure, new LogStoreException(threadName + " failed: " + cause, cause));
                }
            }
            if (failure != null) {
                throw failure;
            }
        } finally {
            pool.shutdown();
        }
    }

    private static RuntimeException add(RuntimeException failure, RuntimeException e) {
        if (failure == null) {
            return e;
        }
        failure.addSuppressed(e);
        return failure;
    }
}
