package dev.logstore.connect.source;

import dev.logstore.io.Directories;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Collection;
import java.util.TreeSet;
import org.apache.kafka.connect.errors.ConnectException;

/**
 * The store partitions whose offsets were reset through Connect's REST API (KIP-875), kept in
 * {@code <replay.plan.dir>/<connector>.offsets-reset}, one "store:partition" per line. A reset
 * removes the offset tasks commit; this record keeps an older offset that LogStore 0.1 committed
 * under the other key order from undoing it (see {@link CommittedOffsets}). It is apart from the
 * replay plan because a plan may be deleted to plan a replay again, and a reset must outlive that.
 * It only grows: once a reset partition commits again, its new offset wins anyway.
 */
final class OffsetResets {

    private static final String HEADER = "# LogStore: store partitions whose source offsets were reset through "
            + "Connect. Keep this file while the connector exists: without it, offsets committed by LogStore 0.1 "
            + "could undo those resets.";

    private OffsetResets() {
    }

    static Path file(LogStoreSourceConfig config, String connector) {
        return config.replayPlanDirectory().resolve(connector + ".offsets-reset");
    }

    /** The partitions reset so far; none when the file does not exist. */
    static TreeSet<StorePartition> read(LogStoreSourceConfig config, String connector) {
        Path file = file(config, connector);
        TreeSet<StorePartition> units = new TreeSet<>();
        try {
            for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
                String unit = line.strip();
                if (!unit.isEmpty() && !unit.startsWith("#")) {
                    units.add(StorePartition.decode(unit));
                }
            }
        } catch (NoSuchFileException e) {
            return units;
        } catch (IOException e) {
            throw new ConnectException("Cannot read " + file + ": " + e.getMessage() + ". Set "
                    + LogStoreSourceConfig.REPLAY_PLAN_DIR + " to a directory the workers can read and write", e);
        } catch (RuntimeException e) {
            throw new ConnectException(file + " is damaged (" + e.getMessage() + "): each line must be "
                    + "'store:partition'. Correct the line; do not delete the file while the connector exists", e);
        }
        return units;
    }

    /** Adds {@code reset} to the record, durably, before Connect writes the resets themselves. */
    static void add(LogStoreSourceConfig config, String connector, Collection<StorePartition> reset) {
        if (reset.isEmpty()) {
            return;
        }
        TreeSet<StorePartition> units = read(config, connector);
        if (!units.addAll(reset)) {
            return;
        }
        Path file = file(config, connector);
        StringBuilder text = new StringBuilder(HEADER).append('\n');
        units.forEach(unit -> text.append(unit.encode()).append('\n'));
        try {
            Files.createDirectories(file.getParent());
            Directories.replaceAtomically(file, StandardCharsets.UTF_8.encode(text.toString()));
            Directories.fsync(file.getParent());
        } catch (IOException e) {
            throw new ConnectException("Cannot write " + file + ": " + e.getMessage() + "; the offsets were not reset. "
                    + "Set " + LogStoreSourceConfig.REPLAY_PLAN_DIR + " to a directory the workers can write", e);
        }
    }
}
