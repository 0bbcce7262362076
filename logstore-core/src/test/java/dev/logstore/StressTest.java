package dev.logstore;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.logstore.record.LogRecord;
import dev.logstore.record.Record;
import dev.logstore.record.RecordDecoder;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Queue;
import java.util.Random;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.io.TempDir;

/**
 * A writer appending (with offset gaps), rolls every few KiB, retention deleting segments as
 * fast as it can, and many readers at once: tailing readers of the writer's handle and of a
 * read-only follower, random {@code read(offset)}s, zero-copy transfers and timestamp seeks.
 * A checker looks at every read against the history of what was written:
 * <ul>
 *   <li>every read is a contiguous slice of the written offsets (no gap, no repeat) starting at
 *       the first written offset at or after the one asked for, each record exactly as written;</li>
 *   <li>an {@link OffsetOutOfRangeException} only for an offset below the start offset.</li>
 * </ul>
 * Runs for {@code -Dlogstore.stress.seconds} (default 3).
 */
class StressTest {

    private static final long SECONDS = Long.getLong("logstore.stress.seconds", 3);

    @TempDir
    Path dir;

    /** Offsets written so far, in order; published before each append, so it is a superset of what readers can see. */
    private final long[] written = new long[4_000_000];
    private volatile int writtenCount;
    private final Queue<String> violations = new ConcurrentLinkedQueue<>();
    private final AtomicLong checkedReads = new AtomicLong();
    private final AtomicLong outOfRange = new AtomicLong();
    private volatile boolean running = true;

    private static Record record(long offset) {
        byte[] value = ("v" + offset + "-" + "x".repeat((int) (offset % 97))).getBytes(StandardCharsets.UTF_8);
        return new Record(TestRecords.bytes("k" + offset % 13), value, List.of(), offset * 10);
    }

    /** The first written offset at or after {@code offset}, or -1 when none is (yet). */
    private long successor(long offset) {
        int n = writtenCount;
        int i = Arrays.binarySearch(written, 0, n, offset);
        int at = i >= 0 ? i : -i - 1;
        return at < n ? written[at] : -1;
    }

    /** The exception, its causes, and where the deepest one was thrown: enough to find a rare failure. */
    private static String describe(Throwable e) {
        StringBuilder text = new StringBuilder(e.toString());
        Throwable deepest = e;
        while (deepest.getCause() != null && deepest.getCause() != deepest) {
            deepest = deepest.getCause();
            text.append(" caused by ").append(deepest);
        }
        StackTraceElement[] frames = deepest.getStackTrace();
        for (int i = 0; i < Math.min(8, frames.length); i++) {
            text.append("\n    at ").append(frames[i]);
        }
        return text.toString();
    }

    private void violation(String what) {
        if (violations.size() < 20) {
            violations.add(what);
        }
    }

    /** Checks that {@code records} are the written offsets from successor({@code asked}) on, each as written. */
    private void checkSlice(String who, long asked, List<LogRecord> records) {
        checkedReads.incrementAndGet();
        long expected = successor(asked);
        for (LogRecord record : records) {
            if (record.offset() != expected) {
                violation(who + ": asked for " + asked + ", expected offset " + expected + " but got " + record.offset());
                return;
            }
            if (!record(record.offset()).equals(record.record())) {
                violation(who + ": record at " + record.offset() + " is not what was written");
                return;
            }
            expected = successor(record.offset() + 1);
        }
    }

    /**
     * The start offset now, as far as anyone can see it: a follower may see a new start (in the
     * manifest, which is committed first) a moment before the writer's own snapshot publishes it.
     */
    private static long startOffset(LogStore... views) {
        long start = 0;
        for (LogStore view : views) {
            start = Math.max(start, view.startOffset(0));
        }
        return start;
    }

    private void checkOutOfRange(String who, long asked, OffsetOutOfRangeException e, LogStore... views) {
        outOfRange.incrementAndGet();
        long start = startOffset(views);
        if (asked >= start) {
            violation(who + ": out of range for " + asked + " while the start offset is " + start + ": " + e.getMessage());
        }
    }

    /**
     * @param maxOpenFiles 0 for the default cap; 3 makes the pool close read and write channels
     *                     under the readers and the writer all the time
     * @param mapped       appends copied into a memory map: the follower scans an active segment
     *                     that ends in reserved zeros, and readers race the copies
     */
    @ParameterizedTest(name = "open files capped at {0} (0: the default), mapped appends: {1}")
    @CsvSource({"0, false", "3, false", "3, true"})
    void everyReadIsAContiguousSliceOfWhatWasWrittenWhileRetentionDeletes(int maxOpenFiles, boolean mapped)
            throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(10);
        List<Future<?>> tasks = new ArrayList<>();
        LogStore.Builder writing = LogStore.builder(dir).partitions(1).segmentBytes(8 * 1024).indexIntervalBytes(512)
                .retentionBytes(96 * 1024).durability(Durability.onFlush()).mappedAppends(mapped);
        LogStore.Builder following = LogStore.builder(dir).readOnly();
        if (maxOpenFiles > 0) {
            writing.maxOpenFiles(maxOpenFiles);
            following.maxOpenFiles(maxOpenFiles);
        }
        try (LogStore writer = writing.open();
             LogStore follower = following.open()) {
            tasks.add(pool.submit(() -> write(writer)));
            tasks.add(pool.submit(() -> {
                while (running) {
                    writer.enforceRetention();
                    Thread.sleep(2);
                }
                return null;
            }));
            for (int r = 0; r < 2; r++) {
                int seed = r;
                tasks.add(pool.submit(() -> tail("writer-tail-" + seed, writer, writer, seed)));
                tasks.add(pool.submit(() -> tail("follower-tail-" + seed, follower, writer, 10 + seed)));
            }
            tasks.add(pool.submit(() -> randomReads(writer, 1)));
            tasks.add(pool.submit(() -> transfers(writer, writer, 2)));
            tasks.add(pool.submit(() -> transfers(follower, writer, 4)));
            tasks.add(pool.submit(() -> timestampSeeks(follower, writer, 3)));
            Thread.sleep(TimeUnit.SECONDS.toMillis(SECONDS));
            running = false;
            for (Future<?> task : tasks) {
                task.get(60, TimeUnit.SECONDS);
            }
            assertTrue(writer.startOffset(0) > 0, "retention deleted segments during the run");
        } finally {
            running = false;
            pool.shutdownNow();
        }
        assertTrue(violations.isEmpty(), "violations: " + violations);
        assertTrue(checkedReads.get() > 1000, "reads checked: " + checkedReads.get());
        assertTrue(writtenCount > 1_000, "records written: " + writtenCount);
    }

    private Void write(LogStore store) {
        Random random = new Random(42);
        long next = 0;
        while (running && writtenCount + 10 < written.length) {
            int count = 1 + random.nextInt(8);
            long[] offsets = new long[count];
            List<Record> batch = new ArrayList<>(count);
            for (int i = 0; i < count; i++) {
                next += random.nextInt(10) == 0 ? 1 + random.nextInt(5) : 0; // gaps now and then
                offsets[i] = next;
                batch.add(record(next));
                next++;
            }
            int n = writtenCount;
            System.arraycopy(offsets, 0, written, n, count);
            writtenCount = n + count;
            store.append(0, offsets, batch);
        }
        return null;
    }

    private Void tail(String who, LogStore store, LogStore writer, int seed) {
        Random random = new Random(seed);
        try (LogReader reader = store.reader(0)) {
            long asked = reader.position();
            while (running) {
                List<LogRecord> records;
                try {
                    records = reader.poll(1 + random.nextInt(50), 1 + random.nextInt(16 * 1024));
                } catch (OffsetOutOfRangeException e) {
                    checkOutOfRange(who, reader.position(), e, writer, store);
                    asked = reader.seekToStart().position();
                    continue;
                }
                checkSlice(who, asked, records);
                if (!records.isEmpty()) {
                    asked = records.get(records.size() - 1).offset() + 1;
                }
            }
        } catch (RuntimeException e) {
            violation(who + ": " + describe(e));
        }
        return null;
    }

    private Void randomReads(LogStore store, int seed) {
        Random random = new Random(seed);
        ByteBuffer buffer = ByteBuffer.allocate(64 * 1024);
        while (running) {
            long start = store.startOffset(0);
            long asked = Math.max(0, start - 20 + random.nextInt(Math.max(1, (int) (store.nextOffset(0) - start) + 40)));
            try {
                buffer.clear();
                store.read(0, asked, buffer);
                List<LogRecord> records = new ArrayList<>();
                for (LogRecord record : RecordDecoder.decode(buffer.flip())) {
                    if (record.offset() >= asked) {
                        records.add(record);
                    }
                }
                checkSlice("read(" + asked + ")", asked, records);
            } catch (OffsetOutOfRangeException e) {
                checkOutOfRange("read", asked, e, store);
            } catch (RuntimeException e) {
                violation("read(" + asked + "): " + e);
            }
        }
        return null;
    }

    /**
     * Transfers from random offsets, each followed by up to four continuations of it (which step
     * over the gap after a batch they sent without checking that batch again); every call's
     * records checked as a slice from where it started.
     */
    private Void transfers(LogStore store, LogStore writer, int seed) {
        Random random = new Random(seed);
        while (running) {
            long start = store.startOffset(0);
            long asked = start + random.nextInt(Math.max(1, (int) (store.nextOffset(0) - start)));
            int maxBytes = 1 + random.nextInt(32 * 1024);
            String who = "transfer(" + asked + ")";
            try {
                ByteArrayOutputStream bytes = new ByteArrayOutputStream();
                Transfer sent = store.transfer(0, asked, maxBytes, Channels.newChannel(bytes));
                checkSlice(who, asked, transferred(bytes, asked));
                for (int next = 0; next < 4 && running && sent.bytes() > 0; next++) {
                    asked = sent.nextOffset();
                    who = "the continuation of a transfer from " + asked;
                    bytes.reset();
                    sent = store.transfer(0, sent, maxBytes, Channels.newChannel(bytes));
                    checkSlice(who, asked, transferred(bytes, asked));
                }
            } catch (OffsetOutOfRangeException e) {
                checkOutOfRange(who, asked, e, writer, store);
            } catch (RuntimeException e) {
                violation(who + ": " + e);
            }
        }
        return null;
    }

    /** The records a transfer sent, from {@code asked} on. */
    private static List<LogRecord> transferred(ByteArrayOutputStream bytes, long asked) {
        List<LogRecord> records = new ArrayList<>();
        for (LogRecord record : RecordDecoder.decode(ByteBuffer.wrap(bytes.toByteArray()))) {
            if (record.offset() >= asked) {
                records.add(record);
            }
        }
        return records;
    }

    private Void timestampSeeks(LogStore store, LogStore writer, int seed) {
        Random random = new Random(seed);
        try (LogReader reader = store.reader(0)) {
            while (running) {
                long start = writer.startOffset(0);
                long writerNext = writer.nextOffset(0);
                long asked = start + random.nextInt(Math.max(1, (int) (writerNext - start)));
                try {
                    // Timestamps are offset * 10: the seek lands on the first record at or after
                    // asked, or, when retention removed that meanwhile, on the first one left.
                    long landed = reader.seekToTimestamp(asked * 10).position();
                    long expected = successor(asked);
                    if (landed != expected && !(expected < startOffset(store, writer) && landed > expected)) {
                        violation("seekToTimestamp(" + asked * 10 + ") landed at " + landed + ", not at " + expected
                                + " (the writer's next offset was " + writerNext + " before the seek; the view's "
                                + store.partitionInfo(0) + " after it)");
                    }
                    checkSlice("poll after seekToTimestamp(" + asked * 10 + ")", landed, reader.poll(3, 4096));
                } catch (OffsetOutOfRangeException e) {
                    checkOutOfRange("seekToTimestamp", asked, e, writer, store);
                }
            }
        } catch (RuntimeException e) {
            violation("seekToTimestamp: " + e);
        }
        return null;
    }
}
