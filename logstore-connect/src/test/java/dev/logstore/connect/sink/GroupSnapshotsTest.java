package dev.logstore.connect.sink;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.logstore.LogReader;
import dev.logstore.LogStore;
import dev.logstore.record.LogRecord;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.kafka.clients.admin.FakeGroupsAdmin;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.GroupAuthorizationException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The consumer-group snapshots across restarts, rebalances and unreadable groups. */
class GroupSnapshotsTest {

    @TempDir
    Path root;

    private static final TopicPartition TP0 = new TopicPartition("orders", 0);
    private static final TopicPartition TP1 = new TopicPartition("orders", 1);

    /** The state the snapshots hold now for one partition, as logstore groups reads it. */
    private Map<String, Long> state(int partition) {
        Map<String, Long> state = new TreeMap<>();
        try (LogStore store = LogStore.builder(root.resolve("orders").resolve("consumer-groups")).readOnly().open();
             LogReader reader = store.reader(partition)) {
            List<LogRecord> records;
            while (!(records = reader.poll(1000, 1 << 20)).isEmpty()) {
                for (LogRecord r : records) {
                    String group = new String(r.key(), StandardCharsets.UTF_8);
                    if (r.value() == null) {
                        state.remove(group);
                    } else {
                        state.put(group, Long.parseLong(new String(r.value(), StandardCharsets.UTF_8)));
                    }
                }
            }
        }
        return state;
    }

    /** A group deleted while the task was down (or while another task had the partition) is marked gone. */
    @Test
    void aGroupGoneWhileTheTaskWasDownIsMarkedGone() {
        FakeGroupsAdmin admin = new FakeGroupsAdmin();
        admin.groups.put("billing", Map.of(TP0, 5L));
        admin.groups.put("audit", Map.of(TP0, 7L));
        try (GroupSnapshots task = new GroupSnapshots(admin, root, "connect-archive", java.util.function.UnaryOperator.identity())) {
            task.snapshot(List.of(TP0));
        }
        assertEquals(Map.of("billing", 5L, "audit", 7L), state(0));
        admin.groups.remove("audit"); // deleted (or its offsets expired) while the task restarted
        try (GroupSnapshots restarted = new GroupSnapshots(admin, root, "connect-archive", java.util.function.UnaryOperator.identity())) {
            restarted.snapshot(List.of(TP0));
        }
        assertEquals(Map.of("billing", 5L), state(0), "the snapshots still give the deleted group its old offset");
    }

    /** One group the admin may not read holds no other group's snapshot back. */
    @Test
    void oneUnreadableGroupDoesNotStopTheOthersSnapshots() {
        FakeGroupsAdmin admin = new FakeGroupsAdmin();
        admin.groups.put("billing", Map.of(TP0, 5L));
        admin.groups.put("secret", null);
        admin.failure = new GroupAuthorizationException("Not authorized to access group: secret");
        try (GroupSnapshots task = new GroupSnapshots(admin, root, "connect-archive", java.util.function.UnaryOperator.identity())) {
            task.snapshot(List.of(TP0));
            task.snapshot(List.of(TP0));
        }
        assertEquals(true, LogStore.isStore(root.resolve("orders").resolve("consumer-groups")),
                "no snapshot at all was taken: billing's offsets are never kept");
        assertEquals(Map.of("billing", 5L), state(0));
    }

    /** Two tasks of one worker: partition 1 moves from task A to task B, then grows the store. */
    @Test
    void aPartitionMovedToAnotherTaskKeepsBeingSnapshotted() {
        FakeGroupsAdmin admin = new FakeGroupsAdmin();
        admin.groups.put("billing", Map.of(TP0, 5L, TP1, 6L));
        try (GroupSnapshots a = new GroupSnapshots(admin, root, "connect-archive", java.util.function.UnaryOperator.identity());
             GroupSnapshots b = new GroupSnapshots(admin, root, "connect-archive", java.util.function.UnaryOperator.identity())) {
            a.snapshot(List.of(TP0));
            b.snapshot(List.of(TP1)); // grows the store A has open to 2 partitions
            admin.groups.put("billing", Map.of(TP0, 15L, TP1, 16L));
            b.release(List.of(TP1));
            a.snapshot(List.of(TP0, TP1)); // rebalance: A gets partition 1
            admin.groups.put("billing", Map.of(TP0, 25L, TP1, 26L));
            a.snapshot(List.of(TP0, TP1));
        }
        assertEquals(Map.of("billing", 25L), state(0));
        assertEquals(Map.of("billing", 26L), state(1));
    }
}
