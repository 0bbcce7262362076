package dev.logstore;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.logstore.record.Record;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A thread waiting for a force that fails is never told its append is durable, whatever forces follow. */
class GroupCommitFailureTest {

    @TempDir
    Path dir;

    /** An fsync error whose handling (failStop's explain -> getMessage) can be held mid-way. */
    static final class HeldIOException extends IOException {
        final CountDownLatch entered = new CountDownLatch(1);
        final CountDownLatch release = new CountDownLatch(1);
        final AtomicBoolean first = new AtomicBoolean(true);

        HeldIOException() {
            super("EIO (injected)");
        }

        @Override
        public String getMessage() {
            if (first.compareAndSet(true, false)) {
                entered.countDown();
                try {
                    release.await(10, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            return super.getMessage();
        }
    }

    @Test
    void waiterOfAFailedForceIsNotAcknowledgedThroughAConcurrentRollsForce() throws Exception {
        HookedFiles files = new HookedFiles();
        HeldIOException eio = new HeldIOException();
        AtomicBoolean armed = new AtomicBoolean(false);
        files.beforeForce = p -> {
            if (p.toString().endsWith(".log") && armed.compareAndSet(true, false)) {
                throw eio;
            }
        };
        LogStore store = LogStore.builder(dir).partitions(1).segmentBytes(4096).durability(Durability.always())
                .fileOpener(files).open();
        try {
            store.append(0, List.of(Record.of(null, new byte[2500])));
            armed.set(true);
            // The leader: its fsync fails; it is held before it records the failure.
            CompletableFuture<Void> leader = CompletableFuture.runAsync(
                    () -> store.append(0, List.of(Record.of(null, TestRecords.bytes("leader")))));
            assertTrue(eio.entered.await(5, TimeUnit.SECONDS), "leader's fsync failed");
            // A waiter whose bytes the failed fsync was meant to cover.
            CompletableFuture<Void> waiter = CompletableFuture.runAsync(
                    () -> store.append(0, List.of(Record.of(null, TestRecords.bytes("waiter")))));
            Thread.sleep(100);
            // An append that rolls: the roll forces the same file again (on Linux the error was
            // already reported to the leader, so this fsync may return 0 with the pages lost).
            CompletableFuture<Void> roller = CompletableFuture.runAsync(
                    () -> store.append(0, List.of(Record.of(null, new byte[2000]))));
            boolean waiterAcked;
            try {
                waiter.get(2, TimeUnit.SECONDS);
                waiterAcked = true;
            } catch (ExecutionException e) {
                waiterAcked = false;
            } catch (TimeoutException e) {
                waiterAcked = false;
            }
            eio.release.countDown();
            try {
                leader.get(5, TimeUnit.SECONDS);
                fail("the leader's fsync failed, its append must fail");
            } catch (ExecutionException expected) {
                // PartitionFailedException
            }
            try {
                roller.get(5, TimeUnit.SECONDS);
            } catch (ExecutionException ignored) {
                // fine either way
            }
            assertTrue(!waiterAcked, "an append the failed fsync covered was acknowledged as durable; the partition "
                    + "then fail-stopped on that very fsync");
        } finally {
            store.close();
        }
    }
}
