package dev.logstore.connect.source;

import java.util.Map;

/**
 * One replayable unit: a partition of a store. Its Connect source partition is
 * {@code {"store": name, "partition": p}}.
 */
public record StorePartition(String store, int partition) implements Comparable<StorePartition> {

    public static final String STORE_KEY = "store";
    public static final String PARTITION_KEY = "partition";

    public Map<String, Object> sourcePartition() {
        return Map.of(STORE_KEY, store, PARTITION_KEY, partition);
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
