package dev.logstore.connect.sink;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.logstore.LogStore;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.record.TimestampType;
import org.apache.kafka.connect.data.Schema;
import org.apache.kafka.connect.sink.SinkRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A first open creates the archive root; a re-created topic of the longest name is announced. */
class ArchiveRootAndNamesTest {

    private static final TopicPartition TP0 = new TopicPartition("orders", 0);

    @TempDir
    Path tmp;

    private final List<LogStoreSinkTask> tasks = new ArrayList<>();

    @AfterEach
    void stop() {
        tasks.forEach(LogStoreSinkTask::stop);
    }

    private static List<SinkRecord> records(long from, long to) {
        List<SinkRecord> records = new ArrayList<>();
        for (long offset = from; offset < to; offset++) {
            records.add(new SinkRecord(TP0.topic(), TP0.partition(), Schema.OPTIONAL_BYTES_SCHEMA,
                    ("k" + offset).getBytes(StandardCharsets.UTF_8), Schema.OPTIONAL_BYTES_SCHEMA,
                    ("v" + offset).getBytes(StandardCharsets.UTF_8), offset, 1_000L + offset, TimestampType.CREATE_TIME));
        }
        return records;
    }

    /**
     * logstore.dir may name a directory that does not exist yet (accepted when an ancestor is
     * writable): the first open creates it, with the first store.
     */
    @ParameterizedTest
    @ValueSource(strings = {"kafka", "key-hash"})
    void anArchiveRootNotCreatedYetIsCreatedOnFirstOpen(String mapping) {
        Path root = tmp.resolve("not-yet").resolve("archive");
        Map<String, String> props = new HashMap<>(Map.of(LogStoreSinkConfig.LOGSTORE_DIR, root.toString(),
                LogStoreSinkConfig.PARTITION_MAPPING, mapping));
        LogStoreSinkTask task = new LogStoreSinkTask();
        task.initialize(new FakeSinkTaskContext(false));
        task.start(props);
        tasks.add(task);
        task.open(List.of(TP0));
        task.put(records(0, 5));
        Map<TopicPartition, OffsetAndMetadata> done = task.preCommit(new HashMap<>(Map.of(TP0,
                new OffsetAndMetadata(5))));
        assertEquals(5, done.get(TP0).offset());
        assertTrue(LogStore.isStore(root.resolve("orders")));
    }

    /** A file named after a topic of Kafka's longest name (249 characters) still fits a file name (255). */
    @Test
    void theAnnouncementOfALongTopicIsWritten() {
        String topic = "t".repeat(249);
        StoreGenerations.announce(tmp, topic, "newId");
        assertTrue(StoreGenerations.announced(tmp, topic), "announcement of a 249-character topic not written");
    }
}
