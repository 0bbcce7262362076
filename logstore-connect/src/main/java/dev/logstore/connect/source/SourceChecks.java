package dev.logstore.connect.source;

import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Mistakes in a source configuration that no single setting shows: a start or end mode without
 * its value, a start at or after the end, a topic format that sends several stores into one topic,
 * records and topic management pointed at different clusters, a replay plan directory that cannot
 * be written.
 */
final class SourceChecks {

    private SourceChecks() {
    }

    /** What is wrong, by the setting to change; empty when nothing is. Assumes each value parsed. */
    static Map<String, String> problems(LogStoreSourceConfig config, Map<String, String> props) {
        Map<String, String> problems = new LinkedHashMap<>();
        LogStoreSourceConfig.Start start = config.start();
        LogStoreSourceConfig.End end = config.end();
        Long startOffset = config.getLong(LogStoreSourceConfig.START_OFFSET);
        Long startTimestamp = config.getLong(LogStoreSourceConfig.START_TIMESTAMP);
        Long endOffset = config.getLong(LogStoreSourceConfig.END_OFFSET);
        Long endTimestamp = config.getLong(LogStoreSourceConfig.END_TIMESTAMP);
        if (start == LogStoreSourceConfig.Start.OFFSET && startOffset == null) {
            problems.put(LogStoreSourceConfig.START_OFFSET, LogStoreSourceConfig.START + "=offset needs "
                    + LogStoreSourceConfig.START_OFFSET + ": the archive offset to start at");
        }
        if (start == LogStoreSourceConfig.Start.TIMESTAMP && startTimestamp == null) {
            problems.put(LogStoreSourceConfig.START_TIMESTAMP, LogStoreSourceConfig.START + "=timestamp needs "
                    + LogStoreSourceConfig.START_TIMESTAMP + ": the timestamp (ms since the epoch) to start at");
        }
        if (end == LogStoreSourceConfig.End.OFFSET && endOffset == null) {
            problems.put(LogStoreSourceConfig.END_OFFSET, LogStoreSourceConfig.END + "=offset needs "
                    + LogStoreSourceConfig.END_OFFSET + ": the offset to stop before (without it the replay never "
                    + "ends)");
        }
        if (end == LogStoreSourceConfig.End.TIMESTAMP && endTimestamp == null) {
            problems.put(LogStoreSourceConfig.END_TIMESTAMP, LogStoreSourceConfig.END + "=timestamp needs "
                    + LogStoreSourceConfig.END_TIMESTAMP + ": the timestamp to stop before");
        }
        if (start == LogStoreSourceConfig.Start.OFFSET && end == LogStoreSourceConfig.End.OFFSET
                && startOffset != null && endOffset != null && startOffset >= endOffset) {
            problems.put(LogStoreSourceConfig.END_OFFSET, "the replay would start at offset " + startOffset
                    + " and stop before offset " + endOffset + ": nothing would be replayed. Give an end above the "
                    + "start");
        }
        if (start == LogStoreSourceConfig.Start.TIMESTAMP && end == LogStoreSourceConfig.End.TIMESTAMP
                && startTimestamp != null && endTimestamp != null && startTimestamp >= endTimestamp) {
            problems.put(LogStoreSourceConfig.END_TIMESTAMP, "the replay would start at timestamp " + startTimestamp
                    + " and stop before timestamp " + endTimestamp + ": nothing would be replayed. Give an end "
                    + "after the start");
        }
        String format = config.getString(LogStoreSourceConfig.TOPIC_FORMAT);
        boolean oneStore = config.stores().size() == 1 && config.storesPattern() == null;
        if (!format.contains(LogStoreSourceConfig.TOPIC_PLACEHOLDER) && !oneStore) {
            problems.put(LogStoreSourceConfig.TOPIC_FORMAT, "'" + format + "' has no " + LogStoreSourceConfig.TOPIC_PLACEHOLDER
                    + ", so every selected store would be replayed into the one topic '" + format + "', their "
                    + "partitions mixed. Add " + LogStoreSourceConfig.TOPIC_PLACEHOLDER + ", or select one store in "
                    + LogStoreSourceConfig.STORES);
        }
        String planDirectory = replayPlanDirectoryProblem(config);
        if (planDirectory != null) {
            problems.put(LogStoreSourceConfig.REPLAY_PLAN_DIR, planDirectory);
        }
        String target = config.getString(LogStoreSourceConfig.TARGET_BOOTSTRAP);
        String producer = props.get("producer.override.bootstrap.servers");
        if (target != null && !target.isBlank() && producer != null && !Objects.equals(servers(target),
                servers(producer))) {
            problems.put(LogStoreSourceConfig.TARGET_BOOTSTRAP, "the records would go to " + producer
                    + " (producer.override.bootstrap.servers) while the target topics are managed on " + target
                    + "; set both to the servers of the cluster that receives the replay");
        }
        return problems;
    }

    /**
     * Null when the replay plan can be kept where configured: an absolute path to a directory that
     * exists and is writable, or that can be created under a writable one.
     */
    static String replayPlanDirectoryProblem(LogStoreSourceConfig config) {
        String configured = config.getString(LogStoreSourceConfig.REPLAY_PLAN_DIR);
        boolean byDefault = configured == null || configured.isBlank();
        Path dir;
        if (byDefault) {
            Path root = config.archiveRoot();
            if (!Files.isDirectory(root)) {
                return null; // the archive root's own check says what is wrong with it
            }
            dir = root.resolve(".replay-plans");
        } else {
            try {
                dir = Path.of(configured.trim());
            } catch (InvalidPathException e) {
                return "'" + configured + "' is not a path: " + e.getMessage();
            }
            if (!dir.isAbsolute()) {
                return "'" + configured + "' must be an absolute path (workers resolve relative paths against "
                        + "wherever they were started)";
            }
        }
        Path existing = dir;
        while (existing != null && !Files.exists(existing)) {
            existing = existing.getParent();
        }
        String fix = byDefault ? " By default the plan is kept in the archive directory; when the archive is "
                + "read-only, set " + LogStoreSourceConfig.REPLAY_PLAN_DIR + " to a writable directory that every "
                + "worker shares" : " Give a writable directory that every worker shares";
        if (existing == null) {
            return "the replay plan directory " + dir + " cannot be created: no part of it exists." + fix;
        }
        if (!Files.isDirectory(existing)) {
            return "the replay plan directory " + dir + " cannot be created: " + existing + " is a file." + fix;
        }
        if (!Files.isWritable(existing)) {
            return (existing.equals(dir) ? "the replay plan directory " + dir + " is not writable"
                    : "the replay plan directory " + dir + " cannot be created: " + existing + " is not writable")
                    + ". The plan keeps where each partition's replay starts and ends across restarts." + fix;
        }
        return null;
    }

    private static List<String> servers(String list) {
        return java.util.Arrays.stream(list.split(",")).map(String::trim).filter(s -> !s.isEmpty()).sorted().toList();
    }
}
