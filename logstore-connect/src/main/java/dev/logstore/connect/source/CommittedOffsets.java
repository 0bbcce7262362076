package dev.logstore.connect.source;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.connect.storage.OffsetStorageReader;

/**
 * Finds the committed source offsets of store partitions. Connect looks offsets up by the exact
 * bytes of the serialized source-partition map. Tasks commit under the partition-first order, and
 * Connect writes offset resets and alterations (KIP-875) under it too; LogStore 0.1 built the map
 * in an order that changed from one JVM to the next, so it may have committed under either order.
 * So each partition is looked up under both, and the further offset wins (a replay only moves
 * forward), except for partitions whose offsets were reset or altered through Connect: for those
 * only the partition-first order counts, or an older offset under the other would undo the change.
 */
final class CommittedOffsets {

    private CommittedOffsets() {
    }

    /**
     * The committed offset of each unit that has one.
     *
     * @param altered units whose offsets were reset or altered through Connect (see {@link AlteredOffsets})
     */
    static Map<StorePartition, Map<String, Object>> find(OffsetStorageReader reader, List<StorePartition> units,
                                                         Set<StorePartition> altered) {
        Map<StorePartition, Map<String, Object>> found = new HashMap<>();
        lookUp(reader, units, 0, found);
        lookUp(reader, units.stream().filter(unit -> !altered.contains(unit)).toList(), 1, found);
        return found;
    }

    /** One lookup for every unit under one key order (a unit's two maps are equal, so they cannot share a call). */
    private static void lookUp(OffsetStorageReader reader, List<StorePartition> units, int order,
                               Map<StorePartition, Map<String, Object>> found) {
        if (units.isEmpty()) {
            return;
        }
        List<Map<String, Object>> keys = units.stream().map(u -> u.sourcePartitionInEitherOrder().get(order)).toList();
        Map<Map<String, Object>, Map<String, Object>> committed = reader.offsets(keys);
        if (committed == null) {
            return;
        }
        for (StorePartition unit : units) {
            Map<String, Object> offset = committed.get(unit.sourcePartitionInEitherOrder().get(order));
            if (offset != null && position(offset) > position(found.get(unit))) {
                found.put(unit, offset);
            }
        }
    }

    private static long position(Map<String, Object> offset) {
        Object position = offset == null ? null : offset.get(PartitionReplay.OFFSET_KEY);
        return position instanceof Number number ? number.longValue() : -1;
    }
}
