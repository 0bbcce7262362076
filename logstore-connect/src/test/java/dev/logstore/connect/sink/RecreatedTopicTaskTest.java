package dev.logstore.connect.sink;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.logstore.LogReader;
import dev.logstore.LogStore;
import dev.logstore.connect.config.TopicMetadata;
import dev.logstore.record.LogRecord;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.admin.MockAdminClient;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.TopicCollection;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.TopicPartitionInfo;
import org.apache.kafka.common.record.TimestampType;
import org.apache.kafka.connect.data.Schema;
import org.apache.kafka.connect.errors.ConnectException;
import org.apache.kafka.connect.sink.SinkRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A topic deleted and re-created while a task archives it, when the consumer never saw it go: the
 * periodic check finds the new id, the task starts a new generation of the store and archives the
 * new topic from its first offset.
 */
class RecreatedTopicTaskTest {

    private static final TopicPartition TP0 = new TopicPartition("orders", 0);
    private static final TopicPartition TP1 = new TopicPartition("orders", 1);
    private static final Node NODE = new Node(0, "127.0.0.1", 9092);

    @TempDir
    Path root;

    private final MockAdminClient admin = new MockAdminClient(List.of(NODE), NODE);
    private final List<LogStoreSinkTask> tasks = new ArrayList<>();

    @AfterEach
    void stop() {
        tasks.forEach(LogStoreSinkTask::stop);
    }

    private void createTopic() {
        List<TopicPartitionInfo> partitions = List.of(new TopicPartitionInfo(0, NODE, List.of(NODE), List.of(NODE)),
                new TopicPartitionInfo(1, NODE, List.of(NODE), List.of(NODE)));
        admin.addTopic(false, "orders", partitions, Map.of());
    }

    /** Deletes and creates the topic again, and lets the tasks' metadata interval pass. */
    private void recreateTopicOnceTheIntervalHasPassed() throws Exception {
        admin.deleteTopics(TopicCollection.ofTopicNames(List.of("orders"))).all().get();
        createTopic();
        Thread.sleep(1100);
    }

    private String topicId() throws Exception {
        return admin.describeTopics(List.of("orders")).allTopicNames().get().get("orders").topicId().toString();
    }

    private LogStoreSinkTask task(FakeSinkTaskContext context, String recreated) {
        LogStoreSinkTask task = new LogStoreSinkTask();
        task.initialize(context);
        task.useAdmins(settings -> admin); // closing a MockAdminClient changes nothing: tasks share it
        task.start(Map.of(LogStoreSinkConfig.LOGSTORE_DIR, root.toString(),
                LogStoreSinkConfig.KAFKA_BOOTSTRAP, "127.0.0.1:9092",
                LogStoreSinkConfig.METADATA_INTERVAL_MS, "1000",
                LogStoreSinkConfig.GROUPS_INTERVAL_MS, "0",
                LogStoreSinkConfig.RECREATED_TOPIC, recreated));
        tasks.add(task);
        return task;
    }

    private static List<SinkRecord> records(TopicPartition tp, long from, long to, String tag) {
        List<SinkRecord> records = new ArrayList<>();
        for (long offset = from; offset < to; offset++) {
            records.add(new SinkRecord(tp.topic(), tp.partition(), Schema.OPTIONAL_BYTES_SCHEMA, null,
                    Schema.OPTIONAL_BYTES_SCHEMA, (tag + offset).getBytes(StandardCharsets.UTF_8), offset, 1_000L + offset,
                    TimestampType.CREATE_TIME));
        }
        return records;
    }

    private static List<String> archived(Path store, int partition) {
        List<String> values = new ArrayList<>();
        try (LogStore opened = LogStore.builder(store).readOnly().open(); LogReader reader = opened.reader(partition)) {
            List<LogRecord> batch;
            while (!(batch = reader.poll(1000, 1 << 20)).isEmpty()) {
                batch.forEach(r -> values.add(r.offset() + ":" + new String(r.value(), StandardCharsets.UTF_8)));
            }
        }
        return values;
    }

    private static Map<TopicPartition, OffsetAndMetadata> positions(long p0, long p1) {
        return new HashMap<>(Map.of(TP0, new OffsetAndMetadata(p0), TP1, new OffsetAndMetadata(p1)));
    }

    @Test
    void aTopicRecreatedUnseenStartsANewGenerationFromItsFirstOffset() throws Exception {
        createTopic();
        String oldId = topicId();
        FakeSinkTaskContext context = new FakeSinkTaskContext(false);
        LogStoreSinkTask task = task(context, "new_generation");
        task.open(List.of(TP0, TP1));
        task.put(records(TP0, 0, 10, "old-"));
        task.put(records(TP1, 0, 10, "old-"));
        assertEquals(positions(10, 10), task.preCommit(positions(10, 10)));

        recreateTopicOnceTheIntervalHasPassed();
        String newId = topicId();
        assertFalse(oldId.equals(newId));
        context.rewinds.clear();
        Map<TopicPartition, OffsetAndMetadata> reported = task.preCommit(positions(10, 10));
        assertTrue(reported.isEmpty(), "nothing of the re-created topic is reported before it is archived: " + reported);
        assertEquals(Map.of(TP0, 0L, TP1, 0L), context.rewinds, "both partitions start over at the new topic's start");

        Path previous = root.resolve("orders." + oldId);
        assertEquals(10, archived(previous, 0).size());
        assertEquals("9:old-9", archived(previous, 1).get(9));
        TopicMetadata now = TopicMetadata.read(root.resolve("orders"));
        assertEquals(newId, now.topicId());
        assertEquals("orders." + oldId, now.previousGeneration());

        // The consumer, rewound, delivers the new topic from its first offset.
        task.put(records(TP0, 0, 4, "new-"));
        task.put(records(TP1, 0, 3, "new-"));
        assertEquals(positions(4, 3), task.preCommit(positions(4, 3)));
        assertEquals(List.of("0:new-0", "1:new-1", "2:new-2", "3:new-3"), archived(root.resolve("orders"), 0));
        assertEquals(List.of("0:new-0", "1:new-1", "2:new-2"), archived(root.resolve("orders"), 1));
        assertEquals(10, archived(previous, 0).size(), "the old generation is left as it was");

        // A restart resumes in the new generation where it ends.
        task.stop();
        tasks.remove(task);
        FakeSinkTaskContext again = new FakeSinkTaskContext(false);
        LogStoreSinkTask restarted = task(again, "new_generation");
        restarted.open(List.of(TP0, TP1));
        assertEquals(Map.of(TP0, 4L, TP1, 3L), again.rewinds);
        assertTrue(Files.isDirectory(previous));
    }

    @Test
    void withFailTheTaskStopsSayingWhatToMoveAndTheArchiveStaysAsItWas() throws Exception {
        createTopic();
        String oldId = topicId();
        FakeSinkTaskContext context = new FakeSinkTaskContext(false);
        LogStoreSinkTask task = task(context, "fail");
        task.open(List.of(TP0, TP1));
        task.put(records(TP0, 0, 5, "old-"));
        task.preCommit(positions(5, 0));
        recreateTopicOnceTheIntervalHasPassed();
        ConnectException e = org.junit.jupiter.api.Assertions.assertThrows(ConnectException.class,
                () -> task.preCommit(positions(5, 0)));
        assertTrue(e.getMessage().contains(oldId) && e.getMessage().contains("orders." + oldId)
                && e.getMessage().contains(LogStoreSinkConfig.RECREATED_TOPIC), e.getMessage());
        assertEquals(oldId, TopicMetadata.read(root.resolve("orders")).topicId());
        assertEquals(5, archived(root.resolve("orders"), 0).size());
        assertFalse(Files.exists(root.resolve("orders." + oldId)));
    }
}
