package dev.logstore.connect.source;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Connect finds a committed source offset by the exact bytes of the serialized source partition,
 * so the bytes must not depend on the JVM (a restarted worker, a task moved to another worker).
 */
class SourcePartitionKeyTest {

    private final FakeOffsetStorage storage = new FakeOffsetStorage("replay");

    @Test
    void theSourcePartitionSerializesToTheSameBytesInEveryJvm() {
        // Pinned: any JVM must write exactly these bytes, whatever its hash seeds.
        assertEquals("[\"replay\",{\"store\":\"orders\",\"partition\":4}]",
                storage.keyBytes(new StorePartition("orders", 4).sourcePartition()));
    }

    @Test
    void anOffsetCommittedUnderTheOtherKeyOrderIsFound() {
        StorePartition unit = new StorePartition("orders", 4);
        Map<String, Object> partitionFirst = new LinkedHashMap<>();
        partitionFirst.put("partition", 4);
        partitionFirst.put("store", "orders");
        assertTrue(storage.keyBytes(partitionFirst).startsWith("[\"replay\",{\"partition\""));
        storage.commit(partitionFirst, Map.of("offset", 4950L));

        Map<StorePartition, Map<String, Object>> found = CommittedOffsets.find(storage, List.of(unit));
        assertEquals(4950L, found.get(unit).get("offset"), "LogStore 0.1 may have committed it in that order");
    }

    @Test
    void whenBothKeyOrdersHoldAnOffsetTheFurtherOneWins() {
        StorePartition unit = new StorePartition("orders", 4);
        List<Map<String, Object>> orders = unit.sourcePartitionInEitherOrder();
        storage.commit(orders.get(1), Map.of("offset", 100L));
        storage.commit(orders.get(0), Map.of("offset", 250L));
        StorePartition other = new StorePartition("orders", 5);
        storage.commit(other.sourcePartitionInEitherOrder().get(0), Map.of("offset", 7L));
        storage.commit(other.sourcePartitionInEitherOrder().get(1), Map.of("offset", 9L));

        Map<StorePartition, Map<String, Object>> found = CommittedOffsets.find(storage, List.of(unit, other));
        assertEquals(250L, found.get(unit).get("offset"));
        assertEquals(9L, found.get(other).get("offset"));
        assertEquals(null, CommittedOffsets.find(storage, List.of(new StorePartition("orders", 6)))
                .get(new StorePartition("orders", 6)));
    }
}
