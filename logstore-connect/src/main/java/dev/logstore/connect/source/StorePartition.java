package dev.logstore.connect.source;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One replayable unit: a partition of a store. Its Connect source partition is
 * {@code {"store": name, "partition": p}}, always with the keys in that order.
 *
 * <p>The order matters: Connect finds committed source offsets by the exact bytes of the
 * serialized source-partition map, which its JSON converter writes in the map's iteration order.
 * LogStore 0.1 built the map with {@code Map.of}, whose order is randomized per JVM, so offsets it
 * committed may sit under either order; {@link #sourcePartitionInEitherOrder()} names both.
 */
public record StorePartition(String store, int partition) implements Comparable<StorePartition> {

    public static final String STORE_KEY = "store";
    public static final String PARTITION_KEY = "partition";

    /** The source partition, store first: the same bytes in every JVM. */
    public Map<String, Object> sourcePartition() {
        Map<String, Object> map = new LinkedHashMap<>(4);
        map.put(STORE_KEY, store);
        map.put(PARTITION_KEY, partition);
        return Collections.unmodifiableMap(map);
    }

    /**
     * The source partition in both key orders: store first (as written now) and partition first
     * (as LogStore 0.1 wrote it in some JVMs). The two maps are equal as maps; only their
     * serialized bytes differ.
     */
    public List<Map<String, Object>> sourcePartitionInEitherOrder() {
        Map<String, Object> partitionFirst = new LinkedHashMap<>(4);
        partitionFirst.put(PARTITION_KEY, partition);
        partitionFirst.put(STORE_KEY, store);
        return List.of(sourcePartition(), Collections.unmodifiableMap(partitionFirst));
    }

    /** The unit named by a Connect source partition; throws IllegalArgumentException when it is not one. */
    public static StorePartition fromSourcePartition(Map<String, ?> sourcePartition) {
        Object store = sourcePartition == null ? null : sourcePartition.get(STORE_KEY);
        Object partition = sourcePartition == null ? null : sourcePartition.get(PARTITION_KEY);
        if (!(store instanceof String name) || !(partition instanceof Number number)) {
            throw new IllegalArgumentException("source partition " + sourcePartition + " must be {\"" + STORE_KEY
                    + "\": <store name>, \"" + PARTITION_KEY + "\": <partition number>}");
        }
        return new StorePartition(name, number.intValue());
    }

    /** "store:partition", as in task assignments. */
    public String encode() {
        return store + ":" + partition;
    }

    public static StorePartition decode(String text) {
        int colon = text.lastIndexOf(':');
        return new StorePartition(text.substring(0, colon), Integer.parseInt(text.substring(colon + 1)));
    }

    @Override
    public int compareTo(StorePartition other) {
        int byStore = store.compareTo(other.store);
        return byStore != 0 ? byStore : Integer.compare(partition, other.partition);
    }

    @Override
    public String toString() {
        return encode();
    }
}
