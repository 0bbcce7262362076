package dev.logstore.connect.source;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One replayable unit: a partition of a store. Its Connect source partition is
 * {@code {"partition": p, "store": name}}, always with the keys in that order.
 *
 * <p>The order matters: Connect finds committed source offsets by the exact bytes of the
 * serialized source-partition map, which its JSON converter writes in the map's iteration order.
 * When Connect itself writes offsets (an offset reset or alteration through its REST API) it
 * serializes the partition as a {@code HashMap}, which iterates these two keys partition first in
 * every JVM (String hashes are fixed). Committing in that order puts a task's commits, resets and
 * alterations on one key. LogStore 0.1 built the map with {@code Map.of}, whose order is
 * randomized per JVM, so offsets it committed may sit under the store-first order too;
 * {@link #sourcePartitionInEitherOrder()} names both.
 */
public record StorePartition(String store, int partition) implements Comparable<StorePartition> {

    public static final String STORE_KEY = "store";
    public static final String PARTITION_KEY = "partition";

    /** The source partition, partition first: the bytes Connect's own offset writes have, in every JVM. */
    public Map<String, Object> sourcePartition() {
        Map<String, Object> map = new LinkedHashMap<>(4);
        map.put(PARTITION_KEY, partition);
        map.put(STORE_KEY, store);
        return Collections.unmodifiableMap(map);
    }

    /**
     * The source partition in both key orders: partition first (as written now, and as Connect
     * writes resets and alterations) and store first (as LogStore 0.1 wrote it in some JVMs). The
     * two maps are equal as maps; only their serialized bytes differ.
     */
    public List<Map<String, Object>> sourcePartitionInEitherOrder() {
        Map<String, Object> storeFirst = new LinkedHashMap<>(4);
        storeFirst.put(STORE_KEY, store);
        storeFirst.put(PARTITION_KEY, partition);
        return List.of(sourcePartition(), Collections.unmodifiableMap(storeFirst));
    }

    /** The unit named by a Connect source partition; throws IllegalArgumentException when it is not one. */
    public static StorePartition fromSourcePartition(Map<String, ?> sourcePartition) {
        Object store = sourcePartition == null ? null : sourcePartition.get(STORE_KEY);
        Object partition = sourcePartition == null ? null : sourcePartition.get(PARTITION_KEY);
        boolean integral = partition instanceof Integer || partition instanceof Long || partition instanceof Short
                || partition instanceof Byte;
        if (sourcePartition == null || sourcePartition.size() != 2 || !(store instanceof String name) || !integral
                || ((Number) partition).longValue() < 0 || ((Number) partition).longValue() > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("source partition " + sourcePartition + " must be exactly {\""
                    + PARTITION_KEY + "\": <partition number, a whole number from 0>, \"" + STORE_KEY
                    + "\": <store name>}");
        }
        return new StorePartition(name, ((Number) partition).intValue());
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
