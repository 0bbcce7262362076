package dev.logstore.connect.sink;

import dev.logstore.connect.config.DurableFiles;
import dev.logstore.LogStore;
import dev.logstore.record.Record;
import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.connect.errors.ConnectException;

/**
 * One topic archived with key-hash mapping: records spread over a fixed number of store
 * partitions by key, getting new archive offsets. Progress (the next Kafka offset per topic
 * partition) is kept in {@code sink-checkpoint.properties} beside the store, rewritten atomically
 * after every flush. A crash between a flush and the checkpoint re-archives what that flush
 * wrote: this mapping is at least once.
 */
final class KeyHashStore implements AutoCloseable {

    static final String CHECKPOINT_FILE = "sink-checkpoint.properties";

    private final LogStore store;
    private final Path checkpoint;
    private final Map<Integer, Long> durable = new HashMap<>();
    private final Map<Integer, Long> appended = new HashMap<>();
    private int users;

    private KeyHashStore(LogStore store, Path checkpoint) {
        this.store = store;
        this.checkpoint = checkpoint;
    }

    /**
     * Opens the store for key-hash archiving. A store with records but no checkpoint was archived
     * with Kafka mapping, at Kafka's offsets, and one with another partition count would put keys
     * elsewhere: both are refused, with what to set. A new store gets its (empty) checkpoint
     * before the first record, so the checkpoint always marks a key-hash store.
     */
    static KeyHashStore open(LogStore.Builder builder, int partitions, Path storeDir) {
        Path checkpoint = storeDir.resolve(CHECKPOINT_FILE);
        if (LogStore.isStore(storeDir)) {
            checkExisting(storeDir, partitions, Files.exists(checkpoint));
        }
        LogStore store = builder.partitions(partitions).open();
        KeyHashStore keyHash = new KeyHashStore(store, checkpoint);
        try {
            if (Files.exists(checkpoint)) {
                keyHash.durable.putAll(readCheckpoint(checkpoint));
            } else {
                keyHash.writeCheckpoint();
            }
        } catch (IOException | RuntimeException e) {
            store.close();
            if (e instanceof ConnectException connect) {
                throw connect;
            }
            throw new ConnectException("Cannot read the sink checkpoint " + checkpoint + ": " + e.getMessage(), e);
        }
        return keyHash;
    }

    private static void checkExisting(Path storeDir, int partitions, boolean hasCheckpoint) {
        try (LogStore existing = LogStore.builder(storeDir).readOnly().open()) {
            if (!hasCheckpoint && holdsRecords(existing)) {
                throw new ConnectException("The store " + storeDir + " holds records but no " + CHECKPOINT_FILE
                        + ": it was archived with " + LogStoreSinkConfig.PARTITION_MAPPING + "=kafka, at Kafka's "
                        + "offsets. Archive this topic with " + LogStoreSinkConfig.PARTITION_MAPPING + "=kafka as "
                        + "before, or move the store directory away to start a key-hash archive.");
            }
            if (existing.partitionCount() != partitions) {
                throw new ConnectException("The store " + storeDir + " has " + existing.partitionCount()
                        + " partitions, but " + LogStoreSinkConfig.PARTITIONS + "=" + partitions + ": a key-hash "
                        + "archive keeps its partition count, or the same key would land in another partition. Set "
                        + LogStoreSinkConfig.PARTITIONS + "=" + existing.partitionCount() + ", or move the store "
                        + "directory away to start a new archive.");
            }
        }
    }

    private static boolean holdsRecords(LogStore store) {
        for (int p = 0; p < store.partitionCount(); p++) {
            if (store.nextOffset(p) > 0) {
                return true;
            }
        }
        return false;
    }

    /** The refusal for a Kafka-mapped task that finds a key-hash store. */
    static void refuseUnderKafkaMapping(Path storeDir) {
        if (Files.exists(storeDir.resolve(CHECKPOINT_FILE))) {
            throw new ConnectException("The store " + storeDir + " was archived with "
                    + LogStoreSinkConfig.PARTITION_MAPPING + "=key-hash (it has " + CHECKPOINT_FILE + "): its "
                    + "partitions hold records by key, at archive offsets, not Kafka's. Archive this topic with "
                    + LogStoreSinkConfig.PARTITION_MAPPING + "=key-hash and the same " + LogStoreSinkConfig.PARTITIONS
                    + " as before, or move the store directory away to start a Kafka-mapped archive.");
        }
    }

    static Map<Integer, Long> readCheckpoint(Path file) throws IOException {
        Properties properties = new Properties();
        try (Reader reader = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            properties.load(reader);
        } catch (NoSuchFileException e) {
            return Map.of();
        }
        Map<Integer, Long> offsets = new HashMap<>();
        for (String key : properties.stringPropertyNames()) {
            offsets.put(Integer.parseInt(key), Long.parseLong(properties.getProperty(key)));
        }
        return offsets;
    }

    synchronized TopicPartitionArchive archiveFor(int kafkaPartition) {
        users++;
        return new TopicPartitionArchive() {
            @Override
            public long resumeOffset() {
                synchronized (KeyHashStore.this) {
                    return durable.getOrDefault(kafkaPartition, -1L);
                }
            }

            @Override
            public void append(long[] kafkaOffsets, List<Record> records) {
                KeyHashStore.this.append(kafkaPartition, kafkaOffsets, records);
            }

            @Override
            public void flush() {
                KeyHashStore.this.flush();
            }

            @Override
            public dev.logstore.PartitionInfo info() {
                return null;
            }

            @Override
            public void handledUpTo(long next) {
                KeyHashStore.this.handledUpTo(kafkaPartition, next);
            }

            @Override
            public void close() {
                release();
            }
        };
    }

    private synchronized void append(int kafkaPartition, long[] kafkaOffsets, List<Record> records) {
        Map<Integer, List<Record>> byPartition = new HashMap<>();
        for (Record record : records) {
            byPartition.computeIfAbsent(store.partitionFor(record.key()), p -> new ArrayList<>()).add(record);
        }
        byPartition.forEach(store::append);
        appended.put(kafkaPartition, kafkaOffsets[kafkaOffsets.length - 1] + 1);
    }

    private synchronized void flush() {
        if (appended.isEmpty()) {
            return;
        }
        store.flush();
        durable.putAll(appended);
        appended.clear();
        writeCheckpoint();
    }

    private synchronized void handledUpTo(int kafkaPartition, long next) {
        if (next > durable.getOrDefault(kafkaPartition, -1L) && !appended.containsKey(kafkaPartition)) {
            durable.put(kafkaPartition, next);
            writeCheckpoint();
        }
    }

    private void writeCheckpoint() {
        Properties properties = new Properties();
        durable.forEach((partition, offset) -> properties.setProperty(partition.toString(), offset.toString()));
        try {
            DurableFiles.write(checkpoint, properties,
                    "Next Kafka offset per topic partition archived by LogStoreSinkConnector");
        } catch (IOException e) {
            throw new ConnectException("Cannot write the sink checkpoint " + checkpoint + ": " + e.getMessage(), e);
        }
    }

    synchronized boolean inUse() {
        return users > 0;
    }

    private synchronized void release() {
        flush();
        users--;
    }

    @Override
    public synchronized void close() {
        store.close();
    }
}
