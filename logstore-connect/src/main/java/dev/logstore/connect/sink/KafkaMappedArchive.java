package dev.logstore.connect.sink;

import dev.logstore.LogStore;
import dev.logstore.record.Record;
import java.util.List;
import java.util.Set;

/**
 * Topic partition p archived into store partition p, at the record's own Kafka offset. The
 * archive's next offset is therefore exactly the Kafka offset to resume at: the archive is its own
 * progress record, and exactly-once needs nothing else.
 */
final class KafkaMappedArchive implements TopicPartitionArchive {

    private final LogStore store;
    private final int partition;

    private KafkaMappedArchive(LogStore store, int partition) {
        this.store = store;
        this.partition = partition;
    }

    /** Opens the store of the topic owning only {@code partition}, growing it to hold that partition. */
    static KafkaMappedArchive open(LogStore.Builder builder, int partition) {
        LogStore store = builder.partitions(partition + 1).growPartitions().ownedPartitions(Set.of(partition)).open();
        return new KafkaMappedArchive(store, partition);
    }

    @Override
    public long resumeOffset() {
        long next = store.nextOffset(partition);
        return next == 0 ? -1 : next;
    }

    @Override
    public void append(long[] kafkaOffsets, List<Record> records) {
        store.append(partition, kafkaOffsets, records);
    }

    @Override
    public void flush() {
        store.flush(partition);
    }

    @Override
    public void close() {
        store.close();
    }
}
