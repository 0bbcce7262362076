package dev.logstore.cli;

import dev.logstore.LogStore;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine;

/** Finding stores: a path is either one store or an archive root holding several. */
final class Stores {

    private Stores() {
    }

    /** The stores at {@code path}, sorted; a clear usage error when there are none. */
    static List<Path> find(CommandLine.Model.CommandSpec spec, Path path) throws IOException {
        if (!Files.exists(path)) {
            throw new CommandLine.ParameterException(spec.commandLine(), path + " does not exist");
        }
        if (!Files.isDirectory(path)) {
            throw new CommandLine.ParameterException(spec.commandLine(), path + " is not a directory");
        }
        if (LogStore.isStore(path)) {
            return List.of(path);
        }
        List<Path> stores = new ArrayList<>();
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(path)) {
            for (Path entry : entries) {
                if (Files.isDirectory(entry) && LogStore.isStore(entry)) {
                    stores.add(entry);
                }
            }
        }
        if (stores.isEmpty()) {
            throw new CommandLine.ParameterException(spec.commandLine(), path + " is neither a LogStore store (no "
                    + "logstore.properties) nor an archive directory holding stores");
        }
        stores.sort(null);
        return stores;
    }

    /** Opens one store read-only, with a usage error when the path is not one; {@code keys} decrypt (null: none). */
    static LogStore openReadOnly(CommandLine.Model.CommandSpec spec, Path store, dev.logstore.KeyProvider keys) {
        if (!Files.exists(store)) {
            throw new CommandLine.ParameterException(spec.commandLine(), store + " does not exist");
        }
        if (!LogStore.isStore(store)) {
            throw new CommandLine.ParameterException(spec.commandLine(), store + " is not a LogStore store (no "
                    + "logstore.properties); give the store directory, e.g. <archive>/<topic>");
        }
        LogStore.Builder builder = LogStore.builder(store).readOnly();
        return (keys == null ? builder : builder.keys(keys)).open();
    }

    /** Stores below {@code dir} (not {@code dir} itself, up to four levels down), relative to it, sorted. */
    static List<String> storesInside(Path dir) throws IOException {
        List<String> names = new ArrayList<>();
        if (Files.isDirectory(dir)) {
            try (java.util.stream.Stream<Path> entries = Files.walk(dir, 4)) {
                entries.filter(entry -> !entry.equals(dir) && Files.isDirectory(entry) && LogStore.isStore(entry))
                        .forEach(entry -> names.add(dir.relativize(entry).toString()));
            }
        }
        names.sort(null);
        return names;
    }

    /**
     * Like {@link dev.logstore.LogReader#poll(int, int)}, but when the records asked for run into a
     * damaged batch, the intact ones before it still come out (one batch at a time); the damage
     * is thrown once it is the very next batch.
     */
    static List<dev.logstore.record.LogRecord> pollUpToDamage(dev.logstore.LogReader reader, int maxRecords,
                                                               int maxBytes) {
        try {
            return reader.poll(maxRecords, maxBytes);
        } catch (dev.logstore.CorruptLogException e) {
            return upToDamage(reader, maxRecords, e);
        }
    }

    /** {@link #pollUpToDamage} that waits up to {@code timeout} for records, as a follower's poll does. */
    static List<dev.logstore.record.LogRecord> pollUpToDamage(dev.logstore.LogReader reader, int maxRecords,
                                                               int maxBytes, java.time.Duration timeout)
            throws InterruptedException {
        try {
            return reader.poll(maxRecords, maxBytes, timeout);
        } catch (dev.logstore.CorruptLogException e) {
            return upToDamage(reader, maxRecords, e);
        }
    }

    /** The records before the damage {@code damage} reported, one at a time; the damage itself when there are none. */
    private static List<dev.logstore.record.LogRecord> upToDamage(dev.logstore.LogReader reader, int maxRecords,
                                                                 dev.logstore.CorruptLogException damage) {
        List<dev.logstore.record.LogRecord> intact = new ArrayList<>();
        while (intact.size() < maxRecords) {
            List<dev.logstore.record.LogRecord> one;
            try {
                one = reader.poll(1, 1);
            } catch (dev.logstore.CorruptLogException e) {
                break; // reached the damaged batch: the next call reports it
            }
            if (one.isEmpty()) {
                break;
            }
            intact.addAll(one);
        }
        if (intact.isEmpty()) {
            throw damage;
        }
        return intact;
    }

    /** {@link #pollUpToDamage} for a reader that hands records to {@code handler} in place. */
    static int pollUpToDamage(dev.logstore.LogReader reader, dev.logstore.record.RecordHandler handler,
                              int maxRecords, int maxBytes) {
        try {
            return reader.poll(handler, maxRecords, maxBytes);
        } catch (dev.logstore.CorruptLogException e) {
            return reader.poll(handler, 1, 1);
        }
    }

    static void checkPartition(CommandLine.Model.CommandSpec spec, LogStore store, int partition) {
        if (partition < 0 || partition >= store.partitionCount()) {
            throw new CommandLine.ParameterException(spec.commandLine(), store.directory() + " has partitions 0 to "
                    + (store.partitionCount() - 1) + "; there is no partition " + partition);
        }
    }
}
