package dev.logstore;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.logstore.record.LogRecord;
import dev.logstore.record.Record;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Interrupted threads, as the "restore the interrupt" idiom and cancelled tasks leave them: Java
 * closes a file channel for every thread that shares it when one thread doing I/O on it is
 * interrupted. An interrupted reader must fail alone; the writer and other readers go on.
 */
class InterruptTest {

    @TempDir
    Path dir;

    private static Record record(long n) {
        return TestRecords.numbered(n, 1_000 + n);
    }

    @Test
    void aReaderWhoseThreadIsInterruptedFailsAloneAndTheWriterGoesOn() throws Exception {
        try (LogStore store = LogStore.builder(dir).partitions(1).segmentBytes(4096).open()) {
            for (long n = 0; n < 100; n++) {
                store.append(0, List.of(record(n)));
            }
            ExecutorService thread = Executors.newSingleThreadExecutor();
            try (LogReader reader = store.reader(0)) {
                Future<LogStoreInterruptedException> interrupted = thread.submit(() -> {
                    Thread.currentThread().interrupt();
                    LogStoreInterruptedException e = assertThrows(LogStoreInterruptedException.class,
                            () -> reader.poll(10, 1 << 16));
                    assertTrue(Thread.currentThread().isInterrupted(), "the interrupt flag stays set");
                    assertThrows(LogStoreInterruptedException.class,
                            () -> store.read(0, 5, ByteBuffer.allocate(1 << 16)));
                    Thread.interrupted();
                    return e;
                });
                LogStoreInterruptedException e = interrupted.get(10, TimeUnit.SECONDS);
                assertTrue(e.getMessage().contains("partition 0 of store"), e.getMessage());
                assertTrue(e.getMessage().contains("clear the flag"), e.getMessage());
                // The writer never noticed.
                for (long n = 100; n < 200; n++) {
                    store.append(0, List.of(record(n)));
                }
                store.flush();
                // The reader that was interrupted is where it was, and reads on once the flag is clear.
                assertEquals(0, reader.position());
                assertEquals(200, TestRecords.readAll(store, 0).size());
                List<LogRecord> resumed = reader.poll(1000, 1 << 20);
                assertEquals(0, resumed.get(0).offset());
            } finally {
                thread.shutdownNow();
            }
        }
        try (LogStore reopened = LogStore.open(dir, 1)) {
            assertEquals(200, TestRecords.readAll(reopened, 0).size());
        }
    }

    @Test
    void anAppendOrFlushOnAnInterruptedThreadWritesNothingAndThePartitionGoesOn() {
        try (LogStore store = LogStore.builder(dir).partitions(1).durability(Durability.onFlush()).open()) {
            store.append(0, List.of(record(0)));
            Thread.currentThread().interrupt();
            try {
                LogStoreInterruptedException append = assertThrows(LogStoreInterruptedException.class,
                        () -> store.append(0, List.of(record(1))));
                assertTrue(append.getMessage().contains("nothing was written"), append.getMessage());
                LogStoreInterruptedException flush = assertThrows(LogStoreInterruptedException.class, store::flush);
                assertTrue(flush.getMessage().contains("not yet durable"), flush.getMessage());
                assertTrue(Thread.currentThread().isInterrupted());
            } finally {
                Thread.interrupted();
            }
            assertEquals(1, store.append(0, List.of(record(1))).baseOffset(), "the partition was not harmed");
            store.flush();
        }
        try (LogStore reopened = LogStore.open(dir, 1)) {
            assertEquals(2, TestRecords.readAll(reopened, 0).size());
        }
    }

    /**
     * Readers tailing a partition while another thread keeps interrupting some of them, and the
     * writer appends and rolls: every reader sees every record once, in order; the interrupted
     * ones catch the error, clear the flag and read on; the writer never fails.
     */
    @Test
    void interruptsLandingDuringReadsNeverBreakOtherReadersOrTheWriter() throws Exception {
        int total = 20_000;
        AtomicBoolean writing = new AtomicBoolean(true);
        AtomicInteger interruptsCaught = new AtomicInteger();
        ExecutorService pool = Executors.newFixedThreadPool(6);
        try (LogStore store = LogStore.builder(dir).partitions(1).segmentBytes(32 * 1024).open()) {
            List<Thread> readerThreads = new ArrayList<>();
            List<Future<Long>> readers = new ArrayList<>();
            for (int r = 0; r < 4; r++) {
                boolean victim = r < 2;
                readers.add(pool.submit(() -> {
                    if (victim) {
                        synchronized (readerThreads) {
                            readerThreads.add(Thread.currentThread());
                        }
                    }
                    long expected = 0;
                    try (LogReader reader = store.reader(0)) {
                        while (expected < total) {
                            List<LogRecord> records;
                            try {
                                records = reader.poll(100, 8 * 1024);
                            } catch (LogStoreInterruptedException e) {
                                Thread.interrupted();
                                interruptsCaught.incrementAndGet();
                                continue;
                            }
                            for (LogRecord record : records) {
                                assertEquals(expected, record.offset(), "no gap, no duplicate");
                                assertEquals(record(expected), record.record());
                                expected++;
                            }
                            if (records.isEmpty()) {
                                Thread.onSpinWait();
                            }
                        }
                    } finally {
                        Thread.interrupted();
                    }
                    return expected;
                }));
            }
            Future<?> interrupter = pool.submit(() -> {
                Random random = new Random(5);
                while (writing.get()) {
                    synchronized (readerThreads) {
                        if (!readerThreads.isEmpty()) {
                            readerThreads.get(random.nextInt(readerThreads.size())).interrupt();
                        }
                    }
                    Thread.sleep(1);
                }
                return null;
            });
            for (long n = 0; n < total; n++) {
                store.append(0, List.of(record(n)));
            }
            for (Future<Long> reader : readers) {
                assertEquals(total, reader.get(60, TimeUnit.SECONDS));
            }
            writing.set(false);
            interrupter.get(10, TimeUnit.SECONDS);
            store.flush();
            assertTrue(store.partitionInfo(0).segments() > 10, "the readers crossed rolls");
        } finally {
            writing.set(false);
            pool.shutdownNow();
        }
        assertTrue(interruptsCaught.get() > 0, "interrupts did land on readers");
        try (LogStore reopened = LogStore.open(dir, 1)) {
            assertEquals(total, TestRecords.readAll(reopened, 0).size());
        }
    }
}
