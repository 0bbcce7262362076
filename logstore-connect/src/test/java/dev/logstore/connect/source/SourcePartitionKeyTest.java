package dev.logstore.connect.source;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * Connect finds a committed source offset by the exact bytes of the serialized source partition,
 * so the bytes must not depend on the JVM (a restarted worker, a task moved to another worker),
 * and must be the ones Connect writes when it resets or alters offsets.
 */
class SourcePartitionKeyTest {

    private final FakeOffsetStorage storage = new FakeOffsetStorage("replay");
    private final StorePartition unit = new StorePartition("orders", 4);

    private static Map<String, Object> storeFirst(StorePartition unit) {
        Map<String, Object> map = new LinkedHashMap<>();
        map.put("store", unit.store());
        map.put("partition", unit.partition());
        return map;
    }

    @Test
    void theSourcePartitionSerializesToTheSameBytesInEveryJvm() {
        // Pinned: any JVM must write exactly these bytes, whatever its hash seeds.
        assertEquals("[\"replay\",{\"partition\":4,\"store\":\"orders\"}]", storage.keyBytes(unit.sourcePartition()));
    }

    @Test
    void connectWritesResetsAndAlterationsUnderTheKeyTheTaskCommitsUnder() {
        storage.commit(unit.sourcePartition(), Map.of("offset", 500L));
        storage.writeAsConnectDoes(storeFirst(unit), Map.of("offset", 20L)); // a PATCH, keys in either order
        assertEquals(20L, CommittedOffsets.find(storage, List.of(unit), Set.of()).get(unit).get("offset"));
        storage.writeAsConnectDoes(storeFirst(unit), null); // a DELETE
        assertNull(CommittedOffsets.find(storage, List.of(unit), Set.of()).get(unit));
    }

    @Test
    void anOffsetCommittedUnderTheOtherKeyOrderIsFound() {
        assertTrue(storage.keyBytes(storeFirst(unit)).startsWith("[\"replay\",{\"store\""));
        storage.commit(storeFirst(unit), Map.of("offset", 4950L));
        Map<StorePartition, Map<String, Object>> found = CommittedOffsets.find(storage, List.of(unit), Set.of());
        assertEquals(4950L, found.get(unit).get("offset"), "LogStore 0.1 may have committed it in that order");
    }

    @Test
    void whenBothKeyOrdersHoldAnOffsetTheFurtherOneWins() {
        storage.commit(storeFirst(unit), Map.of("offset", 100L));
        storage.commit(unit.sourcePartition(), Map.of("offset", 250L));
        StorePartition other = new StorePartition("orders", 5);
        storage.commit(other.sourcePartition(), Map.of("offset", 7L));
        storage.commit(storeFirst(other), Map.of("offset", 9L)); // LogStore 0.1 in another JVM, later

        Map<StorePartition, Map<String, Object>> found = CommittedOffsets.find(storage, List.of(unit, other), Set.of());
        assertEquals(250L, found.get(unit).get("offset"));
        assertEquals(9L, found.get(other).get("offset"));
        StorePartition none = new StorePartition("orders", 6);
        assertNull(CommittedOffsets.find(storage, List.of(none), Set.of()).get(none));
    }

    @Test
    void aResetOrAlterationThroughConnectHidesAnOffsetUnderTheOtherKeyOrder() {
        // LogStore 0.1 committed 4950 store first; the user then reset the offsets through Connect,
        // and later moved the replay back to 30.
        storage.commit(storeFirst(unit), Map.of("offset", 4950L));
        storage.writeAsConnectDoes(unit.sourcePartition(), null);
        assertEquals(4950L, CommittedOffsets.find(storage, List.of(unit), Set.of()).get(unit).get("offset"),
                "without the record of the reset the older offset would come back");
        assertNull(CommittedOffsets.find(storage, List.of(unit), Set.of(unit)).get(unit),
                "the reset must not be undone by the older offset");
        storage.writeAsConnectDoes(unit.sourcePartition(), Map.of("offset", 30L));
        assertEquals(30L, CommittedOffsets.find(storage, List.of(unit), Set.of(unit)).get(unit).get("offset"),
                "an alteration moves a replay back, whatever 0.1 committed");
    }
}
