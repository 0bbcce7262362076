package dev.logstore.cli;

import dev.logstore.LogStore;
import java.nio.file.Path;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** The STORE argument and the -p option of the commands that read one partition. */
final class OnePartition {

    @Spec(Spec.Target.MIXEE)
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "STORE", description = "The store directory.")
    Path storeDir;

    @Mixin
    KeyOptions keys = new KeyOptions();

    @Option(names = {"-p", "--partition"}, converter = Converters.NonNegativeInt.class, description = "Partition (default: ${DEFAULT-VALUE}).")
    int partition;

    /** Opens the store read-only and checks the partition exists; the caller closes it. */
    LogStore open() {
        LogStore store = Stores.openReadOnly(spec, storeDir, keys.provider());
        try {
            Stores.checkPartition(spec, store, partition);
            return store;
        } catch (RuntimeException e) {
            store.close();
            throw e;
        }
    }

    String storeName() {
        return storeDir.getFileName().toString();
    }
}
