package dev.logstore.connect.source;

import dev.logstore.connect.config.DurableFiles;
import dev.logstore.io.Directories;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Collection;
import java.util.TreeSet;
import java.util.concurrent.Callable;
import org.apache.kafka.connect.errors.ConnectException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The store partitions whose offsets were reset or altered through Connect's REST API (KIP-875),
 * kept in {@code <replay.plan.dir>/<connector>.offsets-altered}, one "store:partition" per line.
 * For such a partition only the offset under the key order Connect writes counts; for the others
 * the further of the two orders wins, as LogStore 0.1 may have committed under either (see
 * {@link CommittedOffsets}). The record is apart from the replay plan because a plan may be
 * deleted to plan a replay again, and an offset moved through Connect must stay moved. It only
 * grows.
 *
 * <p>Connect may run two offset requests at once: every change to this record and to the plan
 * is made under {@link #locked}, one at a time in this JVM and, through a file lock, among workers
 * sharing the directory.
 */
final class AlteredOffsets {

    private static final Logger log = LoggerFactory.getLogger(AlteredOffsets.class);
    static final String SUFFIX = ".offsets-altered";
    private static final Object LOCK = new Object();
    private static final String HEADER = "# LogStore: store partitions whose source offsets were reset or altered "
            + "through Connect. Keep this file as long as Connect keeps the connector's offsets: without it, "
            + "offsets that LogStore 0.1 committed could undo those changes.";

    private AlteredOffsets() {
    }

    static Path file(LogStoreSourceConfig config, String connector) {
        return config.replayPlanDirectory().resolve(connector + SUFFIX);
    }

    /** The partitions recorded so far; none when the file does not exist. */
    static TreeSet<StorePartition> read(LogStoreSourceConfig config, String connector) {
        Path file = file(config, connector);
        TreeSet<StorePartition> units = new TreeSet<>();
        try {
            int number = 0;
            for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
                number++;
                String unit = line.strip();
                if (unit.isEmpty() || unit.startsWith("#")) {
                    continue;
                }
                try {
                    units.add(StorePartition.decode(unit));
                } catch (RuntimeException e) {
                    throw new ConnectException(file + " is damaged: line " + number + " is '" + unit + "', not "
                            + "'store:partition'. Correct or remove that line; keep the file", e);
                }
            }
        } catch (NoSuchFileException e) {
            return units;
        } catch (IOException e) {
            throw new ConnectException("Cannot read " + file + ": " + e.getMessage() + ". Set "
                    + LogStoreSourceConfig.REPLAY_PLAN_DIR + " to a directory the workers can read and write", e);
        }
        return units;
    }

    /** Adds {@code units} to the record, durably; call it within {@link #locked}. */
    static void add(LogStoreSourceConfig config, String connector, Collection<StorePartition> units) {
        if (units.isEmpty()) {
            return;
        }
        TreeSet<StorePartition> recorded = read(config, connector);
        if (!recorded.addAll(units)) {
            return;
        }
        Path file = file(config, connector);
        StringBuilder text = new StringBuilder(HEADER).append('\n');
        recorded.forEach(unit -> text.append(unit.encode()).append('\n'));
        try {
            DurableFiles.write(file, text.toString());
        } catch (IOException e) {
            throw new ConnectException("Cannot write " + file + ": " + e.getMessage() + "; the offsets were not "
                    + "changed. Set " + LogStoreSourceConfig.REPLAY_PLAN_DIR + " to a directory the workers can write",
                    e);
        }
    }

    /**
     * Runs {@code change} to the files of {@code connector} alone: one change at a time in this
     * JVM, and under a lock on {@code <connector>.lock} beside them for other workers.
     */
    static <T> T locked(LogStoreSourceConfig config, String connector, Callable<T> change) {
        Path dir = config.replayPlanDirectory();
        synchronized (LOCK) {
            try {
                Files.createDirectories(dir);
                try (FileChannel channel = FileChannel.open(dir.resolve(connector + ".lock"), StandardOpenOption.CREATE,
                        StandardOpenOption.WRITE);
                     FileLock ignored = channel.lock()) {
                    return change.call();
                }
            } catch (ConnectException e) {
                throw e;
            } catch (Exception e) {
                throw new ConnectException("Cannot change the replay files of " + connector + " in " + dir + ": "
                        + e.getMessage() + ". Set " + LogStoreSourceConfig.REPLAY_PLAN_DIR + " to a directory the "
                        + "workers can write", e);
            }
        }
    }

    /**
     * A connector whose {@code replay.plan.dir} was changed finds its plan and its record of
     * altered offsets where they were, in the default directory, and carries them over, so that a
     * snapshot keeps its end and an offset moved through Connect stays moved.
     */
    static void carryOver(LogStoreSourceConfig config, String connector) {
        Path to = config.replayPlanDirectory();
        Path from = config.archiveRoot().resolve(LogStoreSourceConfig.DEFAULT_REPLAY_PLAN_DIR);
        if (from.toAbsolutePath().normalize().equals(to.toAbsolutePath().normalize())) {
            return;
        }
        for (String suffix : new String[] {".properties", SUFFIX}) {
            Path source = from.resolve(connector + suffix);
            Path target = to.resolve(connector + suffix);
            if (Files.exists(source) && !Files.exists(target)) {
                try {
                    Files.createDirectories(to);
                    Files.copy(source, target, StandardCopyOption.COPY_ATTRIBUTES);
                    Directories.fsync(to);
                    log.info("Carried {} over to {}, the configured {}", source, target,
                            LogStoreSourceConfig.REPLAY_PLAN_DIR);
                } catch (IOException e) {
                    throw new ConnectException("Cannot copy " + source + " to " + target + ": " + e.getMessage()
                            + ". Copy it by hand before starting the connector", e);
                }
            }
        }
    }
}
