package dev.logstore.connect.source;

import static dev.logstore.connect.source.ConnectorStarts.planned;
import static dev.logstore.connect.source.ConnectorStarts.taskConfigs;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.logstore.LogStore;
import dev.logstore.record.Record;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.connect.errors.ConnectException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A replay's start and end are decided once, when it begins, and held across restarts. */
class ReplayPlanTest {

    @TempDir
    Path root;

    private void append(int count) {
        try (LogStore store = LogStore.builder(root.resolve("orders")).partitions(2).open()) {
            for (int p = 0; p < 2; p++) {
                long next = store.nextOffset(p);
                for (int i = 0; i < count; i++) {
                    store.append(p, List.of(Record.of(null, new byte[] {1}, 1_000 + next + i)));
                }
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
    @Test
    void aSnapshotIsTheArchivesEndWhenTheReplayBeganAcrossRestarts() {
        append(10);
        Map<StorePartition, ReplayPlan.Range> first = planned(config(Map.of()));
        assertEquals(new ReplayPlan.Range(0, 10), first.get(new StorePartition("orders", 0)));
        assertEquals(new ReplayPlan.Range(0, 10), first.get(new StorePartition("orders", 1)));
        assertTrue(Files.exists(root.resolve(".replay-plans/replay-orders.properties")));
        append(5);
        assertEquals(first, planned(config(Map.of())), "a restarted connector keeps the snapshot it began with");
    }

    @Test
    void aChangedEndIsHonouredAndAResetPartitionIsPlannedAgain() {
        append(10);
        planned(config(Map.of()));
        append(10);
        Map<StorePartition, ReplayPlan.Range> changed = planned(config(Map.of(LogStoreSourceConfig.END, "offset",
                LogStoreSourceConfig.END_OFFSET, "15")));
        assertEquals(new ReplayPlan.Range(0, 15), changed.get(new StorePartition("orders", 0)));

        Map<String, String> snapshot = config(Map.of());
        assertEquals(new ReplayPlan.Range(0, 20), planned(snapshot).get(new StorePartition("orders", 1)),
                "back to a snapshot: a new one, of the archive as it is now");
        append(4);
        Map<Map<String, ?>, Map<String, ?>> reset = new HashMap<>();
        reset.put(new StorePartition("orders", 1).sourcePartition(), null);
        assertTrue(new LogStoreSourceConnector().alterOffsets(snapshot, reset));
        Map<StorePartition, ReplayPlan.Range> after = planned(snapshot);
        assertEquals(new ReplayPlan.Range(0, 20), after.get(new StorePartition("orders", 0)));
        assertEquals(new ReplayPlan.Range(0, 24), after.get(new StorePartition("orders", 1)),
                "the reset partition's snapshot is taken again");
    }

    @Test
    void aStoreThatAppearsAfterTheSnapshotIsNotReplayedUntilItsOffsetsAreReset() {
        append(10);
        Map<String, String> snapshot = config(Map.of());
        planned(snapshot);
        try (LogStore late = LogStore.builder(root.resolve("refunds")).partitions(1).open()) {
            late.append(0, List.of(Record.of(null, new byte[] {1}, 5_000)));
            late.append(0, List.of(Record.of(null, new byte[] {2}, 5_001)));
        }
        StorePartition refunds = new StorePartition("refunds", 0);
        Map<StorePartition, ReplayPlan.Range> restarted = planned(snapshot);
        assertEquals(new ReplayPlan.Range(2, 2), restarted.get(refunds), "not in the archive when the snapshot was taken");
        assertEquals(new ReplayPlan.Range(0, 10), restarted.get(new StorePartition("orders", 0)));

        Map<Map<String, ?>, Map<String, ?>> reset = new HashMap<>();
        reset.put(refunds.sourcePartition(), null);
        new LogStoreSourceConnector().alterOffsets(snapshot, reset);
        assertEquals(new ReplayPlan.Range(0, 2), planned(snapshot).get(refunds), "a reset takes its snapshot now");
    }

    @Test
    void resetAndAlteredPartitionsAreMarkedInTheirTasksConfigurationEvenAfterThePlanIsDeleted() throws Exception {
        append(10);
        Map<String, String> snapshot = config(Map.of());
        Map<Map<String, ?>, Map<String, ?>> request = new HashMap<>();
        request.put(new StorePartition("orders", 1).sourcePartition(), null);
        request.put(new StorePartition("orders", 0).sourcePartition(), Map.of("offset", 3));
        // Before the replay was ever planned (a connector from LogStore 0.1 had no plan).
        new LogStoreSourceConnector().alterOffsets(snapshot, request);
        assertEquals("orders:0,orders:1", marks(snapshot), "reset and altered partitions are marked");
        assertEquals(new ReplayPlan.Range(0, 10), planned(snapshot).get(new StorePartition("orders", 0)),
                "an alteration keeps the partition's planned range");

        // Deleting the plan (as a damaged plan's message says) plans again, and keeps the marks.
        Files.delete(root.resolve(".replay-plans/replay-orders.properties"));
        assertEquals("orders:0,orders:1", marks(snapshot));
        assertTrue(Files.readString(root.resolve(".replay-plans/replay-orders.offsets-altered")).contains("orders:1"));
    }

    private static String marks(Map<String, String> props) {
        java.util.TreeSet<String> marked = new java.util.TreeSet<>();
        for (Map<String, String> task : taskConfigs(props)) {
            for (String unit : task.get(LogStoreSourceConfig.TASK_OFFSETS_ALTERED).split(",")) {
                if (!unit.isEmpty()) {
                    marked.add(unit);
                }
            }
        }
        return String.join(",", marked);
    }

    @Test
    void aDeleteOfAllOffsetsLeavesPartitionsOutsideTheSnapshotOutAndAResetOfOneBringsItIn() {
        append(10);
        Map<String, String> snapshot = config(Map.of());
        planned(snapshot);
        try (LogStore grown = LogStore.builder(root.resolve("orders")).partitions(3).growPartitions().open()) {
            grown.append(2, List.of(Record.of(null, new byte[] {1}, 5_000)));
        }
        StorePartition late = new StorePartition("orders", 2);
        assertEquals(new ReplayPlan.Range(1, 1), planned(snapshot).get(late));

        // DELETE /connectors/<name>/offsets resets the partitions that have a committed offset
        // (the task committed none for the late one: it had nothing to replay).
        Map<Map<String, ?>, Map<String, ?>> delete = new HashMap<>();
        delete.put(new StorePartition("orders", 0).sourcePartition(), null);
        delete.put(new StorePartition("orders", 1).sourcePartition(), null);
        new LogStoreSourceConnector().alterOffsets(snapshot, delete);
        assertEquals(new ReplayPlan.Range(1, 1), planned(snapshot).get(late), "still outside the snapshot");

        // The log says to PATCH a null offset for it: that brings it in.
        Map<Map<String, ?>, Map<String, ?>> patch = new HashMap<>();
        patch.put(late.sourcePartition(), null);
        new LogStoreSourceConnector().alterOffsets(snapshot, patch);
        assertEquals(new ReplayPlan.Range(0, 1), planned(snapshot).get(late));
    }

    @Test
    void aDamagedPlanFileSaysToDeleteIt() throws Exception {
        append(1);
        Files.createDirectories(root.resolve(".replay-plans"));
        Files.writeString(root.resolve(".replay-plans/replay-orders.properties"), "settings=x\\u00zz\n");
        ConnectException e = assertThrows(ConnectException.class, () -> planned(config(Map.of())));
        assertTrue(e.getMessage().contains("is damaged") && e.getMessage().contains("delete it"), e.getMessage());
        Files.writeString(root.resolve(".replay-plans/replay-orders.properties"), "settings=x\npartition.orders\\:0=1\n");
        e = assertThrows(ConnectException.class, () -> planned(config(Map.of())));
        assertTrue(e.getMessage().contains("is damaged"), e.getMessage());
    }

    @Test
    void anUnwritablePlanDirectorySaysWhatToSet() throws Exception {
        append(1);
        Path file = Files.writeString(root.resolve("not-a-directory"), "x");
        ConnectException e = assertThrows(ConnectException.class,
                () -> planned(config(Map.of(LogStoreSourceConfig.REPLAY_PLAN_DIR, file.toString()))));
        assertTrue(e.getMessage().contains(LogStoreSourceConfig.REPLAY_PLAN_DIR), e.getMessage());
    }
}
