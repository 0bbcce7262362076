package dev.logstore.connect.source;

import dev.logstore.LogStore;
import dev.logstore.LogStoreException;
import dev.logstore.connect.config.ArchivePaths;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;
import org.apache.kafka.connect.errors.ConnectException;

/** The stores under an archive root that a source configuration selects, with their partition counts. */
final class StoreCatalog {

    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(StoreCatalog.class);

    private StoreCatalog() {
    }

    /** Selected store name to partition count, sorted by name. */
    static Map<String, Integer> scan(LogStoreSourceConfig config) {
        Path root = config.archiveRoot();
        Map<String, Integer> stores = new TreeMap<>();
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(root)) {
            for (Path entry : entries) {
                String name = entry.getFileName().toString();
                if (ArchivePaths.problemWithStoreName(name) != null || !config.selects(name)
                        || !LogStore.isStore(entry)) {
                    continue;
                }
                Path dir;
                try {
                    dir = ArchivePaths.storeDirectory(root, name);
                } catch (ConnectException outside) {
                    log.warn("Skipping {}: {}", entry, outside.getMessage());
                    continue;
                }
                try (LogStore store = LogStore.builder(dir).readOnly().open()) {
                    stores.put(name, store.partitionCount());
                }
            }
        } catch (IOException | LogStoreException e) {
            throw new ConnectException("Cannot list the stores in " + root + ": " + e.getMessage(), e);
        }
        return stores;
    }
}
