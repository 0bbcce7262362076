package dev.logstore.connect.source;

import dev.logstore.LogReader;
import dev.logstore.LogStore;
import dev.logstore.LogStoreException;
import dev.logstore.connect.config.ArchivePaths;
import dev.logstore.io.Directories;
import java.io.IOException;
import java.io.Reader;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Collection;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import org.apache.kafka.connect.errors.ConnectException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Where a replay starts and ends in every store partition, decided once, when the replay begins,
 * and kept in a file of its own ({@code <replay.plan.dir>/<connector>.properties}), so that
 * "snapshot" means the end the archive had when the replay began, across every partition and
 * every restart of the connector and its tasks. The start applies to a partition that has no
 * committed position yet; a committed position always wins over it.
 *
 * <p>When the start or end settings change, the plan is made again from the new settings (and
 * the change logged): a changed end is honoured for every partition, a changed start for those
 * that have not committed a position. Resetting a partition's offsets (KIP-875) forgets its
 * entry, so it is planned again.
 */
final class ReplayPlan {

    private static final Logger log = LoggerFactory.getLogger(ReplayPlan.class);
    private static final String SETTINGS = "settings";
    private static final String PARTITION_PREFIX = "partition.";

    /** One partition's range: offsets from {@code start} (inclusive) to {@code end} (exclusive; MAX for a followed one). */
    record Range(long start, long end) {
    }

    private final Path file;
    private final String settings;
    private final TreeMap<StorePartition, Range> ranges;

    private ReplayPlan(Path file, String settings, TreeMap<StorePartition, Range> ranges) {
        this.file = file;
        this.settings = settings;
        this.ranges = ranges;
    }

    static Path file(LogStoreSourceConfig config, String connector) {
        return config.replayPlanDirectory().resolve(connector + ".properties");
    }

    /**
     * The plan of {@code connector}: as recorded, with partitions it does not know yet added; made
     * afresh when there is none or the start and end settings changed. Written back when changed.
     */
    static ReplayPlan prepare(LogStoreSourceConfig config, String connector, Map<String, Integer> stores) {
        Path file = file(config, connector);
        String settings = config.replayRangeSettings();
        ReplayPlan recorded = read(file);
        ReplayPlan plan;
        if (recorded == null) {
            plan = new ReplayPlan(file, settings, new TreeMap<>());
            log.info("Planning the replay of {} from {} ({}), recorded in {}", stores.keySet(), config.archiveRoot(),
                    settings, file);
        } else if (!recorded.settings.equals(settings)) {
            plan = new ReplayPlan(file, settings, new TreeMap<>());
            log.warn("The replay settings of {} changed from [{}] to [{}]: planning the replay again. Partitions with a "
                    + "committed position go on from it to the new end; the others start as now configured",
                    connector, recorded.settings, settings);
        } else {
            plan = recorded;
        }
        boolean changed = plan != recorded;
        for (Map.Entry<String, Integer> store : stores.entrySet()) {
            for (int p = 0; p < store.getValue(); p++) {
                StorePartition unit = new StorePartition(store.getKey(), p);
                if (!plan.ranges.containsKey(unit)) {
                    plan.ranges.put(unit, plan(config, unit));
                    changed = true;
                }
            }
        }
        if (changed) {
            plan.write();
        }
        return plan;
    }

    /** A task's share of the plan, as its configuration carries it: "store:partition:start:end,...". */
    static String encode(Map<StorePartition, Range> assignment) {
        StringBuilder text = new StringBuilder();
        assignment.forEach((unit, range) -> text.append(text.length() == 0 ? "" : ",").append(unit.encode()).append(':')
                .append(range.start()).append(':').append(range.end()));
        return text.toString();
    }

    /** The inverse of {@link #encode}. */
    static Map<StorePartition, Range> decode(String text) {
        Map<StorePartition, Range> assignment = new java.util.LinkedHashMap<>();
        for (String part : text.split(",")) {
            if (part.isBlank()) {
                continue;
            }
            int endColon = part.lastIndexOf(':');
            int startColon = part.lastIndexOf(':', endColon - 1);
            assignment.put(StorePartition.decode(part.substring(0, startColon)), new Range(
                    Long.parseLong(part.substring(startColon + 1, endColon)), Long.parseLong(part.substring(endColon + 1))));
        }
        return assignment;
    }

    /** The range of {@code unit}, or null when the plan does not include it. */
    Range range(StorePartition unit) {
        return ranges.get(unit);
    }

    /** Forgets the given partitions, so the next {@link #prepare} plans them afresh; writes the file. */
    static void forget(LogStoreSourceConfig config, String connector, Collection<StorePartition> units) {
        Path file = file(config, connector);
        ReplayPlan recorded = read(file);
        if (recorded != null && recorded.ranges.keySet().removeAll(units)) {
            recorded.write();
        }
    }

    /** Where {@code unit}'s replay starts and ends, as configured, measured on the archive now. */
    private static Range plan(LogStoreSourceConfig config, StorePartition unit) {
        Path dir = ArchivePaths.storeDirectory(config.archiveRoot(), unit.store());
        try (LogStore store = LogStore.builder(dir).readOnly().open(); LogReader reader = store.reader(unit.partition())) {
            long first = store.startOffset(unit.partition());
            long start = switch (config.start()) {
                case OFFSET -> config.getLong(LogStoreSourceConfig.START_OFFSET);
                case TIMESTAMP -> reader.seekToTimestamp(config.getLong(LogStoreSourceConfig.START_TIMESTAMP)).position();
                default -> first;
            };
            long end = switch (config.end()) {
                case FOLLOW -> Long.MAX_VALUE;
                case SNAPSHOT -> store.nextOffset(unit.partition());
                case OFFSET -> config.getLong(LogStoreSourceConfig.END_OFFSET);
                case TIMESTAMP -> reader.seekToTimestamp(config.getLong(LogStoreSourceConfig.END_TIMESTAMP)).position();
            };
            return new Range(start, end);
        } catch (LogStoreException e) {
            throw new ConnectException("Cannot plan the replay of " + unit + " from " + dir + ": " + e.getMessage(), e);
        }
    }

    private static ReplayPlan read(Path file) {
        Properties properties = new Properties();
        try (Reader reader = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            properties.load(reader);
        } catch (NoSuchFileException e) {
            return null;
        } catch (IOException e) {
            throw new ConnectException("Cannot read the replay plan " + file + ": " + e.getMessage() + ". Set "
                    + LogStoreSourceConfig.REPLAY_PLAN_DIR + " to a directory the workers can read and write", e);
        }
        TreeMap<StorePartition, Range> ranges = new TreeMap<>();
        try {
            for (String key : properties.stringPropertyNames()) {
                if (key.startsWith(PARTITION_PREFIX)) {
                    StorePartition unit = StorePartition.decode(key.substring(PARTITION_PREFIX.length()));
                    String[] range = properties.getProperty(key).split("-", 2);
                    ranges.put(unit, new Range(Long.parseLong(range[0].trim()), Long.parseLong(range[1].trim())));
                }
            }
        } catch (RuntimeException e) {
            throw new ConnectException("The replay plan " + file + " is damaged (" + e.getMessage() + "); delete it to "
                    + "plan the replay again from the current settings", e);
        }
        return new ReplayPlan(file, properties.getProperty(SETTINGS, ""), ranges);
    }

    private void write() {
        Properties properties = new Properties();
        properties.setProperty(SETTINGS, settings);
        ranges.forEach((unit, range) -> properties.setProperty(PARTITION_PREFIX + unit.encode(),
                range.start() + "-" + range.end()));
        StringWriter text = new StringWriter();
        try {
            properties.store(text, "LogStore replay plan: where each store partition's replay starts and ends "
                    + "(exclusive). Written by the source connector; delete it to plan the replay again.");
            Files.createDirectories(file.getParent());
            Directories.replaceAtomically(file, StandardCharsets.UTF_8.encode(text.toString()));
            Directories.fsync(file.getParent());
        } catch (IOException e) {
            throw new ConnectException("Cannot write the replay plan " + file + ": " + e.getMessage() + ". The plan "
                    + "keeps a replay's start and end fixed across restarts; set " + LogStoreSourceConfig.REPLAY_PLAN_DIR
                    + " to a directory the workers can write (shared by all of them)", e);
        }
    }
}
