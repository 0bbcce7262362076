package dev.logstore.connect.sink;

import dev.logstore.LogStore;
import java.util.HashSet;
import java.util.Set;

/**
 * One topic's store as a sink task archives it with Kafka mapping: one handle per topic per task,
 * owning for writing exactly the store partitions whose topic partitions the task is assigned, so
 * many assigned partitions cost one handle (and at most one background thread) instead of one
 * each.
 */
final class KafkaMappedStore implements AutoCloseable {

    private final LogStore store;
    private final Set<Integer> owned = new HashSet<>();

    private KafkaMappedStore(LogStore store) {
        this.store = store;
    }

    /** Opens the topic's store for writing (creating it if needed), owning no partition yet. */
    static KafkaMappedStore open(LogStore.Builder builder, int firstPartition) {
        return new KafkaMappedStore(builder.partitions(firstPartition + 1).growPartitions().ownedPartitions(Set.of())
                .open());
    }

    /**
     * Takes the store partition of {@code kafkaPartition} for writing (growing the store to hold
     * it) and returns its archive; closing that gives the partition back.
     *
     * @throws dev.logstore.StoreLockedException when another writer still holds it
     */
    synchronized TopicPartitionArchive archiveFor(int kafkaPartition) {
        store.own(kafkaPartition);
        owned.add(kafkaPartition);
        return new KafkaMappedArchive(store, kafkaPartition, () -> release(kafkaPartition));
    }

    private synchronized void release(int partition) {
        owned.remove(partition);
        store.disown(partition);
    }

    synchronized boolean inUse() {
        return !owned.isEmpty();
    }

    @Override
    public synchronized void close() {
        store.close();
    }
}
