package dev.logstore.connect.sink;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.logstore.LogReader;
import dev.logstore.LogStore;
import dev.logstore.record.LogRecord;
import java.nio.ByteBuffer;
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
import org.apache.kafka.connect.data.SchemaBuilder;
import org.apache.kafka.connect.data.Struct;
import org.apache.kafka.connect.errors.ConnectException;
import org.apache.kafka.connect.errors.DataException;
import org.apache.kafka.connect.header.ConnectHeaders;
import org.apache.kafka.connect.sink.SinkRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The sink task against a fake context: resumption, skipping, conversion and errors. */
class LogStoreSinkTaskTest {

    private static final TopicPartition TP0 = new TopicPartition("orders", 0);
    private static final TopicPartition TP1 = new TopicPartition("orders", 1);

    @TempDir
    Path root;

    private final List<LogStoreSinkTask> tasks = new ArrayList<>();

    @AfterEach
    void stopTasks() {
        tasks.forEach(LogStoreSinkTask::stop);
    }

    private LogStoreSinkTask task(FakeSinkTaskContext context, Map<String, String> extra) {
        Map<String, String> props = new HashMap<>(Map.of(LogStoreSinkConfig.LOGSTORE_DIR, root.toString()));
        props.putAll(extra);
        LogStoreSinkTask task = new LogStoreSinkTask();
        task.initialize(context);
        task.start(props);
        tasks.add(task);
        return task;
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static SinkRecord record(TopicPartition tp, long offset, Object key, Object value) {
        ConnectHeaders headers = new ConnectHeaders();
        headers.add("trace", bytes("t" + offset), Schema.OPTIONAL_BYTES_SCHEMA);
        headers.add("trace", null, Schema.OPTIONAL_BYTES_SCHEMA);
        return new SinkRecord(tp.topic(), tp.partition(), Schema.OPTIONAL_BYTES_SCHEMA, key,
                Schema.OPTIONAL_BYTES_SCHEMA, value, offset, 1_000L + offset, TimestampType.CREATE_TIME, headers);
    }

    private List<LogRecord> archived(int partition) {
        List<LogRecord> all = new ArrayList<>();
        try (LogStore store = LogStore.builder(root.resolve("orders")).readOnly().open();
             LogReader reader = store.reader(partition)) {
            List<LogRecord> batch;
            while (!(batch = reader.poll(1000, 1 << 20)).isEmpty()) {
                all.addAll(batch);
            }
        }
        return all;
    }

    /** Archives records of partition 0 with Kafka mapping through a task that then stops. */
    private void archivedByAnEarlierTask(SinkRecord... records) {
        LogStoreSinkTask earlier = task(new FakeSinkTaskContext(false), Map.of());
        earlier.open(List.of(TP0));
        earlier.put(List.of(records));
        earlier.preCommit(Map.of());
        earlier.stop();
    }

    /** An archive whose flush fails once, as an fsync that reports an I/O error does. */
    private static TopicPartitionArchive failingFlush(TopicPartitionArchive archive, boolean[] fail) {
        return new TopicPartitionArchive() {
            @Override
            public long resumeOffset() {
                return archive.resumeOffset();
            }

            @Override
            public void append(long[] kafkaOffsets, List<dev.logstore.record.Record> records) {
                archive.append(kafkaOffsets, records);
            }

            @Override
            public void flush() {
                if (fail[0]) {
                    fail[0] = false;
                    throw new dev.logstore.PartitionFailedException("fsync of the segment failed: Input/output error",
                            null);
                }
                archive.flush();
            }

            @Override
            public void handledUpTo(long next) {
                archive.handledUpTo(next);
            }

            @Override
            public dev.logstore.PartitionInfo info() {
                return archive.info();
            }

            @Override
            public void close() {
                archive.close();
            }
        };
    }

    @Test
    void recordsThatNeverReachTheArchiveAreCommittedPastAndNotDeliveredAgain() {
        FakeSinkTaskContext context = new FakeSinkTaskContext(false);
        LogStoreSinkTask task = task(context, Map.of(LogStoreSinkConfig.BEHAVIOR_ON_NULL_VALUES, "ignore"));
        task.open(List.of(TP0, TP1));
        // Offset 1 is an ignored tombstone; a transform dropped offsets 2 and 3 (Connect's position
        // says 4); partition 1 got nothing but dropped records.
        task.put(List.of(record(TP0, 0, null, bytes("a")), record(TP0, 1, bytes("k"), null)));
        Map<TopicPartition, OffsetAndMetadata> position = Map.of(TP0, new OffsetAndMetadata(4),
                TP1, new OffsetAndMetadata(7));
        Map<TopicPartition, OffsetAndMetadata> committed = task.preCommit(position);
        assertEquals(4, committed.get(TP0).offset(), "committed past what was deliberately not archived");
        assertEquals(7, committed.get(TP1).offset());
        task.stop();
        tasks.remove(task);
        assertEquals(1, archived(0).size());

        FakeSinkTaskContext again = new FakeSinkTaskContext(false);
        LogStoreSinkTask second = task(again, Map.of(LogStoreSinkConfig.BEHAVIOR_ON_NULL_VALUES, "ignore"));
        second.open(List.of(TP0, TP1));
        assertEquals(4L, again.rewinds.get(TP0), "the skipped records are not delivered again after a rebalance");
        assertEquals(7L, again.rewinds.get(TP1));
        second.put(List.of(record(TP0, 4, null, bytes("e"))));
        assertEquals(5, second.preCommit(Map.of()).get(TP0).offset());
        second.stop();
        tasks.remove(second);

        // Once later records are archived, the note about skipped ones is out of date and ignored.
        FakeSinkTaskContext third = new FakeSinkTaskContext(false);
        task(third, Map.of()).open(List.of(TP0));
        assertEquals(5L, third.rewinds.get(TP0));
    }

    @Test
    void aFailedFlushFailsTheTaskAtItsNextCallAlthoughConnectSwallowsThePreCommitError() {
        boolean[] fail = {true};
        LogStoreSinkTask task = task(new FakeSinkTaskContext(false), Map.of());
        task.wrapArchives(archive -> failingFlush(archive, fail));
        task.open(List.of(TP0));
        task.put(List.of(record(TP0, 0, null, bytes("a"))));
        ConnectException flush = assertThrows(ConnectException.class, () -> task.preCommit(Map.of()));
        assertTrue(flush.getMessage().contains("Input/output error"), flush.getMessage());
        // Connect logs that, rewinds and calls put again: the task must stop there, not go on.
        ConnectException next = assertThrows(ConnectException.class,
                () -> task.put(List.of(record(TP0, 1, null, bytes("b")))));
        assertTrue(next.getMessage().contains("an earlier offset commit could not make the archive durable"),
                next.getMessage());
        assertThrows(ConnectException.class, () -> task.preCommit(Map.of()), "nothing is committed any more");
    }

    @Test
    void aPartitionStillHeldByItsPreviousTaskIsWaitedFor() throws Exception {
        LogStore previous = LogStore.builder(root.resolve("orders")).partitions(1).growPartitions()
                .ownedPartitions(java.util.Set.of(0)).open();
        previous.append(0, 0, List.of(dev.logstore.record.Record.of(null, bytes("a"), 1)));
        Thread closer = new Thread(() -> {
            try {
                Thread.sleep(700);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            previous.close();
        });
        FakeSinkTaskContext context = new FakeSinkTaskContext(false);
        LogStoreSinkTask task = task(context, Map.of(LogStoreSinkConfig.LOCK_WAIT_MS, "20000"));
        long start = System.nanoTime();
        closer.start();
        task.open(List.of(TP0));
        closer.join();
        assertTrue(System.nanoTime() - start >= 600_000_000L, "the task waited for the previous owner to close");
        assertEquals(1L, context.rewinds.get(TP0), "and resumed where the previous owner left the archive");
        task.put(List.of(record(TP0, 1, null, bytes("b"))));
        assertEquals(2, task.preCommit(Map.of()).get(TP0).offset());
    }

    @Test
    void aPartitionHeldPastTheWaitFailsTheTaskSayingWhatToDo() {
        try (LogStore other = LogStore.builder(root.resolve("orders")).partitions(1).growPartitions()
                .ownedPartitions(java.util.Set.of(0)).open()) {
            LogStoreSinkTask task = task(new FakeSinkTaskContext(false), Map.of(LogStoreSinkConfig.LOCK_WAIT_MS, "300"));
            ConnectException e = assertThrows(ConnectException.class, () -> task.open(List.of(TP0)));
            assertTrue(e.getMessage().contains("still open for writing by another writer after 300 ms"), e.getMessage());
            assertTrue(e.getMessage().contains("restart this task"), e.getMessage());
            assertEquals(0, other.nextOffset(0));
        }
    }

    @Test
    void theWaitCoversTheWholeAssignmentNotEachPartition() throws Exception {
        LogStore first = LogStore.builder(root.resolve("orders")).partitions(2).ownedPartitions(java.util.Set.of(0))
                .open();
        try (LogStore second = LogStore.builder(root.resolve("orders")).partitions(2)
                .ownedPartitions(java.util.Set.of(1)).open()) {
            Thread closer = new Thread(() -> {
                try {
                    Thread.sleep(1500);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                first.close();
            });
            LogStoreSinkTask task = task(new FakeSinkTaskContext(false), Map.of(LogStoreSinkConfig.LOCK_WAIT_MS,
                    "2000"));
            long start = System.nanoTime();
            closer.start();
            assertThrows(ConnectException.class, () -> task.open(List.of(TP0, TP1)));
            long waitedMs = (System.nanoTime() - start) / 1_000_000;
            closer.join();
            // Partition 0 comes free after 1.5 s; a wait per partition would then wait 2 s more for 1.
            assertTrue(waitedMs >= 1900 && waitedMs < 3300, "waited " + waitedMs + " ms");
        } finally {
            first.close();
        }
    }

    @Test
    void aTaskUsesOneStoreHandleAndThreadPerTopicHoweverManyPartitionsItIsAssigned() {
        TopicPartition tp2 = new TopicPartition("orders", 2);
        LogStoreSinkTask task = task(new FakeSinkTaskContext(false), Map.of("logstore.retention.ms", "86400000"));
        task.open(List.of(TP0, TP1, tp2));
        task.put(List.of(record(TP0, 0, null, bytes("a")), record(TP1, 0, null, bytes("b")), record(tp2, 0, null,
                bytes("c"))));
        task.preCommit(Map.of());
        long threads = Thread.getAllStackTraces().keySet().stream()
                .filter(t -> t.getName().startsWith("logstore-sink-") && t.getName().endsWith("-orders")).count();
        assertEquals(1, threads, "one background thread for the topic's store");
        assertEquals(1, Thread.getAllStackTraces().keySet().stream()
                .filter(t -> t.getName().startsWith("logstore-sink-writer-")).count());
        task.close(List.of(TP1));
        // A partition given back is free for another writer at once.
        try (LogStore other = LogStore.builder(root.resolve("orders")).partitions(3).ownedPartitions(java.util.Set.of(1))
                .open()) {
            assertEquals(1, other.nextOffset(1));
        }
        task.put(List.of(record(TP0, 1, null, bytes("a2"))));
        assertEquals(2, task.preCommit(Map.of()).get(TP0).offset());
    }

    @Test
    void onARuntimeWithoutPluginMetricsTheTaskPublishesAJmxMBeanOfItsOwn() throws Exception {
        LogStoreSinkTask task = task(new FakeSinkTaskContext(false), Map.of("name", "archive-jmx",
                LogStoreSinkConfig.BEHAVIOR_ON_NULL_VALUES, "ignore"));
        task.open(List.of(TP0));
        task.put(List.of(record(TP0, 0, bytes("k"), bytes("value")), record(TP0, 1, null, null),
                record(TP0, 2, null, bytes("v2"))));
        task.preCommit(Map.of());
        javax.management.MBeanServer server = java.lang.management.ManagementFactory.getPlatformMBeanServer();
        java.util.Set<javax.management.ObjectName> names = server.queryNames(
                new javax.management.ObjectName("dev.logstore:type=sink-task,connector=\"archive-jmx\",*"), null);
        assertEquals(1, names.size(), names.toString());
        javax.management.ObjectName name = names.iterator().next();
        assertEquals(2L, server.getAttribute(name, "records-archived"));
        assertEquals(8L, server.getAttribute(name, "bytes-archived"));
        assertEquals(1L, server.getAttribute(name, "records-not-archived"));
        assertEquals(1L, server.getAttribute(name, "fsync-count"));
        assertEquals(2L, server.getAttribute(name, "last-archived-offset.orders-0"));
        assertEquals(1002L, server.getAttribute(name, "last-archived-record-time.orders-0"));
        assertEquals(1, ((Number) server.getAttribute(name, "archive-segments.orders-0")).intValue());
        task.close(List.of(TP0));
        assertThrows(javax.management.AttributeNotFoundException.class,
                () -> server.getAttribute(name, "last-archived-offset.orders-0"), "a revoked partition's gauges go");
        task.stop();
        tasks.remove(task);
        assertFalse(server.isRegistered(name), "the MBean goes with the task");
    }

    @Test
    void aRestartedTaskWhosePredecessorHasNotStoppedKeepsBothMBeans() throws Exception {
        javax.management.MBeanServer server = java.lang.management.ManagementFactory.getPlatformMBeanServer();
        String base = "dev.logstore:type=sink-task,connector=\"archive-restart\",task=\"3\"";
        Thread thread = Thread.currentThread();
        String threadName = thread.getName();
        LogStoreSinkTask old;
        LogStoreSinkTask restarted;
        thread.setName("task-thread-archive-restart-3"); // the thread Connect runs task 3 on
        try {
            old = task(new FakeSinkTaskContext(false), Map.of("name", "archive-restart"));
            restarted = task(new FakeSinkTaskContext(false), Map.of("name", "archive-restart"));
        } finally {
            thread.setName(threadName);
        }
        javax.management.ObjectName first = new javax.management.ObjectName(base);
        javax.management.ObjectName second = new javax.management.ObjectName(base + ",instance=2");
        assertTrue(server.isRegistered(first), "the JMX name carries the task id");
        assertTrue(server.isRegistered(second), "the new instance does not take the old one's name");
        old.stop();
        tasks.remove(old);
        assertFalse(server.isRegistered(first));
        assertTrue(server.isRegistered(second), "stopping the old instance leaves the new one's metrics");
        restarted.stop();
        tasks.remove(restarted);
        assertFalse(server.isRegistered(second));
    }

    @Test
    void recordsAreArchivedAtTheirKafkaOffsetsWithEverything() {
        FakeSinkTaskContext context = new FakeSinkTaskContext(false);
        LogStoreSinkTask task = task(context, Map.of());
        task.open(List.of(TP0, TP1));
        assertTrue(context.rewinds.isEmpty(), "an empty archive rewinds nothing");
        task.put(List.of(record(TP0, 5, bytes("k"), bytes("v5")), record(TP0, 7, null, null),
                record(TP1, 0, bytes("x"), new byte[0])));
        Map<TopicPartition, OffsetAndMetadata> committed = task.preCommit(Map.of());
        assertEquals(8, committed.get(TP0).offset());
        assertEquals(1, committed.get(TP1).offset());
        task.stop();

        List<LogRecord> zero = archived(0);
        assertEquals(2, zero.size());
        assertEquals(5, zero.get(0).offset());
        assertEquals(7, zero.get(1).offset(), "Kafka's gap is kept");
        assertArrayEquals(bytes("v5"), zero.get(0).value());
        assertEquals(1005, zero.get(0).timestamp());
        assertEquals(2, zero.get(0).headers().size());
        assertArrayEquals(bytes("t5"), zero.get(0).headers().get(0).value());
        assertNull(zero.get(0).headers().get(1).value());
        assertNull(zero.get(1).key());
        assertNull(zero.get(1).value(), "tombstones are kept by default");
        assertArrayEquals(new byte[0], archived(1).get(0).value());
    }

    /**
     * The records one put() brings for a partition are stored as batches of at most
     * logstore.batch.max.bytes (a larger record alone), so one damaged byte costs few records.
     */
    @Test
    void aPutIsStoredAsBatchesOfAtMostTheConfiguredSize() {
        FakeSinkTaskContext context = new FakeSinkTaskContext(false);
        LogStoreSinkTask task = task(context, Map.of(LogStoreSinkConfig.BATCH_MAX_BYTES, "32768"));
        task.open(List.of(TP0));
        List<SinkRecord> records = new ArrayList<>();
        for (int i = 0; i < 40; i++) {
            records.add(record(TP0, i, bytes("k" + i), new byte[i == 20 ? 100_000 : 10_000]));
        }
        task.put(records);
        task.preCommit(Map.of());
        task.stop();

        List<Integer> batchSizes = new ArrayList<>();
        try (LogStore store = LogStore.builder(root.resolve("orders")).readOnly().open()) {
            ByteBuffer all = ByteBuffer.allocate(2 << 20);
            store.read(0, 0, all);
            all.flip();
            int position = 0;
            while (position < all.limit()) {
                dev.logstore.record.BatchHeader header = dev.logstore.record.BatchHeader.readIfComplete(all, position,
                        all.limit() - position);
                batchSizes.add(header.recordCount());
                position += header.sizeInBytes();
            }
        }
        assertEquals(40, batchSizes.stream().mapToInt(Integer::intValue).sum(), "every record, once: " + batchSizes);
        assertTrue(batchSizes.stream().allMatch(n -> n <= 3), "at most three 10 KiB records per 32 KiB: " + batchSizes);
        assertTrue(batchSizes.contains(1), "the 100 KB record is a batch of its own: " + batchSizes);
        assertEquals(40, archived(0).size());
    }

    @Test
    void aRestartedTaskRewindsToTheArchiveAndSkipsWhatItHolds() {
        archivedByAnEarlierTask(record(TP0, 0, null, bytes("a")), record(TP0, 1, null, bytes("b")));

        FakeSinkTaskContext context = new FakeSinkTaskContext(false);
        LogStoreSinkTask second = task(context, Map.of());
        second.open(List.of(TP0));
        assertEquals(2L, context.rewinds.get(TP0));
        second.put(List.of(record(TP0, 2, null, bytes("c"))));
        // A retried batch is delivered again: what the archive already holds is skipped.
        second.put(List.of(record(TP0, 2, null, bytes("c")), record(TP0, 3, null, bytes("d"))));
        assertEquals(4, second.preCommit(Map.of()).get(TP0).offset());
        second.stop();
        List<LogRecord> records = archived(0);
        assertEquals(4, records.size());
        assertArrayEquals(bytes("c"), records.get(2).value());
        assertArrayEquals(bytes("d"), records.get(3).value());
    }

    @Test
    void aTopicCreatedAgainBehindItsArchiveFailsTheTaskAndLeavesTheArchiveAlone() {
        archivedByAnEarlierTask(record(TP0, 0, null, bytes("old-0")), record(TP0, 1, null, bytes("old-1")),
                record(TP0, 2, null, bytes("old-2")));

        // The topic is deleted and created again: the rewind to 3 is out of range, the consumer resets to 0.
        FakeSinkTaskContext context = new FakeSinkTaskContext(false);
        LogStoreSinkTask second = task(context, Map.of());
        second.open(List.of(TP0));
        assertEquals(3L, context.rewinds.get(TP0));
        ConnectException e = assertThrows(ConnectException.class, () -> second.put(List.of(
                record(TP0, 0, null, bytes("new-0")), record(TP0, 1, null, bytes("new-1")),
                record(TP0, 2, null, bytes("new-2")), record(TP0, 3, null, bytes("new-3")))));
        assertTrue(e.getMessage().contains("orders-0: the archive in " + root.resolve("orders") + " ends at offset 3, "
                + "but Kafka has no such offset any more and delivered offset 0 instead"), e.getMessage());
        assertTrue(e.getMessage().contains("move that store directory away"), e.getMessage());
        second.stop();
        List<LogRecord> records = archived(0);
        assertEquals(3, records.size(), "nothing of the new topic is archived");
        assertArrayEquals(bytes("old-2"), records.get(2).value());
    }

    @Test
    void nullValuesCanBeIgnoredOrFail() {
        LogStoreSinkTask ignoring = task(new FakeSinkTaskContext(false),
                Map.of(LogStoreSinkConfig.BEHAVIOR_ON_NULL_VALUES, "ignore"));
        ignoring.open(List.of(TP0));
        ignoring.put(List.of(record(TP0, 0, null, null), record(TP0, 1, null, bytes("v"))));
        assertEquals(2, ignoring.preCommit(Map.of()).get(TP0).offset());
        ignoring.stop();
        assertEquals(1, archived(0).size());

        LogStoreSinkTask failing = task(new FakeSinkTaskContext(false),
                Map.of(LogStoreSinkConfig.BEHAVIOR_ON_NULL_VALUES, "fail"));
        failing.open(List.of(TP1));
        DataException e = assertThrows(DataException.class, () -> failing.put(List.of(record(TP1, 0, null, null))));
        assertTrue(e.getMessage().contains("null value"), e.getMessage());
    }

    @Test
    void aRecordThatFailsPartWayThroughARunCommitsNothingOfTheRun() {
        // Offsets 0-1 archived and committed; then a put whose third record cannot be converted.
        Schema schema = SchemaBuilder.struct().field("id", Schema.INT32_SCHEMA).build();
        Struct struct = new Struct(schema).put("id", 1);
        LogStoreSinkTask task = task(new FakeSinkTaskContext(false), Map.of());
        task.open(List.of(TP0, TP1));
        task.put(List.of(record(TP0, 0, null, bytes("a")), record(TP0, 1, null, bytes("b"))));
        assertEquals(2, task.preCommit(Map.of()).get(TP0).offset());
        assertThrows(DataException.class, () -> task.put(List.of(record(TP1, 0, null, bytes("x")),
                record(TP0, 2, null, bytes("c")), record(TP0, 3, null, bytes("d")), record(TP0, 4, null, struct))));

        // Connect commits at close what the task reports, with its own position where put() failed.
        Map<TopicPartition, OffsetAndMetadata> committed = task.preCommit(Map.of(TP0, new OffsetAndMetadata(2)));
        assertEquals(2, committed.get(TP0).offset(), "offsets 2-3 were never queued: committing past them loses them");
        assertEquals(1, committed.get(TP1).offset(), "TP1's run was queued before the failure");
        task.stop();
        assertEquals(2, archived(0).size());
        assertEquals(1, archived(1).size());
    }

    @Test
    void nonByteValuesFailWithAConverterHintOrGoToTheErrantRecordReporter() {
        Schema schema = SchemaBuilder.struct().field("id", Schema.INT32_SCHEMA).build();
        Struct struct = new Struct(schema).put("id", 1);
        LogStoreSinkTask strict = task(new FakeSinkTaskContext(false), Map.of());
        strict.open(List.of(TP0));
        DataException e = assertThrows(DataException.class,
                () -> strict.put(List.of(record(TP0, 0, null, struct))));
        assertTrue(e.getMessage().contains("value.converter=org.apache.kafka.connect.converters.ByteArrayConverter"),
                e.getMessage());
        strict.stop();

        FakeSinkTaskContext context = new FakeSinkTaskContext(true);
        LogStoreSinkTask tolerant = task(context, Map.of());
        tolerant.open(List.of(TP0));
        tolerant.put(List.of(record(TP0, 0, null, struct), record(TP0, 1, "text", bytes("ok"))));
        assertEquals(2, tolerant.preCommit(Map.of()).get(TP0).offset());
        tolerant.stop();
        assertEquals(1, context.reported.size());
        List<LogRecord> records = archived(0);
        assertEquals(1, records.size());
        assertEquals(1, records.get(0).offset());
        assertArrayEquals(bytes("text"), records.get(0).key(), "strings are stored as UTF-8");
    }

    @Test
    void anUnwritableArchiveFailsTheTaskClearly() throws Exception {
        Path file = Files.createFile(root.resolve("orders"));
        LogStoreSinkTask task = task(new FakeSinkTaskContext(false), Map.of());
        ConnectException e = assertThrows(ConnectException.class, () -> task.open(List.of(TP0)));
        assertTrue(e.getMessage().contains("Cannot open the archive of orders-0"), e.getMessage());
        assertTrue(Files.isRegularFile(file), "nothing was overwritten");
    }

    @Test
    void keyHashMappingSpreadsByKeyAndResumesFromItsCheckpoint() throws Exception {
        Map<String, String> keyHash = Map.of(LogStoreSinkConfig.PARTITION_MAPPING, "key-hash",
                LogStoreSinkConfig.PARTITIONS, "4");
        LogStoreSinkTask first = task(new FakeSinkTaskContext(false), keyHash);
        first.open(List.of(TP0, TP1));
        List<SinkRecord> records = new ArrayList<>();
        for (int i = 0; i < 40; i++) {
            records.add(record(i % 2 == 0 ? TP0 : TP1, i / 2, bytes("key-" + i), bytes("v" + i)));
        }
        first.put(records);
        first.preCommit(Map.of());
        first.stop();

        int total = 0;
        try (LogStore store = LogStore.builder(root.resolve("orders")).readOnly().open()) {
            assertEquals(4, store.partitionCount());
            for (int p = 0; p < 4; p++) {
                try (LogReader reader = store.reader(p)) {
                    for (LogRecord record : reader.poll(100, 1 << 20)) {
                        assertEquals(p, dev.logstore.Partitioner.partition(record.key(), 4));
                        total++;
                    }
                }
            }
        }
        assertEquals(40, total);

        FakeSinkTaskContext context = new FakeSinkTaskContext(false);
        LogStoreSinkTask second = task(context, keyHash);
        second.open(List.of(TP0, TP1));
        assertEquals(20L, context.rewinds.get(TP0));
        assertEquals(20L, context.rewinds.get(TP1));
        try (var files = Files.list(root.resolve("orders"))) {
            assertFalse(files.anyMatch(f -> f.getFileName().toString().endsWith(".tmp")), "no temporary file is left");
        }
    }

    @Test
    void changingThePartitionMappingOfAnArchiveIsRefusedNamingWhatToSet() {
        Map<String, String> keyHash = Map.of(LogStoreSinkConfig.PARTITION_MAPPING, "key-hash",
                LogStoreSinkConfig.PARTITIONS, "4");
        archivedByAnEarlierTask(record(TP0, 0, bytes("k"), bytes("a")), record(TP0, 1, bytes("k"), bytes("b")));

        LogStoreSinkTask hashing = task(new FakeSinkTaskContext(false), keyHash);
        ConnectException e = assertThrows(ConnectException.class, () -> hashing.open(List.of(TP0)));
        assertTrue(e.getMessage().contains("it was archived with logstore.partition.mapping=kafka"), e.getMessage());
        assertEquals(2, archived(0).size(), "the archive is unchanged");
        assertFalse(Files.exists(root.resolve("orders").resolve(KeyHashStore.CHECKPOINT_FILE)));
    }

    @Test
    void aKeyHashArchiveKeepsItsMappingAndPartitionCount() {
        Map<String, String> keyHash = Map.of(LogStoreSinkConfig.PARTITION_MAPPING, "key-hash",
                LogStoreSinkConfig.PARTITIONS, "4");
        LogStoreSinkTask first = task(new FakeSinkTaskContext(false), keyHash);
        first.open(List.of(TP0));
        assertTrue(Files.exists(root.resolve("orders").resolve(KeyHashStore.CHECKPOINT_FILE)),
                "a new key-hash store is marked before its first record");
        first.put(List.of(record(TP0, 0, bytes("k"), bytes("a"))));
        first.preCommit(Map.of());
        first.stop();

        LogStoreSinkTask kafkaMapped = task(new FakeSinkTaskContext(false), Map.of());
        ConnectException e = assertThrows(ConnectException.class, () -> kafkaMapped.open(List.of(TP0)));
        assertTrue(e.getMessage().contains("was archived with logstore.partition.mapping=key-hash"), e.getMessage());

        LogStoreSinkTask resized = task(new FakeSinkTaskContext(false), Map.of(LogStoreSinkConfig.PARTITION_MAPPING,
                "key-hash", LogStoreSinkConfig.PARTITIONS, "8"));
        e = assertThrows(ConnectException.class, () -> resized.open(List.of(TP0)));
        assertTrue(e.getMessage().contains("has 4 partitions, but logstore.partitions=8"), e.getMessage());
        assertTrue(e.getMessage().contains("Set logstore.partitions=4"), e.getMessage());
        try (LogStore store = LogStore.builder(root.resolve("orders")).readOnly().open()) {
            assertEquals(4, store.partitionCount());
            long total = 0;
            for (int p = 0; p < 4; p++) {
                total += store.nextOffset(p);
            }
            assertEquals(1, total, "the archive is unchanged");
        }
    }
}
