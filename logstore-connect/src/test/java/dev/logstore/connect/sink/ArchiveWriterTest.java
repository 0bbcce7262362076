package dev.logstore.connect.sink;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.connect.errors.ConnectException;
import org.junit.jupiter.api.Test;

class ArchiveWriterTest {

    @Test
    void appendsRunInOrderOnTheWriterThreadAndDrainWaitsForAll() {
        List<Integer> done = new CopyOnWriteArrayList<>();
        List<String> threads = new CopyOnWriteArrayList<>();
        try (ArchiveWriter writer = new ArchiveWriter("writer-under-test")) {
            for (int i = 0; i < 50; i++) {
                int n = i;
                writer.submit(() -> {
                    threads.add(Thread.currentThread().getName());
                    done.add(n);
                });
            }
            writer.drain();
            assertEquals(50, done.size());
            for (int i = 0; i < 50; i++) {
                assertEquals(i, done.get(i));
            }
            assertTrue(threads.stream().allMatch("writer-under-test"::equals), threads.toString());
        }
    }

    @Test
    void afterAFailureLaterAppendsAreSkippedAndTheFailureIsThrownOnTheTaskThread() throws Exception {
        List<Integer> done = new CopyOnWriteArrayList<>();
        CountDownLatch release = new CountDownLatch(1);
        ConnectException diskFull = new ConnectException("Cannot archive records of t-0: disk full");
        try (ArchiveWriter writer = new ArchiveWriter("writer-under-test")) {
            writer.submit(() -> {
                await(release);
                done.add(1);
            });
            writer.submit(() -> {
                throw diskFull;
            });
            writer.submit(() -> done.add(3)); // queued behind the failure: must not run
            release.countDown();
            ConnectException thrown = assertThrows(ConnectException.class, writer::drain);
            assertSame(diskFull, thrown);
            assertEquals(List.of(1), done, "nothing may be appended after a failed append");
            assertSame(diskFull, assertThrows(ConnectException.class, () -> writer.submit(() -> done.add(4))));
            assertEquals(List.of(1), done);
        }
    }

    @Test
    void submittingWaitsWhileTooManyAppendsAreQueued() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        AtomicInteger started = new AtomicInteger();
        try (ArchiveWriter writer = new ArchiveWriter("writer-under-test")) {
            for (int i = 0; i < ArchiveWriter.MAX_IN_FLIGHT; i++) {
                writer.submit(() -> {
                    started.incrementAndGet();
                    await(release);
                });
            }
            CountDownLatch submitted = new CountDownLatch(1);
            Thread taskThread = new Thread(() -> {
                writer.submit(started::incrementAndGet);
                submitted.countDown();
            });
            taskThread.start();
            assertTrue(!submitted.await(200, TimeUnit.MILLISECONDS), "a fifth append must wait for room");
            release.countDown();
            assertTrue(submitted.await(10, TimeUnit.SECONDS));
            taskThread.join();
        }
        assertEquals(ArchiveWriter.MAX_IN_FLIGHT + 1, started.get());
    }

    private static void await(CountDownLatch latch) {
        try {
            assertTrue(latch.await(10, TimeUnit.SECONDS));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
