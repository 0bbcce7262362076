package dev.logstore.connect.sink;

import dev.logstore.LogStore;
import dev.logstore.LogStoreException;
import dev.logstore.connect.Version;
import dev.logstore.connect.config.ArchivePaths;
import dev.logstore.connect.config.PackingSettings;
import dev.logstore.connect.config.StoreSettings;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.Config;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigValue;
import org.apache.kafka.connect.connector.Task;
import org.apache.kafka.connect.errors.ConnectException;
import org.apache.kafka.connect.sink.SinkConnector;

/**
 * Archives Kafka topics into LogStore: every topic becomes a store under {@code logstore.dir},
 * topic partition p store partition p, each record stored at its own Kafka offset with its key,
 * value, headers and timestamp. See {@link LogStoreSinkTask} for how this is exactly once.
 */
public final class LogStoreSinkConnector extends SinkConnector {

    private Map<String, String> props;

    @Override
    public String version() {
        return Version.get();
    }

    @Override
    public void start(Map<String, String> props) {
        new LogStoreSinkConfig(props);
        String problem = LogStoreSinkConfig.readCommittedProblem(props);
        if (problem != null) {
            throw new ConnectException("Not starting: " + problem);
        }
        this.props = Map.copyOf(props);
    }

    @Override
    public Class<? extends Task> taskClass() {
        return LogStoreSinkTask.class;
    }

    @Override
    public List<Map<String, String>> taskConfigs(int maxTasks) {
        List<Map<String, String>> configs = new ArrayList<>(maxTasks);
        for (int i = 0; i < maxTasks; i++) {
            configs.add(props);
        }
        return configs;
    }

    @Override
    public void stop() {
        // Tasks own the stores; the connector holds nothing.
    }

    @Override
    public ConfigDef config() {
        return LogStoreSinkConfig.CONFIG_DEF;
    }

    @Override
    public Config validate(Map<String, String> connectorConfigs) {
        Config result = super.validate(connectorConfigs);
        Map<String, ConfigValue> values = StoreSettings.byName(result);
        String mapping = connectorConfigs.getOrDefault(LogStoreSinkConfig.PARTITION_MAPPING,
                LogStoreSinkConfig.MAPPING_KAFKA);
        String tasksMax = connectorConfigs.getOrDefault("tasks.max", "1");
        if (LogStoreSinkConfig.MAPPING_KEY_HASH.equalsIgnoreCase(mapping) && !"1".equals(tasksMax.trim())) {
            StoreSettings.addError(values, LogStoreSinkConfig.PARTITION_MAPPING, "key-hash mapping writes every topic "
                    + "partition into shared store partitions, which only one task can own; set tasks.max=1 or use "
                    + "partition mapping 'kafka'");
        }
        String isolation = LogStoreSinkConfig.readCommittedProblem(connectorConfigs);
        if (isolation != null) {
            StoreSettings.addError(values, LogStoreSinkConfig.REQUIRE_READ_COMMITTED, isolation);
        }
        PackingSettings.problems(connectorConfigs, LogStoreSinkConfig.CONFIG_DEF, true)
                .forEach((key, problem) -> StoreSettings.addError(values, key, problem));
        String topics = connectorConfigs.getOrDefault("topics", "");
        for (String topic : topics.split(",")) {
            String problem = topic.isBlank() ? null : ArchivePaths.problemWithStoreName(topic.trim());
            if (problem != null) {
                StoreSettings.addError(values, "topics", problem);
            }
        }
        return new Config(new ArrayList<>(values.values()));
    }

    /**
     * Offsets are answered by the archive, which decides where archiving resumes: a reset is always
     * accepted (the task rewinds to the archive's end anyway), and so is an offset for a partition
     * the archive holds nothing of, or one equal to where the archive ends. Any other offset is
     * refused, since the task would ignore it; to re-archive from earlier, move the store away.
     */
    @Override
    public boolean alterOffsets(Map<String, String> connectorConfig, Map<TopicPartition, Long> offsets) {
        LogStoreSinkConfig config = new LogStoreSinkConfig(connectorConfig);
        for (Map.Entry<TopicPartition, Long> entry : offsets.entrySet()) {
            Long offset = entry.getValue();
            if (offset == null) {
                continue;
            }
            TopicPartition tp = entry.getKey();
            long archived = archivedNextOffset(config, tp);
            if (archived >= 0 && offset != archived) {
                throw new ConnectException("Cannot set the offset of " + tp + " to " + offset + ": the archive in "
                        + ArchivePaths.storeDirectory(config.archiveRoot(), tp.topic()) + " ends at offset " + archived
                        + " and archiving always resumes there. To archive again from an earlier offset, move that "
                        + "store away first; offsets may be reset freely");
            }
        }
        return true;
    }

    private static long archivedNextOffset(LogStoreSinkConfig config, TopicPartition tp) {
        Path dir = ArchivePaths.storeDirectory(config.archiveRoot(), tp.topic());
        if (!Files.isDirectory(dir)) {
            return -1;
        }
        try {
            if (config.keyHashMapping()) {
                return KeyHashStore.readCheckpoint(dir.resolve(KeyHashStore.CHECKPOINT_FILE))
                        .getOrDefault(tp.partition(), -1L);
            }
            try (LogStore store = LogStore.builder(dir).readOnly().open()) {
                if (tp.partition() >= store.partitionCount()) {
                    return -1;
                }
                long next = store.nextOffset(tp.partition());
                return next == 0 ? -1 : next;
            }
        } catch (LogStoreException | java.io.IOException e) {
            throw new ConnectException("Cannot read the archive of " + tp + " in " + dir + ": " + e.getMessage(), e);
        }
    }
}
