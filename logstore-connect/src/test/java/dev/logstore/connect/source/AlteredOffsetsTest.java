package dev.logstore.connect.source;

import static dev.logstore.connect.source.ConnectorStarts.planned;
import static dev.logstore.connect.source.ConnectorStarts.taskConfigs;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.logstore.LogStore;
import dev.logstore.record.Record;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import org.apache.kafka.connect.errors.ConnectException;
import org.apache.kafka.connect.source.SourceRecord;
import org.apache.logging.log4j.Level;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.core.LogEvent;
import org.apache.logging.log4j.core.LoggerContext;
import org.apache.logging.log4j.core.appender.AbstractAppender;
import org.apache.logging.log4j.core.config.Property;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Offsets moved through Connect's REST API (KIP-875) against offsets LogStore 0.1 committed, the
 * replay plan and the record of altered offsets: upgrades, concurrent requests, a moved
 * replay.plan.dir, partitions outside a snapshot, malformed requests.
 */
class AlteredOffsetsTest {

    @TempDir
    Path root;

    @TempDir
    Path elsewhere;

    private final List<String> warnings = new CopyOnWriteArrayList<>();
    private AbstractAppender capture;

    @BeforeEach
    void captureLog() {
        LoggerContext context = (LoggerContext) LogManager.getContext(false);
        capture = new AbstractAppender("altered-offsets-capture", null, null, true, Property.EMPTY_ARRAY) {
            @Override
            public void append(LogEvent event) {
                warnings.add(event.getMessage().getFormattedMessage());
            }
        };
        capture.start();
        context.getConfiguration().getRootLogger().addAppender(capture, Level.INFO, null);
        context.updateLoggers();
    }

    @AfterEach
    void stopCapture() {
        LoggerContext context = (LoggerContext) LogManager.getContext(false);
        context.getConfiguration().getRootLogger().removeAppender("altered-offsets-capture");
        context.updateLoggers();
        capture.stop();
    }

    // ---------------------------------------------------------------- helpers

    private void appendTo(String store, int partitions, int partition, int count) {
        try (LogStore s = LogStore.builder(root.resolve(store)).partitions(partitions).growPartitions().open()) {
            long next = s.nextOffset(partition);
            for (int i = 0; i < count; i++) {
                s.append(partition, List.of(Record.of(null, new byte[] {(byte) i}, 1_000 + next + i)));
            }
        }
    }

    private Map<String, String> config(Map<String, String> extra) {
        Map<String, String> props = new HashMap<>();
        props.put("name", "replay-orders");
        props.put(LogStoreSourceConfig.LOGSTORE_DIR, root.toString());
        props.put(LogStoreSourceConfig.TOPIC_FORMAT, "${topic}.replay");
        props.put(LogStoreSourceConfig.END, "snapshot");
        props.putAll(extra);
        return props;
    }

    private static String altered(Map<String, String> props) {
        StringBuilder marked = new StringBuilder();
        for (Map<String, String> task : taskConfigs(props)) {
            marked.append(task.get(LogStoreSourceConfig.TASK_OFFSETS_ALTERED));
        }
        return marked.toString();
    }

    private static Map<Map<String, ?>, Map<String, ?>> resetOf(StorePartition... units) {
        Map<Map<String, ?>, Map<String, ?>> request = new HashMap<>();
        for (StorePartition unit : units) {
            request.put(unit.sourcePartition(), null);
        }
        return request;
    }

    private static Map<String, Object> storeFirst(StorePartition unit) {
        Map<String, Object> map = new LinkedHashMap<>();
        map.put("store", unit.store());
        map.put("partition", unit.partition());
        return map;
    }

    // ---------------------------------------------------------------- offsets LogStore 0.1 left, and resets

    /**
     * LogStore 0.1 built the source partition with Map.of, whose order changes from one JVM to the
     * next, so a 0.1 connector whose worker restarted left offsets under both orders: the further
     * one is where the replay got to.
     */
    @Test
    void anUpgradeFrom01WithOffsetsUnderBothKeyOrdersResumesFromTheFurtherOne() throws Exception {
        appendTo("orders", 1, 0, 100);
        FakeOffsetStorage storage = new FakeOffsetStorage("replay");
        StorePartition unit = new StorePartition("orders", 0);
        storage.commit(unit.sourcePartition(), Map.of("offset", 30L)); // 0.1 in JVM A (partition-first hash order)
        storage.commit(storeFirst(unit), Map.of("offset", 80L));       // 0.1 in JVM B, later (store-first order)

        Map<String, String> props = config(Map.of());
        props.put("name", "replay");
        props.put(LogStoreSourceConfig.TASK_ASSIGNMENT, "orders:0:0:100");
        List<SourceRecord> replayed = storage.replayAll(props);
        assertEquals(20, replayed.size(), "0.1 had replayed up to offset 80; got " + replayed.size()
                + " records, starting after offset " + (replayed.isEmpty() ? "-" : replayed.get(0).sourceOffset()));
    }

    /** The warning for partitions left out of a snapshot gives a PATCH body to copy: it must be JSON. */
    @Test
    void theLoggedPatchBodyForAPartitionOutsideTheSnapshotIsValidJson() throws Exception {
        appendTo("orders", 2, 0, 10);
        Map<String, String> snapshot = config(Map.of());
        planned(snapshot);
        appendTo("orders", 3, 2, 1); // grows a partition after the snapshot
        planned(snapshot);
        String warning = warnings.stream().filter(w -> w.contains("appeared after the snapshot")).findFirst()
                .orElseThrow(() -> new AssertionError("no warning: " + warnings));
        String body = warning.substring(warning.indexOf("offsets with ") + "offsets with ".length(),
                warning.indexOf(". A DELETE"));
        JsonNode parsed;
        try {
            parsed = new ObjectMapper().readTree(body);
        } catch (Exception e) {
            throw new AssertionError("the logged PATCH body is not JSON: " + body, e);
        }
        assertEquals(2, parsed.get("offsets").get(0).get("partition").get("partition").asInt());
    }

    /**
     * Connect runs each offsets request on a thread of its own, so two requests for one connector
     * call alterOffsets at once: every acknowledged reset must be recorded, and none may fail.
     */
    @Test
    void concurrentResetsAreAllRecorded() throws Exception {
        int partitions = 16;
        for (int p = 0; p < partitions; p++) {
            appendTo("orders", partitions, p, 2);
        }
        for (int round = 0; round < 5; round++) {
            Map<String, String> props = config(Map.of("name", "replay-" + round));
            planned(props);
            CountDownLatch go = new CountDownLatch(1);
            List<Throwable> failures = Collections.synchronizedList(new ArrayList<>());
            List<StorePartition> acknowledged = Collections.synchronizedList(new ArrayList<>());
            List<Thread> threads = new ArrayList<>();
            for (int p = 0; p < partitions; p++) {
                StorePartition unit = new StorePartition("orders", p);
                Thread thread = new Thread(() -> {
                    try {
                        go.await();
                        new LogStoreSourceConnector().alterOffsets(props, resetOf(unit));
                        acknowledged.add(unit); // Connect now writes the reset and answers 200
                    } catch (Throwable t) {
                        failures.add(t);
                    }
                });
                thread.start();
                threads.add(thread);
            }
            go.countDown();
            for (Thread thread : threads) {
                thread.join();
            }
            java.util.Set<StorePartition> recorded = AlteredOffsets.read(new LogStoreSourceConfig(props), "replay-" + round);
            List<StorePartition> lost = acknowledged.stream().filter(u -> !recorded.contains(u)).toList();
                        assertEquals(List.of(), lost, "round " + round + ": acknowledged resets missing from the record");
            assertEquals(List.of(), failures, "round " + round + ": requests failed");
        }
    }

    /**
     * Setting replay.plan.dir later (as a read-only archive needs) carries the plan and the record
     * of altered offsets over: the snapshot keeps its end and a reset stays a reset.
     */
    @Test
    void movingReplayPlanDirKeepsTheSnapshotAndTheRecordOfAlteredOffsets() {
        appendTo("orders", 2, 0, 10);
        appendTo("orders", 2, 1, 10);
        Map<String, String> before = config(Map.of());
        assertEquals(new ReplayPlan.Range(0, 10), planned(before).get(new StorePartition("orders", 1)));
        new LogStoreSourceConnector().alterOffsets(before, resetOf(new StorePartition("orders", 0)));
        assertEquals("orders:0", altered(before));
        appendTo("orders", 2, 1, 5);

        Map<String, String> after = config(Map.of(LogStoreSourceConfig.REPLAY_PLAN_DIR, elsewhere.toString()));
        String marks = altered(after);
        ReplayPlan.Range range = planned(after).get(new StorePartition("orders", 1));
        assertEquals("orders:0 / Range[start=0, end=10]", marks + " / " + range,
                "the recorded reset and the snapshot the replay began with must survive the move of replay.plan.dir");
    }

    /**
     * A partition empty when the snapshot was taken is planned empty and commits nothing, so a
     * DELETE of all offsets does not reach it: the log names it and says how to replay it.
     */
    @Test
    void aPartitionEmptyAtTheSnapshotIsNamedInTheLogWithHowToReplayIt() {
        appendTo("orders", 2, 0, 10); // partition 1 exists but is empty
        Map<String, String> snapshot = config(Map.of());
        assertEquals(new ReplayPlan.Range(0, 0), planned(snapshot).get(new StorePartition("orders", 1)));
        appendTo("orders", 2, 0, 5);
        appendTo("orders", 2, 1, 7);

        // DELETE: Connect passes only the partitions with a committed offset (orders:1 has none).
        new LogStoreSourceConnector().alterOffsets(snapshot, resetOf(new StorePartition("orders", 0)));
        warnings.clear();
        Map<StorePartition, ReplayPlan.Range> after = planned(snapshot);
        assertEquals(new ReplayPlan.Range(0, 15), after.get(new StorePartition("orders", 0)));
        boolean replayed = after.get(new StorePartition("orders", 1)).end() == 7;
        boolean warned = warnings.stream().anyMatch(w -> w.contains("orders:1"));
        assertTrue(replayed || warned, "orders:1 planned " + after.get(new StorePartition("orders", 1))
                + " with 7 records in it, and no warning: " + warnings);
    }

    /**
     * A partition number that is not a whole number in int range, or extra keys, would make Connect
     * write an offset under a key no task reads: refused.
     */
    @Test
    void aSourcePartitionThatIsNotExactlyAStorePartitionIsRefused() {
        appendTo("orders", 1, 0, 10);
        Map<String, String> props = config(Map.of());
        Map<String, Object> overflow = new HashMap<>();
        overflow.put("partition", 4_294_967_296L);
        overflow.put("store", "orders");
        Map<Map<String, ?>, Map<String, ?>> alter = new HashMap<>();
        alter.put(overflow, Map.of("offset", 5L));
        assertThrows(ConnectException.class, () -> new LogStoreSourceConnector().alterOffsets(props, alter),
                "partition 4294967296 is not partition 0; Connect would write it under a key no task reads");
        Map<String, Object> fractional = new HashMap<>();
        fractional.put("partition", 0.0d);
        fractional.put("store", "orders");
        Map<Map<String, ?>, Map<String, ?>> reset = new HashMap<>();
        reset.put(fractional, null);
        assertThrows(ConnectException.class, () -> new LogStoreSourceConnector().alterOffsets(props, reset));
    }

    /** A damaged record fails the connector's start, where Connect's status shows it, naming the line. */
    @Test
    void aDamagedRecordFailsTheConnectorsStartNamingTheLine() throws Exception {
        appendTo("orders", 1, 0, 10);
        Map<String, String> props = config(Map.of());
        planned(props);
        Files.writeString(root.resolve(".replay-plans/replay-orders.offsets-altered"), "# header\norders:0\norders\n");
        ConnectException e = assertThrows(ConnectException.class, () -> taskConfigs(props));
        assertTrue(e.getMessage().contains("line 3") && e.getMessage().contains("keep the file"), e.getMessage());
    }

    /** A reset naming a store name that is not one (a line break in it) is refused and damages no file. */
    @Test
    void aResetNamingAnInvalidStoreIsRefusedAndDamagesNothing() {
        appendTo("orders", 1, 0, 10);
        Map<String, String> props = config(Map.of());
        planned(props);
        Map<Map<String, ?>, Map<String, ?>> reset = new HashMap<>();
        reset.put(new StorePartition("typo\nstill", 0).sourcePartition(), null);
        try {
            new LogStoreSourceConnector().alterOffsets(props, reset);
        } catch (ConnectException refused) {
            return; // refusing it is fine
        }
        taskConfigs(props); // must not fail
        new LogStoreSourceConnector().alterOffsets(props, resetOf(new StorePartition("orders", 0)));
    }

    /** Attempted and held: a stale offsets-reset file and plan from a deleted connector of the same name. */
    @Test
    void aConnectorRecreatedUnderTheSameNameResumesAtTheOffsetConnectKept() throws Exception {
        appendTo("orders", 1, 0, 10);
        Map<String, String> props = config(Map.of());
        planned(props);
        new LogStoreSourceConnector().alterOffsets(props, resetOf(new StorePartition("orders", 0)));
        // The connector is deleted; Connect keeps its offsets; it is re-created under the same name.
        FakeOffsetStorage storage = new FakeOffsetStorage("replay-orders");
        storage.commit(new StorePartition("orders", 0).sourcePartition(), Map.of("offset", 4L));
        storage.commit(storeFirst(new StorePartition("orders", 0)), Map.of("offset", 9L)); // 0.1, reset since
        List<Map<String, String>> tasks = taskConfigs(props);
        assertEquals(1, tasks.size());
        List<SourceRecord> replayed = storage.replayAll(tasks.get(0));
        assertEquals(6, replayed.size(), "resumes at the retained partition-first offset 4 up to the plan's end 10");
        assertTrue(Files.exists(AlteredOffsets.file(new LogStoreSourceConfig(props), "replay-orders")));
    }
}
