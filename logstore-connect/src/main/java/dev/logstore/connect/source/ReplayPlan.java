package dev.logstore.connect.source;

import dev.logstore.connect.config.DurableFiles;
import dev.logstore.LogReader;
import dev.logstore.LogStore;
import dev.logstore.LogStoreException;
import dev.logstore.connect.config.ArchivePaths;
import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Collectors;
import org.apache.kafka.connect.errors.ConnectException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Where a replay starts and ends in every store partition, decided once, when the replay begins,
 * and kept in a file of its own ({@code <replay.plan.dir>/<connector>.properties}), so that
 * "snapshot" means the end the archive had when the replay began, across every partition and
 * every restart of the connector and its tasks. The start applies to a partition that has no
 * committed position yet; a committed position always wins over it. A store partition that
 * appears after a snapshot was taken is not part of it: it gets an empty range.
 *
 * <p>When the start or end settings change, the plan is made again from the new settings (and
 * the change logged): a changed end is honoured for every partition, a changed start for those
 * that have not committed a position. Resetting a partition's offsets (KIP-875) forgets its
 * range, so it is planned again (the reset itself is recorded apart, by {@link AlteredOffsets}).
 */
final class ReplayPlan {

    private static final Logger log = LoggerFactory.getLogger(ReplayPlan.class);
    private static final String SETTINGS = "settings";
    private static final String CREATED = "created";
    private static final String PARTITION_PREFIX = "partition.";
    private static final String REPLAN = "replan";

    /** One partition's range: offsets from {@code start} (inclusive) to {@code end} (exclusive; MAX for a followed one). */
    record Range(long start, long end) {
    }

    private final Path file;
    private final String settings;
    /** When the plan was made (ISO-8601), for the log. */
    private final String created;
    private final TreeMap<StorePartition, Range> ranges;
    /** Partitions reset since the plan was made: planned again, even within a snapshot. */
    private final TreeSet<StorePartition> replan;

    private ReplayPlan(Path file, String settings, String created, TreeMap<StorePartition, Range> ranges,
                       TreeSet<StorePartition> replan) {
        this.file = file;
        this.settings = settings;
        this.created = created;
        this.ranges = ranges;
        this.replan = replan;
    }

    private static ReplayPlan empty(Path file, String settings) {
        return new ReplayPlan(file, settings, Instant.now().toString(), new TreeMap<>(), new TreeSet<>());
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
        boolean reused = false;
        if (recorded == null) {
            plan = empty(file, settings);
            log.info("Planning the replay of {} from {} ({}), recorded in {}", stores.keySet(), config.archiveRoot(),
                    settings, file);
        } else if (!recorded.settings.equals(settings)) {
            plan = empty(file, settings);
            log.warn("The replay settings of {} changed from [{}] to [{}]: planning the replay again. Partitions with a "
                    + "committed position go on from it to the new end; the others start as now configured",
                    connector, recorded.settings, settings);
        } else {
            plan = recorded;
            reused = true;
        }
        boolean changed = !reused;
        List<StorePartition> outsideTheSnapshot = new ArrayList<>();
        for (Map.Entry<String, Integer> store : stores.entrySet()) {
            for (int p = 0; p < store.getValue(); p++) {
                StorePartition unit = new StorePartition(store.getKey(), p);
                if (plan.ranges.containsKey(unit)) {
                    continue;
                }
                Range range = plan(config, unit);
                if (reused && config.end() == LogStoreSourceConfig.End.SNAPSHOT && !plan.replan.contains(unit)) {
                    // Not in the archive when the snapshot was taken: nothing of it belongs to the replay.
                    range = new Range(range.end(), range.end());
                    outsideTheSnapshot.add(unit);
                }
                plan.ranges.put(unit, range);
                plan.replan.remove(unit);
                changed = true;
            }
        }
        if (reused) {
            log.info("Replaying {} as planned at {} ({}), recorded in {}", stores.keySet(), plan.created, settings,
                    file);
        }
        if (!outsideTheSnapshot.isEmpty()) {
            log.warn("{} appeared after the snapshot of {} was taken at {}: they are not replayed. To replay one, reset "
                    + "its offset through Connect's REST API (with the connector stopped): PATCH /connectors/{}/offsets "
                    + "with {}. A DELETE of all the offsets does not reach them, as they have none; deleting {} plans a "
                    + "new snapshot of everything", outsideTheSnapshot, connector, plan.created, connector,
                    resetRequest(outsideTheSnapshot.get(0)), file);
        }
        if (reused && config.end() == LogStoreSourceConfig.End.SNAPSHOT) {
            List<StorePartition> plannedEmpty = plan.ranges.entrySet().stream()
                    .filter(e -> e.getValue().start() >= e.getValue().end() && !outsideTheSnapshot.contains(e.getKey()))
                    .filter(e -> nextOffset(config, e.getKey()) > e.getValue().end())
                    .map(Map.Entry::getKey).toList();
            if (!plannedEmpty.isEmpty()) {
                log.warn("{} held nothing to replay when the snapshot of {} was taken at {}; the records added to "
                        + "them since are not replayed. To replay them, reset their offsets one by one (a DELETE of all "
                        + "the offsets does not reach them): PATCH /connectors/{}/offsets with {}", plannedEmpty,
                        connector, plan.created, connector, resetRequest(plannedEmpty.get(0)));
            }
        }
        if (changed) {
            plan.write();
        }
        return plan;
    }

    /** The next offset of {@code unit} in the archive now; -1 when it cannot be read (the replay will say why). */
    private static long nextOffset(LogStoreSourceConfig config, StorePartition unit) {
        Path dir = ArchivePaths.storeDirectory(config.archiveRoot(), unit.store());
        try (LogStore store = LogStore.builder(dir).readOnly().open()) {
            return unit.partition() < store.partitionCount() ? store.nextOffset(unit.partition()) : -1;
        } catch (LogStoreException e) {
            return -1;
        }
    }

    /** The body of a Connect REST request that resets the offset of {@code unit}. */
    static String resetRequest(StorePartition unit) {
        return "{\"offsets\": [{\"partition\": {\"partition\": " + unit.partition() + ", \"store\": \"" + unit.store()
                + "\"}, \"offset\": null}]}";
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

    /**
     * Records an offset reset (KIP-875) of {@code reset}: their ranges are forgotten, so the next
     * {@link #prepare} plans them afresh, even within a snapshot. Writes the file when there is one
     * (without one, the next start plans everything afresh anyway).
     */
    static void offsetsReset(LogStoreSourceConfig config, String connector, Collection<StorePartition> reset) {
        if (reset.isEmpty()) {
            return;
        }
        ReplayPlan plan = read(file(config, connector));
        if (plan != null) {
            plan.ranges.keySet().removeAll(reset);
            plan.replan.addAll(reset);
            plan.write();
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
        } catch (IllegalArgumentException e) {
            throw damaged(file, e); // a malformed unicode escape
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
            return new ReplayPlan(file, properties.getProperty(SETTINGS, ""),
                    properties.getProperty(CREATED, "an unknown time"), ranges, units(properties.getProperty(REPLAN)));
        } catch (RuntimeException e) {
            throw damaged(file, e);
        }
    }

    private static ConnectException damaged(Path file, RuntimeException e) {
        return new ConnectException("The replay plan " + file + " is damaged (" + e.getMessage() + "); delete it to "
                + "plan the replay again from the current settings", e);
    }

    /** Units written as "store:partition,...": store names hold neither ',' nor ':'. */
    static TreeSet<StorePartition> units(String text) {
        TreeSet<StorePartition> units = new TreeSet<>();
        if (text != null) {
            for (String unit : text.split(",")) {
                if (!unit.isBlank()) {
                    units.add(StorePartition.decode(unit.trim()));
                }
            }
        }
        return units;
    }

    static String encodeUnits(Collection<StorePartition> units) {
        return units.stream().map(StorePartition::encode).collect(Collectors.joining(","));
    }

    private void write() {
        Properties properties = new Properties();
        properties.setProperty(SETTINGS, settings);
        properties.setProperty(CREATED, created);
        if (!replan.isEmpty()) {
            properties.setProperty(REPLAN, encodeUnits(replan));
        }
        ranges.forEach((unit, range) -> properties.setProperty(PARTITION_PREFIX + unit.encode(),
                range.start() + "-" + range.end()));
        try {
            DurableFiles.write(file, properties, "LogStore replay plan: where each store partition's replay starts "
                    + "and ends (exclusive). Written by the source connector; delete it to plan the replay again.");
        } catch (IOException e) {
            throw new ConnectException("Cannot write the replay plan " + file + ": " + e.getMessage() + ". The plan "
                    + "keeps a replay's start and end fixed across restarts; set " + LogStoreSourceConfig.REPLAY_PLAN_DIR
                    + " to a directory the workers can write (shared by all of them)", e);
        }
    }
}
