package dev.logstore.connect.it;

import static dev.logstore.connect.it.ConnectCluster.archivedNextOffset;
import static dev.logstore.connect.it.ConnectCluster.await;
import static dev.logstore.connect.it.ConnectCluster.readArchive;

import dev.logstore.LogStore;
import dev.logstore.connect.sink.LogStoreSinkConnector;
import dev.logstore.connect.source.LogStoreSourceConnector;
import dev.logstore.record.Record;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Three workers sharing one archive root; a worker is stopped while the connectors run and its
 * tasks move to the others. At the end the archive equals the topic, and the replay equals the
 * archive, exactly.
 */
class FailoverIT {

    private static ConnectCluster cluster;

    @TempDir
    static Path root;

    @BeforeAll
    static void startCluster() {
        cluster = new ConnectCluster("failover-it", 3, Map.of("exactly.once.source.support", "enabled"));
    }

    @AfterAll
    static void stopCluster() {
        if (cluster != null) {
            cluster.close();
        }
    }

    @Test
    void theSinkSurvivesAWorkerStoppingMidStream() throws Exception {
        String topic = "failover-sink";
        int partitions = 6;
        cluster.connect.kafka().createTopic(topic, partitions);
        Map<String, String> sink = ConnectCluster.byteConverters();
        sink.put("connector.class", LogStoreSinkConnector.class.getName());
        sink.put("tasks.max", "3");
        sink.put("topics", topic);
        sink.put("logstore.dir", root.toString());
        sink.put("consumer.override.isolation.level", "read_committed");
        cluster.connect.configureConnector("failover-sink", sink);
        cluster.connect.assertions().assertConnectorAndExactlyNumTasksAreRunning("failover-sink", 3, "sink running");
        ExecutorService producer = Executors.newSingleThreadExecutor();
        try {
            Future<?> producing = producer.submit(() -> {
                for (int round = 0; round < 15; round++) {
                    cluster.produceVaried(topic, partitions, round * 200, 200);
                    Thread.sleep(150);
                }
                return null;
            });
            await(Duration.ofSeconds(30), "archiving to be under way", () -> archivedNextOffset(root.resolve(topic), 0) > 0);
            cluster.connect.removeWorker();
            producing.get(120, TimeUnit.SECONDS);
        } finally {
            producer.shutdownNow();
        }
        cluster.awaitArchived(root, topic, partitions, Duration.ofSeconds(120));
        List<List<ConsumerRecord<byte[], byte[]>>> records = cluster.readTopic(topic, partitions);
        for (int p = 0; p < partitions; p++) {
            ConnectCluster.assertArchiveEqualsTopic(records.get(p), readArchive(root.resolve(topic), p), topic + "-" + p);
        }
        cluster.connect.deleteConnector("failover-sink");
        cluster.connect.addWorker();
    }

    @Test
    void anExactlyOnceReplaySurvivesAWorkerStoppingMidReplay() throws Exception {
        String store = "failover-source";
        int partitions = 6;
        try (LogStore archive = LogStore.open(root.resolve(store), partitions)) {
            for (int i = 0; i < 3000; i++) {
                archive.append(i % partitions, List.of(new Record(("k" + i).getBytes(), ("v" + i).getBytes(),
                        List.of(), System.currentTimeMillis() - 60_000 + i)));
            }
        }
        Map<String, String> source = ConnectCluster.byteConverters();
        source.put("connector.class", LogStoreSourceConnector.class.getName());
        source.put("tasks.max", "3");
        source.put("logstore.dir", root.toString());
        source.put("logstore.stores", store);
        source.put("topic.format", "${topic}.replay");
        source.put("replay.end", "snapshot");
        source.put("exactly.once.support", "required");
        source.put("rate.limit.records.per.second", "400");
        source.put("batch.size", "50");
        source.put("target.bootstrap.servers", cluster.connect.kafka().bootstrapServers());
        cluster.connect.configureConnector("failover-source", source);
        String target = store + ".replay";
        await(Duration.ofSeconds(60), "replay to begin", () -> cluster.recordCount(target, partitions) > 500);
        cluster.connect.removeWorker();
        await(Duration.ofSeconds(180), "replay to finish after the failover", () -> cluster.recordCount(target, partitions) >= 3000);
        cluster.assertCountStays(target, partitions, 3000, Duration.ofMillis(1500));
        List<List<ConsumerRecord<byte[], byte[]>>> replayed = cluster.readTopic(target, partitions);
        for (int p = 0; p < partitions; p++) {
            ConnectCluster.assertTopicEqualsArchive(replayed.get(p), readArchive(root.resolve(store), p), target + "-" + p);
        }
        cluster.connect.deleteConnector("failover-source");
        cluster.connect.addWorker();
    }
}
