package dev.logstore.connect.sink;

import java.util.ArrayDeque;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.connect.errors.ConnectException;

/**
 * Runs a sink task's appends on a thread of its own, in the order they were submitted, so the
 * task thread goes back to the consumer while the previous records are being written: fetching
 * and writing overlap instead of taking turns.
 *
 * <p>At most {@link #MAX_IN_FLIGHT} appends wait at a time; submitting more blocks until the
 * oldest is done, which bounds the memory held. Once an append fails, the appends queued behind
 * it are skipped, so an archive never gets records after a hole; the failure is thrown from the
 * next {@link #submit} or {@link #drain} on the task thread.
 */
final class ArchiveWriter implements AutoCloseable {

    static final int MAX_IN_FLIGHT = 4;

    private final ExecutorService thread;
    private final ArrayDeque<Future<?>> inFlight = new ArrayDeque<>();
    private volatile ConnectException failure;

    ArchiveWriter(String threadName) {
        this.thread = Executors.newSingleThreadExecutor(runnable -> {
            Thread writer = new Thread(runnable, threadName);
            writer.setDaemon(true);
            return writer;
        });
    }

    /** Queues {@code append} behind those already queued; waits while too many are queued. */
    void submit(Runnable append) {
        checkFailure();
        while (inFlight.size() >= MAX_IN_FLIGHT) {
            awaitOldest();
        }
        inFlight.add(thread.submit(() -> {
            if (failure != null) {
                return; // an earlier append failed: appending this one would leave a hole
            }
            try {
                append.run();
            } catch (RuntimeException | Error e) {
                failure = e instanceof ConnectException connect ? connect
                        : new ConnectException("Archiving failed: " + e, e);
                throw e;
            }
        }));
    }

    /** Returns when every append submitted so far is done; throws the first failure. */
    void drain() {
        while (!inFlight.isEmpty()) {
            awaitOldest();
        }
        checkFailure();
    }

    private void awaitOldest() {
        try {
            inFlight.peek().get();
            inFlight.poll();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ConnectException("Interrupted while waiting for the archive to be written", e);
        } catch (ExecutionException e) {
            inFlight.poll();
            throw failure; // the append recorded what went wrong before throwing it
        }
    }

    private void checkFailure() {
        ConnectException failed = failure;
        if (failed != null) {
            throw failed;
        }
    }

    /** Waits for what is queued (without throwing its failure) and stops the thread. */
    @Override
    public void close() {
        thread.shutdown();
        try {
            if (!thread.awaitTermination(1, TimeUnit.MINUTES)) {
                throw new ConnectException("The archive writer did not finish within a minute");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        inFlight.clear();
    }
}
