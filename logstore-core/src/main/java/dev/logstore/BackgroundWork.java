package dev.logstore;

import dev.logstore.log.PartitionWriter;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A store's background thread: forces dirty partitions every durability interval, and applies
 * retention every retention check interval. It is never interrupted (an interrupt during I/O
 * would close a segment file for every user); closing waits for the current round.
 */
final class BackgroundWork implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(BackgroundWork.class);

    private final String storeName;
    private final String threadName;
    private final Supplier<List<PartitionWriter>> writers;
    private final ScheduledExecutorService executor;
    private final long retentionEveryMillis;
    private long lastRetention = System.currentTimeMillis();

    private BackgroundWork(String threadName, String storeName, Supplier<List<PartitionWriter>> writers,
                           long retentionEveryMillis) {
        this.storeName = storeName;
        this.threadName = threadName;
        this.writers = writers;
        this.retentionEveryMillis = retentionEveryMillis;
        this.executor = Executors.newSingleThreadScheduledExecutor(runnable -> {
            Thread thread = new Thread(runnable, threadName);
            thread.setDaemon(true);
            return thread;
        });
    }

    /**
     * Starts the thread.
     *
     * @param flushEvery     how often dirty partitions are forced, or null for never
     * @param retentionEvery how often retention is applied, or null for never
     */
    static BackgroundWork start(String threadName, String storeName, Supplier<List<PartitionWriter>> writers,
                                Duration flushEvery, Duration retentionEvery) {
        long retentionMillis = retentionEvery == null ? 0 : retentionEvery.toMillis();
        BackgroundWork work = new BackgroundWork(threadName, storeName, writers, retentionMillis);
        long period = flushEvery == null ? retentionMillis
                : retentionEvery == null ? flushEvery.toMillis()
                : Math.min(flushEvery.toMillis(), retentionMillis);
        boolean flush = flushEvery != null;
        work.executor.scheduleWithFixedDelay(() -> work.round(flush), period, period, TimeUnit.MILLISECONDS);
        return work;
    }

    private void round(boolean flush) {
        List<PartitionWriter> current = writers.get();
        if (flush) {
            List<PartitionWriter> dirty = current.stream().filter(PartitionWriter::dirty).toList();
            // One fsync per dirty partition: in parallel, so thousands fit in one interval.
            Parallel.forEach(threadName + "-flush", dirty.size(), i -> {
                PartitionWriter writer = dirty.get(i);
                try {
                    writer.flush();
                } catch (RuntimeException e) {
                    if (!writer.isClosed()) {
                        log.error("Periodic flush of {} failed", writer.description(), e);
                    }
                }
            });
        }
        long now = System.currentTimeMillis();
        if (retentionEveryMillis > 0 && now - lastRetention >= retentionEveryMillis) {
            lastRetention = now;
            for (PartitionWriter writer : current) {
                try {
                    writer.enforceRetention(now);
                } catch (RuntimeException e) {
                    if (!writer.isClosed()) {
                        log.error("Retention of {} failed", writer.description(), e);
                    }
                }
            }
        }
    }

    @Override
    public void close() {
        executor.shutdown();
        try {
            if (!executor.awaitTermination(30, TimeUnit.SECONDS)) {
                log.warn("Store {}: the background flush/retention round did not finish in 30 s", storeName);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
