package dev.logstore;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.logstore.record.LogRecord;
import dev.logstore.record.Record;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Writers and followers in separate JVMs, as Connect workers sharing an archive are: OS locks
 * are per process, so only other processes show whether the one-writer rule, fencing and
 * following really hold.
 */
class MultiProcessTest {

    @TempDir
    Path dir;

    /** A record whose value says its offset and is as long as the offset makes it, so a wrong or torn read shows. */
    static Record sequenced(long offset, int length) {
        ByteBuffer value = ByteBuffer.allocate(Math.max(16, length));
        value.putLong(offset).putLong(value.capacity());
        while (value.hasRemaining()) {
            value.put((byte) offset);
        }
        return Record.of(null, value.array(), offset);
    }

    static void check(LogRecord record) {
        ByteBuffer value = ByteBuffer.wrap(record.value());
        assertEquals(record.offset(), value.getLong(), "the record at offset " + record.offset() + " holds another");
        assertEquals(value.capacity(), value.getLong());
        while (value.hasRemaining()) {
            if (value.get() != (byte) record.offset()) {
                throw new AssertionError("torn record at offset " + record.offset() + ", byte " + (value.position() - 1));
            }
        }
    }

    @Test
    void aSecondWriterRefusedInThisProcessLeavesThePartitionLockedForOtherProcesses() throws Exception {
        try (LogStore writer = LogStore.open(dir, 1)) {
            writer.append(0, List.of(sequenced(0, 16)));
            // Refused in this JVM: this must not touch (and so release) the OS lock the first holds.
            for (int i = 0; i < 3; i++) {
                StoreLockedException e = assertThrows(StoreLockedException.class, () -> LogStore.open(dir, 1));
                assertTrue(e.getMessage().contains("this process"), e.getMessage());
            }
            try (ChildProcess other = new ChildProcess(Opener.class, dir.toString())) {
                String answer = other.readLine();
                assertNotNull(answer);
                assertTrue(answer.startsWith("refused"), "another process must be refused too: " + answer);
                assertTrue(answer.contains("another process"), answer);
            }
            assertEquals(1, writer.append(0, List.of(sequenced(1, 16))).baseOffset());
        }
        try (ChildProcess other = new ChildProcess(Opener.class, dir.toString())) {
            assertEquals("opened at 2", other.readLine(), "once the writer closed, the other process may write");
        }
    }

    /** Child: tries to open the store for writing and says how it went. */
    public static final class Opener {
        public static void main(String[] args) {
            try (LogStore store = LogStore.open(Path.of(args[0]), 1)) {
                System.out.println("opened at " + store.nextOffset(0));
            } catch (StoreLockedException e) {
                System.out.println("refused: " + e.getMessage());
            }
            System.out.flush();
        }
    }

    @Test
    void aWriterWhoseLockWasLostIsFencedBeforeItAcknowledgesAndItsLateBytesAreNeverRead() throws Exception {
        try (ChildProcess zombie = new ChildProcess(CommandedWriter.class, dir.toString(), "always")) {
            for (int n = 0; n < 10; n++) {
                zombie.send("append " + n);
                assertEquals("ack " + n, zombie.readLine());
            }
            // The lock is lost behind the first writer's back (an expired lease on a shared
            // filesystem; here the lock file is removed), and a second writer opens the partition.
            Files.delete(dir.resolve(".partitions.lock"));
            try (LogStore successor = LogStore.builder(dir).partitions(1).durability(Durability.always()).open();
                 LogStore follower = LogStore.builder(dir).readOnly().open()) {
                assertEquals(10, successor.nextOffset(0));
                zombie.send("append 10");
                String answer = zombie.readLine();
                assertTrue(answer.startsWith("fenced"), "the old writer must not acknowledge: " + answer);
                assertTrue(answer.contains("another writer opened the partition"), answer);
                zombie.send("append 11");
                assertTrue(zombie.readLine().startsWith("fenced"), "and it stays fenced");

                successor.append(0, List.of(sequenced(10, 100), sequenced(11, 100)));
                List<LogRecord> records = TestRecords.readAll(successor, 0);
                assertEquals(12, records.size());
                for (LogRecord record : records) {
                    check(record);
                    if (record.offset() >= 10) {
                        assertEquals(100, record.value().length, "offset " + record.offset() + " is the successor's");
                    }
                }
                List<LogRecord> followed = TestRecords.readAll(follower, 0);
                assertEquals(12, followed.size(), "the follower sees the successor's partition, not the zombie's bytes");
                followed.forEach(MultiProcessTest::check);
            }
        }
        try (LogStore reopened = LogStore.open(dir, 1)) {
            assertEquals(12, TestRecords.readAll(reopened, 0).size());
        }
    }

    @Test
    void aFencedWriterThatFlushesOnlyOnRequestLearnsItAtItsFlush() throws Exception {
        try (ChildProcess zombie = new ChildProcess(CommandedWriter.class, dir.toString(), "flush")) {
            zombie.send("append 0");
            assertEquals("ack 0", zombie.readLine());
            zombie.send("flush");
            assertEquals("flushed", zombie.readLine());
            Files.delete(dir.resolve(".partitions.lock"));
            try (LogStore successor = LogStore.open(dir, 1)) {
                zombie.send("append 1");
                assertEquals("ack 1", zombie.readLine(), "an append that is not yet durable returns");
                zombie.send("flush");
                String answer = zombie.readLine();
                assertTrue(answer.startsWith("fenced"), "its flush must fail: " + answer);
                assertEquals(1, successor.nextOffset(0), "the zombie's late append is not part of the partition");
                assertEquals(1, TestRecords.readAll(successor, 0).size());
            }
        }
    }

    /** Child: opens the store and appends or flushes on command, one line per command. */
    public static final class CommandedWriter {
        public static void main(String[] args) throws Exception {
            Durability durability = "always".equals(args[1]) ? Durability.always() : Durability.onFlush();
            BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
            try (LogStore store = LogStore.builder(Path.of(args[0])).partitions(1).durability(durability).open()) {
                String line;
                while ((line = in.readLine()) != null) {
                    try {
                        if (line.startsWith("append ")) {
                            long n = Long.parseLong(line.substring(7));
                            store.append(0, n, List.of(sequenced(n, 16)));
                            System.out.println("ack " + n);
                        } else if (line.equals("flush")) {
                            store.flush();
                            System.out.println("flushed");
                        }
                    } catch (WriterFencedException e) {
                        System.out.println("fenced: " + e.getMessage());
                    } catch (LogStoreException | IllegalArgumentException e) {
                        System.out.println("failed: " + e.getMessage());
                    }
                    System.out.flush();
                }
            } catch (LogStoreException closeFailed) {
                // fenced: its close writes nothing
            }
        }
    }

    @Test
    void followersTailAWriterInAnotherProcessThatRollsAndAppliesRetentionWithNoGapAndNoError() throws Exception {
        int readers = 3;
        ExecutorService pool = Executors.newFixedThreadPool(readers);
        try (ChildProcess writer = new ChildProcess(BusyWriter.class, dir.toString(), "4000")) {
            assertEquals("open", writer.readLine());
            try (LogStore follower = LogStore.builder(dir).readOnly().open()) {
                List<Future<long[]>> tails = new ArrayList<>();
                for (int r = 0; r < readers; r++) {
                    tails.add(pool.submit(() -> {
                        long records = 0;
                        long expected = -1;
                        try (LogReader reader = follower.reader(0)) {
                            long idleSince = System.nanoTime();
                            while (System.nanoTime() - idleSince < TimeUnit.SECONDS.toNanos(3)) {
                                List<LogRecord> batch = reader.poll(100, 1 << 20, Duration.ofMillis(200));
                                if (!batch.isEmpty()) {
                                    idleSince = System.nanoTime();
                                }
                                for (LogRecord record : batch) {
                                    if (expected >= 0) {
                                        assertEquals(expected, record.offset(), "no gap, no repeat");
                                    }
                                    check(record);
                                    expected = record.offset() + 1;
                                    records++;
                                }
                            }
                        }
                        return new long[] {records, expected};
                    }));
                }
                String done = writer.readLine();
                assertNotNull(done);
                assertTrue(done.startsWith("done "), done);
                long written = Long.parseLong(done.substring(5));
                for (Future<long[]> tail : tails) {
                    long[] result = tail.get(60, TimeUnit.SECONDS);
                    assertEquals(written, result[1], "every follower reached the writer's end");
                    assertTrue(result[0] > 100, "followed " + result[0] + " records");
                }
                PartitionInfo info = follower.partitionInfo(0);
                assertTrue(info.startOffset() > 0, "retention removed segments while the followers read: " + info);
                assertTrue(info.segments() > 2, "the writer rolled: " + info);
            }
        } finally {
            pool.shutdownNow();
        }
    }

    /**
     * Child: appends records of 16 to 256 KiB into 2 MiB segments, keeping 256 MiB, for the given
     * milliseconds at about 100 MiB/s, then says how far it got and waits to be killed.
     */
    public static final class BusyWriter {
        public static void main(String[] args) throws Exception {
            long millis = Long.parseLong(args[1]);
            try (LogStore store = LogStore.builder(Path.of(args[0])).partitions(1).segmentBytes(2 << 20)
                    .retentionBytes(256 << 20).retentionCheckInterval(Duration.ofMillis(50))
                    .durability(Durability.onFlush()).open()) {
                System.out.println("open");
                System.out.flush();
                Random random = new Random(1);
                long start = System.nanoTime();
                long bytes = 0;
                long next = 0;
                // For the time asked, and at least past the retention bound however slow the machine,
                // so that retention removes segments while the followers read.
                while (System.nanoTime() - start < TimeUnit.MILLISECONDS.toNanos(millis) || bytes < (320L << 20)) {
                    int length = (16 << 10) + random.nextInt(240 << 10);
                    store.append(0, List.of(sequenced(next++, length)));
                    bytes += length;
                    long due = start + bytes * 10; // 100 MB/s: 10 ns per byte
                    long ahead = due - System.nanoTime();
                    if (ahead > 0) {
                        TimeUnit.NANOSECONDS.sleep(ahead);
                    }
                }
                store.flush();
                System.out.println("done " + next);
                System.out.flush();
                Thread.sleep(120_000);
            }
        }
    }
}
