package dev.logstore.connect.source;

import dev.logstore.LogStore;
import dev.logstore.LogStoreException;
import dev.logstore.connect.Version;
import dev.logstore.connect.config.ArchivePaths;
import dev.logstore.connect.config.PackingSettings;
import dev.logstore.connect.config.StoreSettings;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.common.config.Config;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigValue;
import org.apache.kafka.connect.connector.Task;
import org.apache.kafka.connect.errors.ConnectException;
import org.apache.kafka.connect.source.ExactlyOnceSupport;
import org.apache.kafka.connect.source.SourceConnector;
import org.apache.kafka.connect.util.ConnectorUtils;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Replays archived stores into Kafka topics. Source partition = {@code {store, partition}},
 * source offset = the next archive offset (and the end of a bounded replay), so a restart resumes
 * exactly where the last commit left off and exactly-once source support (KIP-618) makes the
 * replay exactly once. Store partitions are spread over {@code tasks.max} tasks; while following,
 * new stores and partitions are picked up by reconfiguring the tasks.
 */
public final class LogStoreSourceConnector extends SourceConnector {

    private static final Logger log = LoggerFactory.getLogger(LogStoreSourceConnector.class);

    private Map<String, String> props;
    private LogStoreSourceConfig config;
    private volatile Map<String, Integer> stores = Map.of();
    private volatile ReplayPlan plan;
    private String name;
    private ScheduledExecutorService discovery;

    @Override
    public String version() {
        return Version.get();
    }

    @Override
    public void start(Map<String, String> props) {
        this.props = Map.copyOf(props);
        this.config = new LogStoreSourceConfig(props);
        Map<String, String> problems = SourceChecks.problems(config, props);
        if (!problems.isEmpty()) {
            throw new ConnectException("Not starting: " + problems.entrySet().stream()
                    .map(problem -> problem.getKey() + ": " + problem.getValue())
                    .collect(java.util.stream.Collectors.joining("; ")));
        }
        name = props.getOrDefault("name", "logstore-source");
        stores = StoreCatalog.scan(config);
        AlteredOffsets.carryOver(config, name);
        AlteredOffsets.read(config, name); // a damaged record fails the connector here, where its status shows it
        plan = AlteredOffsets.locked(config, name, () -> ReplayPlan.prepare(config, name, stores));
        TargetTopics.ensure(config, stores);
        if (stores.isEmpty()) {
            log.warn("No store in {} matches the configuration yet", config.archiveRoot());
        }
        if (config.end() == LogStoreSourceConfig.End.FOLLOW) {
            discovery = Executors.newSingleThreadScheduledExecutor(runnable -> {
                Thread thread = new Thread(runnable, "logstore-source-discovery-" + props.getOrDefault("name", ""));
                thread.setDaemon(true);
                return thread;
            });
            long interval = config.getLong(LogStoreSourceConfig.DISCOVERY_INTERVAL_MS);
            discovery.scheduleWithFixedDelay(this::discover, interval, interval, TimeUnit.MILLISECONDS);
        }
    }

    private void discover() {
        try {
            Map<String, Integer> now = StoreCatalog.scan(config);
            if (!now.equals(stores)) {
                log.info("Archive {} changed from {} to {}; reconfiguring tasks", config.archiveRoot(), stores, now);
                TargetTopics.ensure(config, now);
                plan = AlteredOffsets.locked(config, name, () -> ReplayPlan.prepare(config, name, now));
                stores = now;
                context.requestTaskReconfiguration();
            }
        } catch (RuntimeException e) {
            log.warn("Looking for new stores in {} failed; trying again later", config.archiveRoot(), e);
        }
    }

    @Override
    public Class<? extends Task> taskClass() {
        return LogStoreSourceTask.class;
    }

    @Override
    public List<Map<String, String>> taskConfigs(int maxTasks) {
        List<StorePartition> units = new ArrayList<>();
        ReplayPlan current = plan;
        stores.forEach((store, partitions) -> {
            for (int p = 0; p < partitions; p++) {
                StorePartition unit = new StorePartition(store, p);
                if (current.range(unit) != null) {
                    units.add(unit);
                }
            }
        });
        if (units.isEmpty()) {
            return List.of();
        }
        Set<StorePartition> altered = AlteredOffsets.read(config, name);
        List<Map<String, String>> configs = new ArrayList<>();
        for (List<StorePartition> group : ConnectorUtils.groupPartitions(units, Math.min(maxTasks, units.size()))) {
            Map<String, String> task = new HashMap<>(props);
            Map<StorePartition, ReplayPlan.Range> share = new java.util.LinkedHashMap<>();
            group.forEach(unit -> share.put(unit, current.range(unit)));
            task.put(LogStoreSourceConfig.TASK_ASSIGNMENT, ReplayPlan.encode(share));
            task.put(LogStoreSourceConfig.TASK_OFFSETS_ALTERED, ReplayPlan.encodeUnits(group.stream()
                    .filter(altered::contains).toList()));
            configs.add(task);
        }
        return configs;
    }

    @Override
    public void stop() {
        if (discovery != null) {
            discovery.shutdownNow();
        }
    }

    @Override
    public ConfigDef config() {
        return LogStoreSourceConfig.CONFIG_DEF;
    }

    /** Adds the mistakes no single setting shows ({@link SourceChecks}) to the per-setting ones. */
    @Override
    public Config validate(Map<String, String> connectorConfigs) {
        Config result = super.validate(connectorConfigs);
        Map<String, ConfigValue> values = StoreSettings.byName(result);
        if (connectorConfigs.get(LogStoreSourceConfig.TOPIC_FORMAT) == null) {
            StoreSettings.addError(values, LogStoreSourceConfig.TOPIC_FORMAT, LogStoreSourceConfig.TOPIC_FORMAT + " "
                    + LogStoreSourceConfig.TOPIC_FORMAT_REQUIRED);
        }
        PackingSettings.problems(connectorConfigs, LogStoreSourceConfig.CONFIG_DEF, false)
                .forEach((key, problem) -> StoreSettings.addError(values, key, problem));
        boolean parsed = values.values().stream().allMatch(value -> value.errorMessages().isEmpty());
        if (!parsed) {
            return new Config(new ArrayList<>(values.values()));
        }
        LogStoreSourceConfig config = new LogStoreSourceConfig(connectorConfigs);
        SourceChecks.problems(config, connectorConfigs)
                .forEach((key, problem) -> StoreSettings.addError(values, key, problem));

        return new Config(new ArrayList<>(values.values()));
    }

    /** Source offsets are archive positions, which a task can always resume from exactly. */
    @Override
    public ExactlyOnceSupport exactlyOnceSupport(Map<String, String> connectorConfig) {
        return ExactlyOnceSupport.SUPPORTED;
    }

    /**
     * Checks new offsets against the archive: the source partition must name an existing store
     * partition, and the offset must lie between that partition's start and next offset (a reset,
     * a null offset, is always fine: the replay then starts as configured).
     */
    @Override
    public boolean alterOffsets(Map<String, String> connectorConfig, Map<Map<String, ?>, Map<String, ?>> offsets) {
        LogStoreSourceConfig checked = new LogStoreSourceConfig(connectorConfig);
        List<StorePartition> reset = new ArrayList<>();
        List<StorePartition> altered = new ArrayList<>();
        for (Map.Entry<Map<String, ?>, Map<String, ?>> entry : offsets.entrySet()) {
            StorePartition unit;
            try {
                unit = StorePartition.fromSourcePartition(entry.getKey());
            } catch (IllegalArgumentException e) {
                throw new ConnectException(e.getMessage());
            }
            String badName = ArchivePaths.problemWithStoreName(unit.store());
            if (badName != null) {
                throw new ConnectException(badName);
            }
            altered.add(unit);
            Map<String, ?> offset = entry.getValue();
            if (offset == null) {
                reset.add(unit);
                continue;
            }
            Object position = offset.get(PartitionReplay.OFFSET_KEY);
            if (!(position instanceof Number number)) {
                throw new ConnectException("offset " + offset + " of " + unit + " must be {\"" + PartitionReplay.OFFSET_KEY
                        + "\": <next archive offset>}");
            }
            checkAgainstArchive(checked, unit, number.longValue());
        }
        // A reset partition starts over as configured: its planned range is made again at the next
        // start. Reset or altered, its tasks never go back to an older offset committed under
        // LogStore 0.1's other key order. Should Connect then fail to write the offsets, repeating
        // the request completes the change.
        String name = connectorConfig.getOrDefault("name", "logstore-source");
        AlteredOffsets.locked(checked, name, () -> {
            AlteredOffsets.add(checked, name, altered);
            ReplayPlan.offsetsReset(checked, name, reset);
            return null;
        });
        return true;
    }

    private static void checkAgainstArchive(LogStoreSourceConfig config, StorePartition unit, long position) {
        String problem = ArchivePaths.problemWithStoreName(unit.store());
        if (problem != null) {
            throw new ConnectException(problem);
        }
        Path dir = ArchivePaths.storeDirectory(config.archiveRoot(), unit.store());
        if (!Files.isDirectory(dir)) {
            throw new ConnectException("there is no store '" + unit.store() + "' in " + config.archiveRoot());
        }
        try (LogStore store = LogStore.builder(dir).readOnly().open()) {
            if (unit.partition() < 0 || unit.partition() >= store.partitionCount()) {
                throw new ConnectException("store '" + unit.store() + "' has partitions 0 to "
                        + (store.partitionCount() - 1) + "; there is no partition " + unit.partition());
            }
            long start = store.startOffset(unit.partition());
            long next = store.nextOffset(unit.partition());
            if (position < start || position > next) {
                throw new ConnectException("offset " + position + " of " + unit + " is outside the archive, which holds "
                        + "offsets " + start + " to " + (next - 1) + "; give an offset from " + start + " to " + next);
            }
        } catch (LogStoreException e) {
            throw new ConnectException("cannot read store '" + unit.store() + "': " + e.getMessage(), e);
        }
    }
}
