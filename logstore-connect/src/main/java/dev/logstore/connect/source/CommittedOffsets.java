package dev.logstore.connect.source;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.connect.storage.OffsetStorageReader;

/**
 * Finds the committed source offsets of store partitions. Connect looks offsets up by the exact
 * bytes of the serialized source-partition map. Tasks commit under the partition-first order, and
 * Connect writes offset resets and alterations (KIP-875) under it too; LogStore 0.1 committed under
 * the store-first order (see {@link StorePartition}). An offset under the partition-first order is
 * therefore always the newer one and wins. The store-first order is asked only for partitions that
 * have none, and not for partitions whose offsets were reset through Connect: a reset removes the
 * partition-first offset, and the older store-first one must not undo it.
 */
final class CommittedOffsets {

    private CommittedOffsets() {
    }

    /**
     * The committed offset of each unit that has one.
     *
     * @param reset units whose offsets were reset through Connect (see {@link OffsetResets})
     */
    static Map<StorePartition, Map<String, Object>> find(OffsetStorageReader reader, List<StorePartition> units,
                                                         Set<StorePartition> reset) {
        Map<StorePartition, Map<String, Object>> found = new HashMap<>();
        lookUp(reader, units, 0, found);
        List<StorePartition> older = units.stream().filter(unit -> !found.containsKey(unit) && !reset.contains(unit))
                .toList();
        lookUp(reader, older, 1, found);
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
            if (offset != null) {
                found.put(unit, offset);
            }
        }
    }
}
