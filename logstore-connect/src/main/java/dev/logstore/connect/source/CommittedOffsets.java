package dev.logstore.connect.source;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.connect.storage.OffsetStorageReader;

/**
 * Finds the committed source offsets of store partitions. Connect looks offsets up by the exact
 * bytes of the serialized source-partition map, so each partition is looked up under both key
 * orders (see {@link StorePartition}); when both hold an offset, the further one is the newer,
 * since a replay only moves forward.
 */
final class CommittedOffsets {

    private CommittedOffsets() {
    }

    /** The committed offset of each unit that has one. */
    static Map<StorePartition, Map<String, Object>> find(OffsetStorageReader reader, List<StorePartition> units) {
        Map<StorePartition, Map<String, Object>> found = new HashMap<>();
        for (int order = 0; order < 2; order++) {
            int which = order;
            // One lookup per order: the two maps of a unit are equal, so they cannot share a call.
            List<Map<String, Object>> keys = units.stream().map(u -> u.sourcePartitionInEitherOrder().get(which)).toList();
            Map<Map<String, Object>, Map<String, Object>> committed = reader.offsets(keys);
            if (committed == null) {
                continue;
            }
            for (StorePartition unit : units) {
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
