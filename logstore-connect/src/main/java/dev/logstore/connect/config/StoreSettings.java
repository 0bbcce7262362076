package dev.logstore.connect.config;

import dev.logstore.CorruptionPolicy;
import dev.logstore.Durability;
import dev.logstore.LogStore;
import java.time.Duration;
import java.util.Locale;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.config.AbstractConfig;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigDef.Importance;
import org.apache.kafka.common.config.ConfigDef.Type;
import org.apache.kafka.common.config.ConfigDef.Width;
import org.apache.kafka.common.config.Config;
import org.apache.kafka.common.config.ConfigValue;

/** The store settings a writer of archives chooses: segments, index, durability, retention. */
public final class StoreSettings {

    public static final String GROUP = "Store";

    public static final String SEGMENT_BYTES = "logstore.segment.bytes";
    public static final String SEGMENT_MS = "logstore.segment.ms";
    public static final String INDEX_INTERVAL_BYTES = "logstore.index.interval.bytes";
    public static final String FSYNC_POLICY = "logstore.fsync.policy";
    public static final String FSYNC_RECORDS = "logstore.fsync.records";
    public static final String FSYNC_INTERVAL_MS = "logstore.fsync.interval.ms";
    public static final String RETENTION_MS = "logstore.retention.ms";
    public static final String RETENTION_BYTES = "logstore.retention.bytes";
    public static final String CORRUPTION_POLICY = "logstore.corruption.policy";

    public static final String FSYNC_FLUSH = "flush";
    public static final String FSYNC_ALWAYS = "always";
    public static final String FSYNC_RECORDS_POLICY = "records";
    public static final String FSYNC_INTERVAL = "interval";

    private StoreSettings() {
    }

    /** Adds the store settings to {@code definition}. */
    public static ConfigDef define(ConfigDef definition) {
        int order = 0;
        return definition
                .define(SEGMENT_BYTES, Type.LONG, 1L << 30, ConfigDef.Range.between(1024, Integer.MAX_VALUE),
                        Importance.MEDIUM, "Roll to a new segment file before one would grow past this many bytes.",
                        GROUP, ++order, Width.SHORT, "Segment bytes")
                .define(SEGMENT_MS, Type.LONG, Duration.ofDays(7).toMillis(), ConfigDef.Range.atLeast(1),
                        Importance.LOW, "Roll a non-empty segment this many milliseconds after its first append.",
                        GROUP, ++order, Width.SHORT, "Segment age")
                .define(INDEX_INTERVAL_BYTES, Type.INT, 4096, ConfigDef.Range.atLeast(1), Importance.LOW,
                        "Bytes between two entries of the sparse offset index.", GROUP, ++order, Width.SHORT,
                        "Index interval")
                .define(FSYNC_POLICY, Type.STRING, FSYNC_FLUSH,
                        ConfigDef.CaseInsensitiveValidString.in(FSYNC_FLUSH, FSYNC_ALWAYS, FSYNC_RECORDS_POLICY,
                                FSYNC_INTERVAL),
                        Importance.MEDIUM, "When archived data is forced to disk. 'flush': at every offset commit "
                                + "(the sink commits only what is on disk, so this is already exactly-once); "
                                + "'always': after every batch; 'records': every " + FSYNC_RECORDS + " records; "
                                + "'interval': every " + FSYNC_INTERVAL_MS + " ms.",
                        GROUP, ++order, Width.SHORT, "Fsync policy")
                .define(FSYNC_RECORDS, Type.INT, 10_000, ConfigDef.Range.atLeast(1), Importance.LOW,
                        "Records between two fsyncs when " + FSYNC_POLICY + "=records.", GROUP, ++order, Width.SHORT,
                        "Fsync records")
                .define(FSYNC_INTERVAL_MS, Type.LONG, 1000L, ConfigDef.Range.atLeast(1), Importance.LOW,
                        "Milliseconds between two fsyncs when " + FSYNC_POLICY + "=interval.", GROUP, ++order,
                        Width.SHORT, "Fsync interval")
                .define(RETENTION_MS, Type.LONG, -1L, ConfigDef.Range.atLeast(-1), Importance.MEDIUM,
                        "Delete whole sealed segments whose newest record is older than this many milliseconds; "
                                + "-1 keeps everything.", GROUP, ++order, Width.SHORT, "Retention time")
                .define(RETENTION_BYTES, Type.LONG, -1L, ConfigDef.Range.atLeast(-1), Importance.MEDIUM,
                        "Delete the oldest sealed segments while a partition holds more bytes than this; "
                                + "-1 keeps everything.", GROUP, ++order, Width.SHORT, "Retention size")
                .define(CORRUPTION_POLICY, Type.STRING, "fail",
                        ConfigDef.CaseInsensitiveValidString.in("fail", "truncate"), Importance.LOW,
                        "What opening a store does with damaged data (a sealed segment, or bad bytes inside the "
                                + "active one with intact batches after them): 'fail' stops the task naming "
                                + "file and position; 'truncate' cuts the partition back to the last valid batch.",
                        GROUP, ++order, Width.SHORT, "Corruption policy");
    }

    /** Applies the settings of {@code config} to a store builder. */
    public static LogStore.Builder apply(AbstractConfig config, LogStore.Builder builder) {
        builder.segmentBytes(config.getLong(SEGMENT_BYTES))
                .segmentAge(Duration.ofMillis(config.getLong(SEGMENT_MS)))
                .indexIntervalBytes(config.getInt(INDEX_INTERVAL_BYTES))
                .durability(durability(config))
                .retentionBytes(config.getLong(RETENTION_BYTES))
                .corruptionPolicy(CorruptionPolicy.valueOf(config.getString(CORRUPTION_POLICY).toUpperCase(Locale.ROOT)));
        long retentionMs = config.getLong(RETENTION_MS);
        builder.retentionAge(retentionMs < 0 ? null : Duration.ofMillis(Math.max(1, retentionMs)));
        return builder;
    }

    private static Durability durability(AbstractConfig config) {
        return switch (config.getString(FSYNC_POLICY).toLowerCase(Locale.ROOT)) {
            case FSYNC_ALWAYS -> Durability.always();
            case FSYNC_RECORDS_POLICY -> Durability.everyRecords(config.getInt(FSYNC_RECORDS));
            case FSYNC_INTERVAL -> Durability.interval(Duration.ofMillis(config.getLong(FSYNC_INTERVAL_MS)));
            default -> Durability.onFlush();
        };
    }

    /** Adds an error to the value of {@code key} in a validation result. */
    /**
     * The values of a validation, by name, each said once: a required key that is missing gets
     * both Connect's "Missing required configuration" and its validator's message, which says
     * what to give; only the latter is kept.
     */
    public static Map<String, ConfigValue> byName(Config result) {
        Map<String, ConfigValue> values = new java.util.LinkedHashMap<>();
        for (ConfigValue value : result.configValues()) {
            List<String> messages = value.errorMessages(); // Connect's own list, which it lets callers change
            if (messages.stream().anyMatch(message -> !message.startsWith("Missing required configuration"))) {
                try {
                    messages.removeIf(message -> message.startsWith("Missing required configuration"));
                } catch (UnsupportedOperationException e) {
                    // a runtime whose list cannot change: both messages stay
                }
            }
            values.put(value.name(), value);
        }
        return values;
    }

    public static void addError(Map<String, ConfigValue> values, String key, String message) {
        ConfigValue value = values.computeIfAbsent(key, ConfigValue::new);
        value.addErrorMessage(message);
    }
}
