package dev.logstore.connect.source;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.connect.storage.OffsetStorageReader;

/**
 * Finds the committed source offsets of store partitions. Connect looks offsets up by the exact
 * bytes of the serialized source-partition map, so each partition is looked up under both key
 * orders (see {@link StorePartition}). Under the current order alone for a partition whose
 * offsets were reset or altered through Connect: those writes only reach the current order, and
 * an older offset under the other one would undo them. Otherwise, when both orders hold an
 * offset, the further one is the newer, since a replay only moves forward.
 */
final class CommittedOffsets {

    private CommittedOffsets() {
    }

    /**
     * The committed offset of each unit that has one.
     *
     * @param altered units whose offsets were reset or altered through Connect since LogStore 0.1
     */
    static Map<StorePartition, Map<String, Object>> find(OffsetStorageReader reader, List<StorePartition> units,
                                                         Set<StorePartition> altered) {
        Map<StorePartition, Map<String, Object>> found = new HashMap<>();
        for (int order = 0; order < 2; order++) {
            int which = order;
            List<StorePartition> asked = order == 0 ? units
                    : units.stream().filter(unit -> !altered.contains(unit)).toList();
            if (asked.isEmpty()) {
                continue;
            }
            // One lookup per order: the two maps of a unit are equal, so they cannot share a call.
            List<Map<String, Object>> keys = asked.stream().map(u -> u.sourcePartitionInEitherOrder().get(which)).toList();
            Map<Map<String, Object>, Map<String, Object>> committed = reader.offsets(keys);
            if (committed == null) {
                continue;
            }
            for (StorePartition unit : asked) {
                Map<String, Object> offset = committed.get(unit.sourcePartitionInEitherOrder().get(which));
                if (offset != null && position(offset) > position(found.get(unit))) {
                    found.put(unit, offset);
                }
            }
        }
        return found;
    }

    private static long position(Map<String, Object> offset) {
        Object position = offset == null ? null : offset.get(PartitionReplay.OFFSET_KEY);
        return position instanceof Number number ? number.longValue() : -1;
    }
}
