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
import java.util.concurrent.TimeUnit;
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
        createTopic("orders");
    }

    private void createTopic(String name) {
        List<TopicPartitionInfo> partitions = List.of(new TopicPartitionInfo(0, NODE, List.of(NODE), List.of(NODE)),
                new TopicPartitionInfo(1, NODE, List.of(NODE), List.of(NODE)));
        admin.addTopic(false, name, partitions, Map.of());
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
        return task(context, recreated, 1000);
    }

    private LogStoreSinkTask task(FakeSinkTaskContext context, String recreated, long metadataIntervalMillis) {
        LogStoreSinkTask task = new LogStoreSinkTask();
        task.initialize(context);
        task.useAdmins(settings -> admin); // closing a MockAdminClient changes nothing: tasks share it
        task.start(Map.of(LogStoreSinkConfig.LOGSTORE_DIR, root.toString(),
                LogStoreSinkConfig.KAFKA_BOOTSTRAP, "127.0.0.1:9092",
                LogStoreSinkConfig.METADATA_INTERVAL_MS, Long.toString(metadataIntervalMillis),
                LogStoreSinkConfig.GROUPS_INTERVAL_MS, "0",
                LogStoreSinkConfig.LOCK_WAIT_MS, "3000",
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
        // A commit may be the last before the partitions are revoked: it rewinds nothing (Connect
        // would seek a partition no longer assigned and fail the task); the next put starts over.
        assertEquals(Map.of(), context.rewinds);
        assertEquals(java.util.Set.of(TP0, TP1), context.paused);
        task.put(records(TP0, 10, 12, "new-")); // fetched before the pause, at the old position: dropped
        assertEquals(Map.of(TP0, 0L, TP1, 0L), context.rewinds, "both partitions start over at the new topic's start");
        assertEquals(java.util.Set.of(), context.paused);

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
        // Connect only logs a failed preCommit; the next put stops the task with the same reason.
        ConnectException stopped = org.junit.jupiter.api.Assertions.assertThrows(ConnectException.class,
                () -> task.put(records(TP0, 5, 6, "new-")));
        assertTrue(stopped.getMessage().contains("deleted and re-created")
                && !stopped.getMessage().contains("could not make the archive durable"), stopped.getMessage());
        assertEquals(oldId, TopicMetadata.read(root.resolve("orders")).topicId());
        assertEquals(5, archived(root.resolve("orders"), 0).size());
        assertFalse(Files.exists(root.resolve("orders." + oldId)));
    }

    private record TwoTasks(LogStoreSinkTask a, FakeSinkTaskContext contextA, LogStoreSinkTask b,
                            FakeSinkTaskContext contextB) {
    }

    /** Task a archiving orders-0 and task b orders-1, three records each, committed; metadata intervals as given. */
    private TwoTasks twoTasksArchiving(long intervalA, long intervalB) {
        FakeSinkTaskContext contextA = new FakeSinkTaskContext(false);
        FakeSinkTaskContext contextB = new FakeSinkTaskContext(false);
        LogStoreSinkTask a = task(contextA, "new_generation", intervalA);
        LogStoreSinkTask b = task(contextB, "new_generation", intervalB);
        a.open(List.of(TP0));
        b.open(List.of(TP1));
        a.put(records(TP0, 0, 3, "old-"));
        b.put(records(TP1, 0, 3, "old-"));
        a.preCommit(Map.of());
        b.preCommit(Map.of());
        return new TwoTasks(a, contextA, b, contextB);
    }

    /** What a stop between the two renames of a move leaves: the old store aside, the new one staged. */
    private void stopBetweenTheRenames(String oldId, String newId, boolean oldStoreMoved) throws Exception {
        Path staged = root.resolve(StoreGenerations.WORK).resolve("next").resolve("orders");
        Files.createDirectories(staged);
        new TopicMetadata("orders", newId, 2, Map.of(), 2).withPreviousGeneration("orders." + oldId).write(staged);
        if (oldStoreMoved) {
            Files.move(root.resolve("orders"), root.resolve("orders." + oldId));
        }
    }

    /**
     * A worker killed in the middle of a move: a task that restarts finishes it, marks the new
     * store as a new generation and archives the new topic from its first offset, although the
     * consumer's committed offset (5) counts the old topic's records.
     */
    @Test
    void aMoveStoppedBetweenItsRenamesIsFinishedAndTheNewTopicArchivedFromItsStart() throws Exception {
        for (boolean oldStoreMoved : new boolean[] {true, false}) {
            Path store = root.resolve("orders");
            createTopic();
            String oldId = topicId();
            LogStoreSinkTask first = task(new FakeSinkTaskContext(false), "new_generation");
            first.open(List.of(TP0));
            first.put(records(TP0, 0, 5, "old-"));
            first.preCommit(positions(5, 0));
            first.stop();
            tasks.remove(first);
            admin.deleteTopics(TopicCollection.ofTopicNames(List.of("orders"))).all().get();
            createTopic();
            String newId = topicId();
            stopBetweenTheRenames(oldId, newId, oldStoreMoved);

            FakeSinkTaskContext context = new FakeSinkTaskContext(false);
            LogStoreSinkTask restarted = task(context, "new_generation");
            restarted.open(List.of(TP0));
            restarted.put(List.of()); // a try at the waiting generation, as every put makes
            assertEquals(0L, context.rewinds.get(TP0), "stopped " + (oldStoreMoved ? "after" : "before")
                    + " the old store moved: the new topic is archived from its first offset");
            restarted.put(records(TP0, 0, 3, "new-"));
            restarted.preCommit(positions(3, 0));
            assertEquals(List.of("0:new-0", "1:new-1", "2:new-2"), archived(store, 0));
            assertEquals("orders." + oldId, TopicMetadata.read(store).previousGeneration());
            assertEquals(5, archived(root.resolve("orders." + oldId), 0).size());
            restarted.stop();
            tasks.remove(restarted);
            // Start the next round from nothing.
            admin.deleteTopics(TopicCollection.ofTopicNames(List.of("orders"))).all().get();
            try (var entries = Files.list(root)) {
                for (Path entry : entries.toList()) {
                    try (var tree = Files.walk(entry)) {
                        for (Path path : tree.sorted(java.util.Comparator.reverseOrder()).toList()) {
                            Files.delete(path);
                        }
                    }
                }
            }
        }
    }

    /**
     * Two topics re-created at once (a staging reset), two tasks each holding a partition of both,
     * checking them at the same moment: neither waits on the other; both generations start and
     * every partition starts over at its new topic's first offset.
     */
    @Test
    void twoTopicsRecreatedAtOnceUnderTwoTasksBothStartNewGenerations() throws Exception {
        createTopic("orders");
        createTopic("customers");
        TopicPartition customers0 = new TopicPartition("customers", 0);
        TopicPartition customers1 = new TopicPartition("customers", 1);
        FakeSinkTaskContext contextA = new FakeSinkTaskContext(false);
        FakeSinkTaskContext contextB = new FakeSinkTaskContext(false);
        LogStoreSinkTask a = task(contextA, "new_generation");
        LogStoreSinkTask b = task(contextB, "new_generation");
        a.open(List.of(TP0, customers1));
        b.open(List.of(TP1, customers0));
        for (TopicPartition tp : List.of(TP0, customers1)) {
            a.put(records(tp, 0, 3, "old-"));
        }
        for (TopicPartition tp : List.of(TP1, customers0)) {
            b.put(records(tp, 0, 3, "old-"));
        }
        a.preCommit(Map.of());
        b.preCommit(Map.of());
        for (String topic : List.of("orders", "customers")) {
            admin.deleteTopics(TopicCollection.ofTopicNames(List.of(topic))).all().get();
            createTopic(topic);
        }
        Thread.sleep(1100);
        contextA.rewinds.clear();
        contextB.rewinds.clear();
        java.util.concurrent.CyclicBarrier together = new java.util.concurrent.CyclicBarrier(2);
        List<java.util.concurrent.CompletableFuture<Void>> commits = new ArrayList<>();
        for (LogStoreSinkTask task : List.of(a, b)) {
            commits.add(java.util.concurrent.CompletableFuture.runAsync(() -> {
                try {
                    together.await();
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
                task.preCommit(Map.of());
            }));
        }
        for (var commit : commits) {
            commit.get(60, java.util.concurrent.TimeUnit.SECONDS);
        }
        Thread.sleep(1100);
        a.put(List.of()); // the task that could not move a store at once tries again
        b.put(List.of());
        assertEquals(Map.of(TP0, 0L, customers1, 0L), contextA.rewinds);
        assertEquals(Map.of(TP1, 0L, customers0, 0L), contextB.rewinds);
        for (String topic : List.of("orders", "customers")) {
            assertTrue(StoreGenerations.isNewGeneration(root.resolve(topic)), topic);
            try (var entries = Files.list(root)) {
                assertEquals(1, entries.filter(p -> p.getFileName().toString().startsWith(topic + ".")).count(), topic);
            }
        }
    }

    /**
     * The task that notices first cannot move the store while another task (whose own check is
     * five minutes away) still archives a partition of it: its partitions wait, paused, and the
     * other task, told by the announcement, notices within a second of its next put and lets go.
     * Nobody fails, and nothing of the new topic reaches the old generation after the announcement.
     */
    @Test
    void theTaskThatNoticesFirstWaitsPausedAndTheOthersNoticeFromItsAnnouncement() throws Exception {
        createTopic();
        String oldId = topicId();
        TwoTasks two = twoTasksArchiving(1000, 300_000);
        FakeSinkTaskContext contextA = two.contextA();
        FakeSinkTaskContext contextB = two.contextB();
        LogStoreSinkTask a = two.a();
        LogStoreSinkTask b = two.b();
        recreateTopicOnceTheIntervalHasPassed();

        assertTrue(a.preCommit(positions(3, 3)).isEmpty(), "A found the topic re-created");
        assertTrue(contextA.paused.contains(TP0), "A's partition waits, paused");
        assertTrue(Files.isDirectory(root.resolve("orders")) && !Files.exists(root.resolve("orders." + oldId)),
                "B still holds a partition of the old store: not moved yet");
        a.put(records(TP0, 3, 5, "fetched-before-the-pause-")); // dropped: delivered again from offset 0

        b.put(List.of()); // B sees the announcement, checks now, lets go and moves the store
        assertTrue(Files.isDirectory(root.resolve("orders." + oldId)), "B moved the store");
        assertEquals(0L, contextB.rewinds.get(TP1));
        Thread.sleep(1100);
        a.put(List.of()); // A finds the store moved and takes its partition back
        assertEquals(0L, contextA.rewinds.get(TP0));
        assertFalse(contextA.paused.contains(TP0), "A's partition is resumed");
        a.put(records(TP0, 0, 2, "new-"));
        assertEquals(Map.of(TP0, new OffsetAndMetadata(2)), a.preCommit(Map.of(TP0, new OffsetAndMetadata(2))));
        assertEquals(List.of("0:new-0", "1:new-1"), archived(root.resolve("orders"), 0));
        assertEquals(3, archived(root.resolve("orders." + oldId), 0).size(), "the old generation is as it was");
        assertFalse(StoreGenerations.announced(root, "orders"), "the announcement is withdrawn once the move is made");
    }

    /**
     * The put that starts a new generation (another task moved the store meanwhile) brings records
     * fetched at the consumer's old position: they are dropped, not archived at old offsets in the
     * new generation, and come again from the new topic's first offset.
     */
    @Test
    void recordsOfThePutThatStartsTheGenerationAreNotArchivedAtTheirOldOffsets() throws Exception {
        createTopic();
        String oldId = topicId();
        TwoTasks two = twoTasksArchiving(300_000, 1000);
        FakeSinkTaskContext contextA = two.contextA();
        FakeSinkTaskContext contextB = two.contextB();
        LogStoreSinkTask a = two.a();
        LogStoreSinkTask b = two.b();
        recreateTopicOnceTheIntervalHasPassed();
        b.preCommit(Map.of()); // B finds it re-created and waits for A's partition
        a.put(records(TP0, 3, 6, "new-")); // A sees the announcement, lets go, moves the store, reopens TP0
        assertTrue(Files.isDirectory(root.resolve("orders." + oldId)));
        assertEquals(0L, contextA.rewinds.get(TP0));
        a.put(records(TP0, 0, 6, "new-")); // as the consumer delivers after the rewind
        assertEquals(Map.of(TP0, new OffsetAndMetadata(6)), a.preCommit(Map.of(TP0, new OffsetAndMetadata(6))));
        assertEquals(List.of("0:new-0", "1:new-1", "2:new-2", "3:new-3", "4:new-4", "5:new-5"),
                archived(root.resolve("orders"), 0));
    }

    /**
     * A partition waiting for a new generation is revoked (Connect keeps it paused), the store is
     * moved by another task, and the partition comes back: it is opened in the new generation and
     * resumed, not left paused.
     */
    @Test
    void aWaitingPartitionRevokedAndGivenBackAfterTheMoveIsResumed() throws Exception {
        createTopic();
        String oldId = topicId();
        FakeSinkTaskContext contextA = new FakeSinkTaskContext(false);
        LogStoreSinkTask a = task(contextA, "new_generation");
        LogStoreSinkTask b = task(new FakeSinkTaskContext(false), "new_generation");
        a.open(List.of(TP0));
        b.open(List.of(TP1));
        a.put(records(TP0, 0, 3, "old-"));
        a.preCommit(Map.of());
        recreateTopicOnceTheIntervalHasPassed();
        a.preCommit(Map.of()); // A waits, paused, for B's partition
        assertTrue(contextA.paused.contains(TP0));
        a.close(List.of(TP0)); // revoked; Connect keeps it in its paused set
        b.put(List.of()); // B sees the announcement and moves the store
        assertTrue(Files.isDirectory(root.resolve("orders." + oldId)));
        contextA.rewinds.clear();
        a.open(List.of(TP0));
        assertFalse(contextA.paused.contains(TP0), "given back after the move, the partition is resumed");
        assertEquals(0L, contextA.rewinds.get(TP0));
    }

    /** A try from put() does not wait for the old store's writers: every other topic keeps flowing. */
    @Test
    void aTopicWaitingForItsGenerationDoesNotHoldPutsBack() throws Exception {
        createTopic();
        FakeSinkTaskContext contextA = new FakeSinkTaskContext(false);
        LogStoreSinkTask a = task(contextA, "new_generation");
        LogStoreSinkTask b = task(new FakeSinkTaskContext(false), "new_generation", 300_000);
        a.open(List.of(TP0));
        b.open(List.of(TP1)); // B never puts: it keeps its partition of the old store
        a.preCommit(Map.of());
        recreateTopicOnceTheIntervalHasPassed();
        a.preCommit(Map.of());
        long started = System.nanoTime();
        for (int i = 0; i < 3; i++) {
            Thread.sleep(1000);
            a.put(List.of());
        }
        long blocked = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started) - 3000;
        assertTrue(blocked < 1000, "puts blocked " + blocked + " ms");
        assertTrue(contextA.paused.contains(TP0), "still waiting for B");
    }
}
