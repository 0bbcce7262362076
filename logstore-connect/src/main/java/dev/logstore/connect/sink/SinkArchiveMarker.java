package dev.logstore.connect.sink;

import dev.logstore.connect.config.DurableFiles;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Marks a store as a sink's archive: {@code sink-archive.properties} beside its partitions, naming
 * the connector and the topic. A store the sink writes holds the topic's own offsets, so a record
 * appended by anything else takes the offset of a topic record that the sink then never archives;
 * the {@code logstore} CLI refuses to append to a marked store.
 */
final class SinkArchiveMarker {

    static final String FILE = "sink-archive.properties";
    private static final Logger log = LoggerFactory.getLogger(SinkArchiveMarker.class);

    private SinkArchiveMarker() {
    }

    /** Writes the marker unless it is there; a failure is logged, not fatal (the archive itself is fine). */
    static void mark(Path storeDir, String connector, String topic, String mapping) {
        Path file = storeDir.resolve(FILE);
        if (Files.exists(file)) {
            return;
        }
        String text = "# This store is the archive of a Kafka topic, written by the LogStore sink connector. Its\n"
                + "# offsets are the topic's: do not append to it by other means.\n"
                + "connector=" + connector + "\ntopic=" + topic + "\nmapping=" + mapping + "\n";
        try {
            DurableFiles.write(file, text);
        } catch (IOException e) {
            log.warn("Cannot write {} ({}): the logstore CLI will not know this store is a sink's archive", file,
                    e.getMessage());
        }
    }
}
