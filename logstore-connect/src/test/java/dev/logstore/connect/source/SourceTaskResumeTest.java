package dev.logstore.connect.source;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.logstore.LogStore;
import dev.logstore.record.Record;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.connect.source.SourceRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A source task started in a new JVM finds what an earlier one committed, whatever that JVM's map order was. */
class SourceTaskResumeTest {

    @TempDir
    Path root;

    @Test
    void aTaskResumesAfterAnOffsetCommittedUnderEitherKeyOrder() throws Exception {
        try (LogStore store = LogStore.open(root.resolve("orders"), 1)) {
            for (int i = 0; i < 100; i++) {
                store.append(0, List.of(Record.of(null, new byte[] {(byte) i}, 1_000 + i)));
            }
        }
        FakeOffsetStorage storage = new FakeOffsetStorage("replay");
        Map<String, Object> storeFirst = new LinkedHashMap<>();
        storeFirst.put("store", "orders");
        storeFirst.put("partition", 0);
        storage.commit(storeFirst, Map.of("offset", 60L));

        Map<String, String> props = new HashMap<>();
        props.put("name", "replay");
        props.put(LogStoreSourceConfig.LOGSTORE_DIR, root.toString());
        props.put(LogStoreSourceConfig.TOPIC_FORMAT, "${topic}.replay");
        props.put(LogStoreSourceConfig.END, "snapshot");
        props.put(LogStoreSourceConfig.TASK_ASSIGNMENT, "orders:0:0:100");
        List<SourceRecord> replayed = storage.replayAll(props);
        assertEquals(40, replayed.size(), "offsets 60 to 99, none again");
        assertEquals(61L, replayed.get(0).sourceOffset().get("offset"));
        assertEquals(Map.of("store", "orders", "partition", 0), replayed.get(0).sourcePartition());
        assertEquals("[\"replay\",{\"partition\":0,\"store\":\"orders\"}]",
                storage.keyBytes(replayed.get(0).sourcePartition()), "committed from now on under the fixed order");
    }

    @Test
    void aPartitionWhoseOffsetsWereResetIgnoresAnOlderOffsetUnderTheOtherKeyOrder() throws Exception {
        try (LogStore store = LogStore.open(root.resolve("orders"), 1)) {
            for (int i = 0; i < 10; i++) {
                store.append(0, List.of(Record.of(null, new byte[] {(byte) i}, 1_000 + i)));
            }
        }
        FakeOffsetStorage storage = new FakeOffsetStorage("replay");
        Map<String, Object> storeFirst = new LinkedHashMap<>();
        storeFirst.put("store", "orders");
        storeFirst.put("partition", 0);
        storage.commit(storeFirst, Map.of("offset", 8L)); // by LogStore 0.1, before the reset

        Map<String, String> props = new HashMap<>();
        props.put("name", "replay");
        props.put(LogStoreSourceConfig.LOGSTORE_DIR, root.toString());
        props.put(LogStoreSourceConfig.TOPIC_FORMAT, "${topic}.replay");
        props.put(LogStoreSourceConfig.END, "snapshot");
        props.put(LogStoreSourceConfig.TASK_ASSIGNMENT, "orders:0:0:10");
        props.put(LogStoreSourceConfig.TASK_OFFSETS_ALTERED, "orders:0");
        assertEquals(10, storage.replayAll(props).size(), "the reset replays from the planned start");
    }
}
