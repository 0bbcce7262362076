package dev.logstore.connect.source;

import dev.logstore.connect.config.ArchiveDirectoryValidator;
import dev.logstore.connect.config.PackingSettings;
import dev.logstore.connect.config.ArchivePaths;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;
import org.apache.kafka.common.config.AbstractConfig;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigDef.Importance;
import org.apache.kafka.common.config.ConfigDef.Type;
import org.apache.kafka.common.config.ConfigDef.Width;
import org.apache.kafka.common.config.ConfigException;

/** Configuration of {@link LogStoreSourceConnector}. */
public final class LogStoreSourceConfig extends AbstractConfig {

    public static final String LOGSTORE_DIR = "logstore.dir";
    public static final String STORES = "logstore.stores";
    public static final String STORES_REGEX = "logstore.stores.regex";
    public static final String TOPIC_FORMAT = "topic.format";
    public static final String PARTITION_MAPPING = "partition.mapping";
    public static final String START = "replay.start";
    public static final String START_OFFSET = "replay.start.offset";
    public static final String START_TIMESTAMP = "replay.start.timestamp";
    public static final String END = "replay.end";
    public static final String END_OFFSET = "replay.end.offset";
    public static final String END_TIMESTAMP = "replay.end.timestamp";
    public static final String BATCH_SIZE = "batch.size";
    public static final String BATCH_MAX_BYTES = "batch.max.bytes";
    public static final String RATE_LIMIT = "rate.limit.records.per.second";
    public static final String POLL_TIMEOUT_MS = "poll.timeout.ms";
    public static final String DISCOVERY_INTERVAL_MS = "store.discovery.interval.ms";
    public static final String TARGET_BOOTSTRAP = "target.bootstrap.servers";
    public static final String TARGET_REPLICATION_FACTOR = "target.replication.factor";
    public static final String TARGET_ADMIN_PREFIX = "target.admin.";
    public static final String TARGET_CONFIGS_COPY = "target.configs.copy";
    public static final String TARGET_CONFIGS_EXCLUDE = "target.configs.exclude";
    static final String DEFAULT_CONFIGS_EXCLUDED = "retention.ms,local.retention.ms,message.timestamp.before.max.ms,"
            + "message.timestamp.difference.max.ms";
    public static final String REPLAY_PLAN_DIR = "replay.plan.dir";
    public static final String ON_REMOVED_RECORDS = "replay.on.removed.records";

    /** Task-only key: the (store, partition) pairs a task replays and their ranges, "store:partition:start:end,...". */
    public static final String TASK_ASSIGNMENT = "task.assignment";

    /** Task-only key: the assigned pairs whose offsets were reset or altered through Connect, "store:partition,...". */
    public static final String TASK_OFFSETS_ALTERED = "task.offsets.altered";

    /** Where replay plans are kept unless {@link #REPLAY_PLAN_DIR} says otherwise, under the archive root. */
    static final String DEFAULT_REPLAY_PLAN_DIR = ".replay-plans";

    public static final String TOPIC_PLACEHOLDER = "${topic}";

    /** Where target partitions come from. */
    public enum Mapping { PRESERVE, KEY_HASH, ROUND_ROBIN }

    /** Where a replay starts. */
    public enum Start { EARLIEST, OFFSET, TIMESTAMP }

    /** Where a replay ends. */
    public enum End { FOLLOW, SNAPSHOT, OFFSET, TIMESTAMP }

    private static final String GROUP_ARCHIVE = "Archive";
    private static final String GROUP_REPLAY = "Replay";
    private static final String GROUP_TARGET = "Target";

    /** Every listed store name must be a plain name inside the archive root. */
    private static final ConfigDef.Validator STORE_NAMES = new ConfigDef.Validator() {
        @Override
        public void ensureValid(String name, Object value) {
            if (value instanceof List<?> list) {
                for (Object store : list) {
                    String text = String.valueOf(store).trim();
                    String problem = text.isEmpty() ? null : ArchivePaths.problemWithStoreName(text);
                    if (problem != null) {
                        throw new ConfigException(name, value, problem);
                    }
                }
            }
        }

        @Override
        public String toString() {
            return "store names: 1 to 249 of a-z A-Z 0-9 . _ -";
        }
    };

    /** A regular expression that compiles. */
    private static final ConfigDef.Validator REGEX = new ConfigDef.Validator() {
        @Override
        public void ensureValid(String name, Object value) {
            if (value instanceof String regex && !regex.isBlank()) {
                try {
                    Pattern.compile(regex);
                } catch (PatternSyntaxException e) {
                    throw new ConfigException(name, value, "not a valid Java regular expression: " + e.getDescription());
                }
            }
        }

        @Override
        public String toString() {
            return "a Java regular expression";
        }
    };

    /** An offset (0 or more), or nothing. */
    private static final ConfigDef.Validator OPTIONAL_OFFSET = new ConfigDef.Validator() {
        @Override
        public void ensureValid(String name, Object value) {
            if (value instanceof Long offset && offset < 0) {
                throw new ConfigException(name, value, "an offset must be 0 or more");
            }
        }

        @Override
        public String toString() {
            return "[0,...], or empty";
        }
    };

    /** What to do when no topic format is given. */
    static final String TOPIC_FORMAT_REQUIRED = "is required: set it to " + TOPIC_PLACEHOLDER + ".replay (any name "
            + "with " + TOPIC_PLACEHOLDER + ") to replay beside the archived topics, or to " + TOPIC_PLACEHOLDER
            + " to restore into the archived topics themselves (then no sink may archive those topics into this "
            + "archive, or the replay is archived again and, while following, replayed again)";

    /** A target topic format that gives valid topic names (null: not given, which the config refuses). */
    private static final ConfigDef.Validator TOPIC_FORMAT_VALIDATOR = new ConfigDef.Validator() {
        @Override
        public void ensureValid(String name, Object value) {
            if (value == null) {
                return;
            }
            String format = value.toString().trim();
            if (format.isEmpty()) {
                throw new ConfigException(name, value, TOPIC_FORMAT_REQUIRED);
            }
            String problem = ArchivePaths.problemWithStoreName(format.replace(TOPIC_PLACEHOLDER, "t"));
            if (problem != null) {
                throw new ConfigException(name, value, "gives invalid topic names: " + problem);
            }
        }

        @Override
        public String toString() {
            return "a topic name, " + TOPIC_PLACEHOLDER + " standing for the store's";
        }
    };

    public static final ConfigDef CONFIG_DEF = definition();

    public LogStoreSourceConfig(Map<String, String> props) {
        super(CONFIG_DEF, props);
        if (getString(TOPIC_FORMAT) == null) {
            throw new ConfigException(TOPIC_FORMAT, null, TOPIC_FORMAT_REQUIRED);
        }
    }

    private static ConfigDef definition() {
        int archive = 0;
        int replay = 0;
        int target = 0;
        ConfigDef definition = new ConfigDef()
                .define(LOGSTORE_DIR, Type.STRING, ConfigDef.NO_DEFAULT_VALUE, ArchiveDirectoryValidator.existing(),
                        Importance.HIGH, "Archive root directory, as written by LogStoreSinkConnector: every store "
                                + "<root>/<topic> in it can be replayed. Shared by all workers in a multi-worker cluster.",
                        GROUP_ARCHIVE, ++archive, Width.LONG, "Archive directory")
                .define(STORES, Type.LIST, "", STORE_NAMES, Importance.HIGH, "Stores to replay, by name. Empty (with an empty "
                                + STORES_REGEX + ") replays every store in the archive.",
                        GROUP_ARCHIVE, ++archive, Width.LONG, "Stores")
                .define(STORES_REGEX, Type.STRING, "", REGEX, Importance.MEDIUM, "Replay the stores whose name matches this "
                                + "Java regular expression (in addition to " + STORES + ").",
                        GROUP_ARCHIVE, ++archive, Width.MEDIUM, "Stores pattern")
                .define(DISCOVERY_INTERVAL_MS, Type.LONG, 10_000L, ConfigDef.Range.atLeast(100), Importance.LOW,
                        "How often the connector looks for new stores and partitions while following "
                                + "(" + END + "=follow); tasks are reconfigured when they appear.",
                        GROUP_ARCHIVE, ++archive, Width.SHORT, "Discovery interval")
                .define(TOPIC_FORMAT, Type.STRING, null, TOPIC_FORMAT_VALIDATOR, Importance.HIGH, "Target topic of a "
                                + "store; " + TOPIC_PLACEHOLDER + " is replaced by the store (original topic) name. "
                                + "Required, with no default, so that replaying into the archived topics is a choice: '${topic}.replay' replays beside the archived topics, '${topic}' restores "
                                + "into them (then no sink may archive those topics into the same archive, or the "
                                + "replay is archived again).", GROUP_REPLAY, ++replay, Width.MEDIUM,
                        "Target topic format")
                .define(PARTITION_MAPPING, Type.STRING, "preserve",
                        ConfigDef.CaseInsensitiveValidString.in("preserve", "key-hash", "round-robin"), Importance.MEDIUM,
                        "Target partition of a record: 'preserve' keeps the store partition (the target topic needs at "
                                + "least as many partitions); 'key-hash' leaves it to the producer's partitioner "
                                + "(murmur2 of the key); 'round-robin' cycles over the store's partition count.",
                        GROUP_REPLAY, ++replay, Width.SHORT, "Partition mapping")
                .define(START, Type.STRING, "earliest",
                        ConfigDef.CaseInsensitiveValidString.in("earliest", "offset", "timestamp"), Importance.MEDIUM,
                        "Where a replay with no committed position starts: the archive's first record, "
                                + START_OFFSET + ", or the first record at or after " + START_TIMESTAMP + ".",
                        GROUP_REPLAY, ++replay, Width.SHORT, "Start")
                .define(START_OFFSET, Type.LONG, null, OPTIONAL_OFFSET, Importance.LOW,
                        "Archive offset to start at when " + START + "=offset (in every partition); required then.",
                        GROUP_REPLAY, ++replay, Width.SHORT, "Start offset")
                .define(START_TIMESTAMP, Type.LONG, null, Importance.LOW, "Timestamp (ms since the epoch) to start "
                                + "at when " + START + "=timestamp; required then.", GROUP_REPLAY, ++replay, Width.SHORT, "Start timestamp")
                .define(END, Type.STRING, "follow",
                        ConfigDef.CaseInsensitiveValidString.in("follow", "snapshot", "offset", "timestamp"),
                        Importance.MEDIUM, "Where a replay ends: 'follow' never ends and streams new records as the "
                                + "archive grows; 'snapshot' stops at the end the archive had when the replay began; "
                                + "'offset' stops before " + END_OFFSET + "; 'timestamp' stops before the first record "
                                + "at or after " + END_TIMESTAMP + ". A finished replay idles until it is deleted.",
                        GROUP_REPLAY, ++replay, Width.SHORT, "End")
                .define(END_OFFSET, Type.LONG, null, OPTIONAL_OFFSET, Importance.LOW,
                        "With " + END + "=offset (required then): replay records with offsets below this one.",
                        GROUP_REPLAY, ++replay, Width.SHORT, "End offset")
                .define(END_TIMESTAMP, Type.LONG, null, Importance.LOW, "With " + END + "=timestamp (required then): "
                                + "stop before the first record whose timestamp (ms) is at or after this one.",
                        GROUP_REPLAY, ++replay, Width.SHORT, "End timestamp")
                .define(REPLAY_PLAN_DIR, Type.STRING, "", Importance.LOW, "Directory for the replay plan: where "
                                + "each store partition's replay starts and ends, decided once when the replay begins "
                                + "(so 'snapshot' is the archive's end at that moment, across restarts) and kept as "
                                + "<name>.properties, beside <name>.offsets-altered (the partitions whose offsets were reset "
                                + "or altered through Connect; keep it). Files in the default directory are carried "
                                + "over when this is set later. Empty: <" + LOGSTORE_DIR + ">/.replay-plans. An absolute "
                                + "path; it "
                                + "must be writable (set it when the archive is read-only) and, in a multi-worker "
                                + "cluster, shared.", GROUP_REPLAY, ++replay, Width.LONG,
                        "Replay plan directory")
                .define(ON_REMOVED_RECORDS, Type.STRING, "fail", ConfigDef.CaseInsensitiveValidString.in("fail", "skip"),
                        Importance.MEDIUM, "What a replay does when archive retention removed records before they "
                                + "were replayed (a slow replay, a long pause, a start below the archive's start): "
                                + "'fail' stops the task saying which offsets are gone; 'skip' goes on from the "
                                + "archive's start offset, logs a warning and counts the records skipped "
                                + "(records-skipped). The same while running and after a restart.",
                        GROUP_REPLAY, ++replay, Width.SHORT, "On removed records")
                .define(BATCH_SIZE, Type.INT, 1000, ConfigDef.Range.between(1, 1_000_000), Importance.LOW,
                        "Most records one poll returns.", GROUP_REPLAY, ++replay, Width.SHORT, "Batch size")
                .define(BATCH_MAX_BYTES, Type.INT, 4 << 20, ConfigDef.Range.atLeast(1024), Importance.LOW,
                        "About how many archive bytes one poll reads per partition.", GROUP_REPLAY, ++replay,
                        Width.SHORT, "Batch bytes")
                .define(RATE_LIMIT, Type.DOUBLE, 0.0, ConfigDef.Range.atLeast(0), Importance.LOW,
                        "Most records per second each task emits; 0 for no limit.", GROUP_REPLAY, ++replay,
                        Width.SHORT, "Rate limit")
                .define(POLL_TIMEOUT_MS, Type.LONG, 500L, ConfigDef.Range.between(1, 60_000), Importance.LOW,
                        "How long a poll waits for new records before returning none (at most 1 s, so the "
                                + "worker can commit offsets and stop the task promptly).", GROUP_REPLAY, ++replay,
                        Width.SHORT, "Poll timeout")
                .define(TARGET_BOOTSTRAP, Type.STRING, "", Importance.MEDIUM, "Bootstrap servers of the Kafka cluster "
                                + "that receives the replay, for managing its topics: the connector creates missing "
                                + "target topics with the store's partition count and checks that existing ones have "
                                + "enough partitions; settings prefixed '" + TARGET_ADMIN_PREFIX + "' (security and "
                                + "the like) go to its admin client. The records themselves go where the worker's "
                                + "producer sends them: to replay into another cluster than the worker's, set "
                                + "producer.override.bootstrap.servers to the same servers. When empty, target topics "
                                + "must exist or be created by the worker's topic.creation settings.", GROUP_TARGET, ++target, Width.LONG, "Target bootstrap servers")
                .define(TARGET_REPLICATION_FACTOR, Type.SHORT, (short) -1, Importance.LOW,
                        "Replication factor of target topics the connector creates; -1 for the broker's default.",
                        GROUP_TARGET, ++target, Width.SHORT, "Target replication factor")
                .define(TARGET_CONFIGS_COPY, Type.BOOLEAN, true, Importance.MEDIUM,
                        "Create missing target topics with the configs the archived topic had (kept by the sink when "
                                + "it was given the archived cluster's kafka.bootstrap.servers), so that, say, a "
                                + "compacted topic comes back compacted (except those of " + TARGET_CONFIGS_EXCLUDE
                                + "). Settings prefixed 'target.topic.' override them.",
                        GROUP_TARGET, ++target, Width.SHORT, "Copy topic configs")
                .define(TARGET_CONFIGS_EXCLUDE, Type.LIST, DEFAULT_CONFIGS_EXCLUDED, Importance.LOW,
                        "Configs of the archived topic not to copy to new target topics. By default those that "
                                + "would delete or refuse replayed records for their age: a replay writes old records "
                                + "with their own timestamps, which the archived topic's retention would delete at "
                                + "once (set target.topic.retention.ms to choose the restored topic's retention).",
                        GROUP_TARGET, ++target, Width.LONG, "Topic configs not copied");
        return PackingSettings.defineKeys(definition, 0);
    }

    public Path archiveRoot() {
        return Path.of(getString(LOGSTORE_DIR)).normalize();
    }

    public List<String> stores() {
        return getList(STORES).stream().map(String::trim).filter(s -> !s.isEmpty()).toList();
    }

    /** The regex of stores, or null when none was given. */
    public Pattern storesPattern() {
        String regex = getString(STORES_REGEX);
        if (regex == null || regex.isBlank()) {
            return null;
        }
        try {
            return Pattern.compile(regex);
        } catch (PatternSyntaxException e) {
            throw new ConfigException(STORES_REGEX, regex, "not a valid regular expression: " + e.getDescription());
        }
    }

    /** True when a store name is selected by {@link #STORES} and {@link #STORES_REGEX}. */
    public boolean selects(String store) {
        List<String> named = stores();
        Pattern pattern = storesPattern();
        if (named.isEmpty() && pattern == null) {
            return true;
        }
        return named.contains(store) || (pattern != null && pattern.matcher(store).matches());
    }

    public String targetTopic(String store) {
        return getString(TOPIC_FORMAT).replace(TOPIC_PLACEHOLDER, store);
    }

    /** Where replay plans are kept. */
    public Path replayPlanDirectory() {
        String dir = getString(REPLAY_PLAN_DIR);
        return dir == null || dir.isBlank() ? archiveRoot().resolve(DEFAULT_REPLAY_PLAN_DIR) : Path.of(dir.trim()).normalize();
    }

    /** The settings that decide a replay's range, as one string: a plan made from others is made again. */
    public String replayRangeSettings() {
        StringBuilder text = new StringBuilder(START).append('=').append(start().name().toLowerCase(Locale.ROOT));
        switch (start()) {
            case OFFSET -> text.append(' ').append(START_OFFSET).append('=').append(getLong(START_OFFSET));
            case TIMESTAMP -> text.append(' ').append(START_TIMESTAMP).append('=').append(getLong(START_TIMESTAMP));
            default -> { }
        }
        text.append(' ').append(END).append('=').append(end().name().toLowerCase(Locale.ROOT));
        switch (end()) {
            case OFFSET -> text.append(' ').append(END_OFFSET).append('=').append(getLong(END_OFFSET));
            case TIMESTAMP -> text.append(' ').append(END_TIMESTAMP).append('=').append(getLong(END_TIMESTAMP));
            default -> { }
        }
        return text.toString();
    }

    /** True when records retention removed before they were replayed are skipped (else the task fails). */
    public boolean skipRemovedRecords() {
        return "skip".equalsIgnoreCase(getString(ON_REMOVED_RECORDS));
    }

    public Mapping mapping() {
        return Mapping.valueOf(getString(PARTITION_MAPPING).toUpperCase(Locale.ROOT).replace('-', '_'));
    }

    public Start start() {
        return Start.valueOf(getString(START).toUpperCase(Locale.ROOT));
    }

    public End end() {
        return End.valueOf(getString(END).toUpperCase(Locale.ROOT));
    }

    /** Settings for the target admin client, or an empty map when no target cluster is configured. */
    public Map<String, Object> targetAdminConfig() {
        return dev.logstore.connect.config.AdminClients.config(getString(TARGET_BOOTSTRAP),
                originalsWithPrefix(TARGET_ADMIN_PREFIX));
    }
}
