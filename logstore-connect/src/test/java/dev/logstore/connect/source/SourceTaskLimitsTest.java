package dev.logstore.connect.source;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.logstore.LogStore;
import dev.logstore.record.Record;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.connect.errors.ConnectException;
import org.apache.kafka.connect.source.SourceRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A source task returns from every poll within about a second, and handles records removed by retention one way. */
class SourceTaskLimitsTest {

    @TempDir
    Path root;

    private final List<LogStoreSourceTask> tasks = new ArrayList<>();

    @AfterEach
    void stopTasks() {
        tasks.forEach(LogStoreSourceTask::stop);
    }

    private LogStoreSourceTask start(String assignment, Map<String, String> extra) {
        Map<String, String> props = new HashMap<>();
        props.put("name", "replay");
        props.put(LogStoreSourceConfig.LOGSTORE_DIR, root.toString());
        props.put(LogStoreSourceConfig.TOPIC_FORMAT, "${topic}.replay");
        props.put(LogStoreSourceConfig.TASK_ASSIGNMENT, assignment);
        props.putAll(extra);
        FakeOffsetStorage storage = new FakeOffsetStorage("replay");
        LogStoreSourceTask task = new LogStoreSourceTask();
        task.initialize(storage.context());
        task.start(props);
        tasks.add(task);
        return task;
    }

    private LogStore store(long segmentBytes, long retentionBytes) {
        return LogStore.builder(root.resolve("orders")).partitions(1).segmentBytes(segmentBytes)
                .retentionBytes(retentionBytes).open();
    }

    private static void append(LogStore store, int count) {
        for (int i = 0; i < count; i++) {
            store.append(0, List.of(Record.of(null, new byte[100], 1_000 + i)));
        }
    }

    @Test
    void everyPollReturnsWithinAboutASecondWhateverTheRateLimitAndPollTimeout() throws Exception {
        try (LogStore store = store(1 << 20, -1)) {
            append(store, 10);
        }
        LogStoreSourceTask slow = start("orders:0:0:" + Long.MAX_VALUE, Map.of(LogStoreSourceConfig.RATE_LIMIT, "0.2",
                LogStoreSourceConfig.POLL_TIMEOUT_MS, "60000"));
        int emitted = 0;
        for (int i = 0; i < 4; i++) {
            long start = System.nanoTime();
            List<SourceRecord> records = slow.poll();
            long millis = (System.nanoTime() - start) / 1_000_000;
            assertTrue(millis < 1_500, "poll " + i + " took " + millis + " ms");
            emitted += records == null ? 0 : records.size();
        }
        assertEquals(1, emitted, "0.2 records per second: one record in about four seconds");
        LogStoreSourceTask idle = start("orders:0:10:" + Long.MAX_VALUE, Map.of(LogStoreSourceConfig.POLL_TIMEOUT_MS,
                "60000"));
        long start = System.nanoTime();
        assertEquals(null, idle.poll(), "nothing new while following");
        assertTrue(System.nanoTime() - start < 1_500_000_000L, "an idle poll returns within about a second");
    }

    @Test
    void recordsRemovedBeforeTheyWereReplayedFailTheTaskByDefaultAndAreSkippedAndCountedOnRequest() throws Exception {
        try (LogStore store = store(2048, 4096)) {
            append(store, 200);
            store.enforceRetention();
            long first = store.startOffset(0);
            assertTrue(first > 0);
            // At (re)start: the planned start is gone.
            ConnectException atStart = assertThrows(ConnectException.class,
                    () -> start("orders:0:0:200", Map.of()));
            assertTrue(atStart.getMessage().contains("removed offsets 0 to " + (first - 1)), atStart.getMessage());
            assertTrue(atStart.getMessage().contains(LogStoreSourceConfig.ON_REMOVED_RECORDS + "=skip"),
                    atStart.getMessage());
            LogStoreSourceTask skipping = start("orders:0:0:200", Map.of(LogStoreSourceConfig.ON_REMOVED_RECORDS,
                    "skip"));
            List<SourceRecord> replayed = skipping.poll();
            assertEquals(first + 1, replayed.get(0).sourceOffset().get("offset"));

            // While running: the replay is overtaken between two polls.
            LogStoreSourceTask failing = start("orders:0:" + first + ":400", Map.of(LogStoreSourceConfig.BATCH_SIZE, "1"));
            assertEquals(1, failing.poll().size());
            append(store, 100);
            store.enforceRetention();
            // The reader finishes the segment it holds, then hears that what followed is gone.
            ConnectException running = assertThrows(ConnectException.class, () -> {
                for (int i = 0; i < 400; i++) {
                    failing.poll();
                }
            });
            assertTrue(running.getMessage().contains("before they were replayed"), running.getMessage());
        }
    }
}
