package dev.logstore.connect.sink;

import dev.logstore.connect.config.ArchiveDirectoryValidator;
import dev.logstore.connect.config.PackingSettings;
import dev.logstore.connect.config.StoreSettings;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import org.apache.kafka.common.config.AbstractConfig;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigDef.Importance;
import org.apache.kafka.common.config.ConfigDef.Type;
import org.apache.kafka.common.config.ConfigDef.Width;

/** Configuration of {@link LogStoreSinkConnector}. */
public final class LogStoreSinkConfig extends AbstractConfig {

    public static final String LOGSTORE_DIR = "logstore.dir";
    public static final String PARTITION_MAPPING = "logstore.partition.mapping";
    public static final String PARTITIONS = "logstore.partitions";
    public static final String BEHAVIOR_ON_NULL_VALUES = "behavior.on.null.values";
    public static final String REQUIRE_READ_COMMITTED = "logstore.require.read.committed";
    public static final String LOCK_WAIT_MS = "logstore.lock.wait.ms";
    public static final String BATCH_MAX_BYTES = "logstore.batch.max.bytes";
    public static final String KAFKA_BOOTSTRAP = "kafka.bootstrap.servers";
    public static final String KAFKA_ADMIN_PREFIX = "kafka.admin.";
    public static final String METADATA_INTERVAL_MS = "kafka.metadata.interval.ms";
    public static final String GROUPS_INTERVAL_MS = "kafka.groups.interval.ms";
    public static final String RECREATED_TOPIC = "kafka.topic.recreated";

    /** The connector-level consumer override that makes the sink see only committed records. */
    public static final String ISOLATION_OVERRIDE = "consumer.override.isolation.level";
    public static final String READ_COMMITTED = "read_committed";

    public static final String MAPPING_KAFKA = "kafka";
    public static final String MAPPING_KEY_HASH = "key-hash";

    /** What to do with a record whose value is null (a tombstone). */
    public enum NullValues { KEEP, IGNORE, FAIL }

    /** What to do when an archived topic was deleted and re-created under the same name. */
    public enum RecreatedTopic {
        /** Move the old topic's store aside and archive the new topic into a new one. */
        NEW_GENERATION,
        /** Stop the task, saying what to do. */
        FAIL;

        /** The setting's value that names this. */
        public String configValue() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    private static final String ARCHIVE_GROUP = "Archive";
    private static final String CLUSTER_GROUP = "Archived cluster";

    public static final ConfigDef CONFIG_DEF = definition();

    public LogStoreSinkConfig(Map<String, String> props) {
        super(CONFIG_DEF, props);
    }

    private static ConfigDef definition() {
        ConfigDef definition = new ConfigDef()
                .define(LOGSTORE_DIR, Type.STRING, ConfigDef.NO_DEFAULT_VALUE, ArchiveDirectoryValidator.writable(),
                        Importance.HIGH, "Archive root directory: each topic is archived into the store <root>/<topic>. "
                                + "In a cluster of several workers this must be a filesystem all workers share, "
                                + "since tasks move between workers.", ARCHIVE_GROUP, 1, Width.LONG, "Archive directory")
                .define(PARTITION_MAPPING, Type.STRING, MAPPING_KAFKA,
                        ConfigDef.CaseInsensitiveValidString.in(MAPPING_KAFKA, MAPPING_KEY_HASH), Importance.MEDIUM,
                        "How topic partitions map onto store partitions. 'kafka': topic partition p goes to store "
                                + "partition p, keeping Kafka's offsets as archive offsets (exactly once). 'key-hash': "
                                + "records go to one of " + PARTITIONS + " store partitions by the murmur2 hash of "
                                + "their key, with new archive offsets; progress is checkpointed beside the store "
                                + "(at least once) and tasks.max must be 1.",
                        ARCHIVE_GROUP, 2, Width.SHORT, "Partition mapping")
                .define(PARTITIONS, Type.INT, 1, ConfigDef.Range.atLeast(1), Importance.LOW,
                        "Number of store partitions per topic with " + PARTITION_MAPPING + "=key-hash.",
                        ARCHIVE_GROUP, 3, Width.SHORT, "Store partitions (key-hash)")
                .define(BEHAVIOR_ON_NULL_VALUES, Type.STRING, "keep",
                        ConfigDef.CaseInsensitiveValidString.in("keep", "ignore", "fail"), Importance.MEDIUM,
                        "Records with a null value (tombstones): 'keep' archives them, 'ignore' skips them, 'fail' "
                                + "stops the task (or sends the record to the dead letter queue when one is set).",
                        ARCHIVE_GROUP, 4, Width.SHORT, "Null values")
                .define(REQUIRE_READ_COMMITTED, Type.BOOLEAN, true, Importance.MEDIUM,
                        "Refuse to start unless this connector sets " + ISOLATION_OVERRIDE + "=" + READ_COMMITTED
                                + ". Connect's sink consumers read uncommitted records unless told otherwise, so "
                                + "records of aborted transactions would be archived, and replayed, as committed. Set "
                                + "false only when the worker's consumer.isolation.level is read_committed for every "
                                + "connector (or the topics are never written transactionally).",
                        ARCHIVE_GROUP, 5, Width.SHORT, "Require read_committed")
                .define(LOCK_WAIT_MS, Type.LONG, 60_000L, ConfigDef.Range.atLeast(0), Importance.LOW,
                        "How long a task waits for partition archives that another writer still holds (the task "
                                + "that had them before a rebalance, still closing) before it fails; one wait for all "
                                + "the partitions a rebalance assigns. "
                                + "It tries again with growing pauses, up to 5 s apart, and logs while it waits.",
                        ARCHIVE_GROUP, 6, Width.SHORT, "Lock wait")
                .define(BATCH_MAX_BYTES, Type.INT, 1 << 20, ConfigDef.Range.atLeast(1), Importance.LOW,
                        "Most bytes of keys, values and headers one stored batch holds: the records a put() brings "
                                + "for one partition are stored as batches of at most this size (a larger record is a "
                                + "batch of its own). A damaged byte costs readers the batch that holds it (bin/logstore "
                                + "salvage keeps every other batch and names the offsets lost), so smaller batches "
                                + "lose less; each batch costs a 46-byte header.",
                        ARCHIVE_GROUP, 7, Width.SHORT, "Batch size bound");
        definition
                .define(KAFKA_BOOTSTRAP, Type.STRING, "", Importance.MEDIUM,
                        "Bootstrap servers of the cluster whose topics this connector archives (the worker's own "
                                + "cluster, as a rule), for its admin API; security and other admin client settings go "
                                + "in " + KAFKA_ADMIN_PREFIX + "*. With it, each store keeps its topic's id, partition "
                                + "count and non-default configs (" + dev.logstore.connect.config.TopicMetadata.FILE
                                + "), which the source re-creates topics from, and a topic deleted and re-created under "
                                + "the same name is told apart by its id instead of its offsets (see " + RECREATED_TOPIC
                                + "). Empty: none of this is kept.", CLUSTER_GROUP, 1, Width.LONG, "Archived cluster")
                .define(METADATA_INTERVAL_MS, Type.LONG, 300_000L, ConfigDef.Range.atLeast(1000), Importance.LOW,
                        "How often (ms) an archived topic's id, partition count and configs are checked again, besides "
                                + "when its partitions are assigned.", CLUSTER_GROUP, 2, Width.SHORT,
                        "Topic metadata interval")
                .define(GROUPS_INTERVAL_MS, Type.LONG, 60_000L, ConfigDef.Range.atLeast(0), Importance.MEDIUM,
                        "How often (ms) the committed offsets of the consumer groups that read the archived topics "
                                + "are snapshotted into each store's consumer-groups store (only changes are written), "
                                + "so that a restore can move each group to where it was at any time "
                                + "(bin/logstore groups). 0: never. Needs " + KAFKA_BOOTSTRAP + ".", CLUSTER_GROUP, 3,
                        Width.SHORT, "Consumer group snapshot interval")
                .define(RECREATED_TOPIC, Type.STRING, RecreatedTopic.NEW_GENERATION.configValue(),
                        ConfigDef.CaseInsensitiveValidString.in(RecreatedTopic.NEW_GENERATION.configValue(),
                                RecreatedTopic.FAIL.configValue()), Importance.MEDIUM,
                        "What to do when an archived topic was deleted and re-created under the same name (its id "
                                + "changed). 'new_generation': the old topic's store moves aside to "
                                + "<topic>.<old topic id> once no task holds any of its partitions (until then the "
                                + "topic's partitions are paused), and the new topic is archived from its first offset "
                                + "into a new store <topic>, whose " + dev.logstore.connect.config.TopicMetadata.FILE
                                + " names the previous generation. 'fail': the task stops and says what to move. "
                                + "Needs " + KAFKA_BOOTSTRAP + ".",
                        CLUSTER_GROUP, 4, Width.SHORT, "Re-created topic");
        return PackingSettings.defineForWriting(StoreSettings.define(definition));
    }

    /**
     * What is wrong with the connector configuration {@code props} as to transactions: null when
     * the sink will see only committed records (or was told the worker sees to it), else what to
     * set. A sink cannot set its consumer's isolation level itself.
     */
    public static String readCommittedProblem(Map<String, String> props) {
        String required = props.getOrDefault(REQUIRE_READ_COMMITTED, "true").trim();
        if ("false".equalsIgnoreCase(required)) {
            return null;
        }
        String isolation = props.get(ISOLATION_OVERRIDE);
        if (isolation != null && READ_COMMITTED.equals(isolation.trim())) {
            return null;
        }
        if (isolation != null && READ_COMMITTED.equalsIgnoreCase(isolation.trim())) {
            return ISOLATION_OVERRIDE + "=" + isolation + " is not a value the consumer accepts: it must be "
                    + READ_COMMITTED + ", in lower case";
        }
        return "the sink would archive records of aborted transactions as if they were committed: Connect's sink "
                + "consumers read uncommitted records unless told otherwise" + (isolation == null ? ""
                : " (this connector sets " + ISOLATION_OVERRIDE + "=" + isolation + ")") + ". Set " + ISOLATION_OVERRIDE
                + "=" + READ_COMMITTED + " in this connector's configuration (the worker's "
                + "connector.client.config.override.policy must allow it, as its default 'All' does). If the worker "
                + "already sets consumer.isolation.level=" + READ_COMMITTED + " for every connector, set "
                + REQUIRE_READ_COMMITTED + "=false instead";
    }

    public Path archiveRoot() {
        return Path.of(getString(LOGSTORE_DIR)).normalize();
    }

    public boolean keyHashMapping() {
        return MAPPING_KEY_HASH.equalsIgnoreCase(getString(PARTITION_MAPPING));
    }

    public int keyHashPartitions() {
        return getInt(PARTITIONS);
    }

    public long lockWaitMillis() {
        return getLong(LOCK_WAIT_MS);
    }

    public int batchMaxBytes() {
        return getInt(BATCH_MAX_BYTES);
    }

    /** Admin client settings for the archived cluster; empty when {@link #KAFKA_BOOTSTRAP} is not set. */
    public Map<String, Object> archivedClusterAdminConfig() {
        return dev.logstore.connect.config.AdminClients.config(getString(KAFKA_BOOTSTRAP),
                originalsWithPrefix(KAFKA_ADMIN_PREFIX));
    }

    public long groupsIntervalMillis() {
        return getLong(GROUPS_INTERVAL_MS);
    }

    public RecreatedTopic recreatedTopic() {
        return RecreatedTopic.valueOf(getString(RECREATED_TOPIC).toUpperCase(Locale.ROOT));
    }

    public long metadataIntervalMillis() {
        return getLong(METADATA_INTERVAL_MS);
    }

    public NullValues nullValues() {
        return NullValues.valueOf(getString(BEHAVIOR_ON_NULL_VALUES).toUpperCase(Locale.ROOT));
    }
}
