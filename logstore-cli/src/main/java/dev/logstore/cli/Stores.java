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

    /** Opens one store read-only, with a usage error when the path is not one. */
    static LogStore openReadOnly(CommandLine.Model.CommandSpec spec, Path store) {
        if (!Files.exists(store)) {
            throw new CommandLine.ParameterException(spec.commandLine(), store + " does not exist");
        }
        if (!LogStore.isStore(store)) {
            throw new CommandLine.ParameterException(spec.commandLine(), store + " is not a LogStore store (no "
                    + "logstore.properties); give the store directory, e.g. <archive>/<topic>");
        }
        return LogStore.builder(store).readOnly().open();
    }

    static void checkPartition(CommandLine.Model.CommandSpec spec, LogStore store, int partition) {
        if (partition < 0 || partition >= store.partitionCount()) {
            throw new CommandLine.ParameterException(spec.commandLine(), store.directory() + " has partitions 0 to "
                    + (store.partitionCount() - 1) + "; there is no partition " + partition);
        }
    }
}
