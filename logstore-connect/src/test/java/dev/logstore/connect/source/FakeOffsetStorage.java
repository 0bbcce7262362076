package dev.logstore.connect.source;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Collection;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.connect.json.JsonConverter;
import org.apache.kafka.connect.source.SourceRecord;
import org.apache.kafka.connect.source.SourceTaskContext;
import org.apache.kafka.connect.storage.OffsetStorageReader;

/**
 * Committed source offsets kept the way Connect keeps them: under the bytes its internal JSON
 * converter makes of {@code [connector name, source partition]}, so a lookup finds an offset only
 * when its map serializes to the very same bytes.
 */
final class FakeOffsetStorage implements OffsetStorageReader {

    private final String connector;
    private final JsonConverter converter = new JsonConverter();
    private final Map<String, Map<String, Object>> byKeyBytes = new HashMap<>();

    FakeOffsetStorage(String connector) {
        this.connector = connector;
        converter.configure(Map.of("schemas.enable", "false"), true);
    }

    /** A task's context whose offset reader is this storage. */
    SourceTaskContext context() {
        FakeOffsetStorage storage = this;
        return new SourceTaskContext() {
            @Override
            public Map<String, String> configs() {
                return Map.of();
            }

            @Override
            public OffsetStorageReader offsetStorageReader() {
                return storage;
            }

            @Override
            public org.apache.kafka.common.metrics.PluginMetrics pluginMetrics() {
                return null;
            }
        };
    }

    /** Starts a source task with {@code props} on these offsets, polls it until it ends, and stops it. */
    List<SourceRecord> replayAll(Map<String, String> props) throws Exception {
        LogStoreSourceTask task = new LogStoreSourceTask();
        task.initialize(context());
        task.start(props);
        try {
            List<SourceRecord> replayed = new ArrayList<>();
            List<SourceRecord> batch;
            while ((batch = task.poll()) != null) {
                replayed.addAll(batch);
            }
            return replayed;
        } finally {
            task.stop();
        }
    }

    /** The key bytes Connect would write for {@code partition}. */
    String keyBytes(Map<?, ?> partition) {
        return new String(converter.fromConnectData(connector, null, Arrays.asList(connector, partition)),
                StandardCharsets.UTF_8);
    }

    void commit(Map<String, ?> partition, Map<String, Object> offset) {
        byKeyBytes.put(keyBytes(partition), offset);
    }

    /**
     * Writes {@code offset} (null: a reset) the way Connect's REST API does: the partition map goes
     * through the JSON converter and back first, which makes it a {@code HashMap}, whatever order
     * the request gave its keys in.
     */
    void writeAsConnectDoes(Map<String, ?> partition, Map<String, Object> offset) {
        Object normalized = converter.toConnectData(connector,
                converter.fromConnectData(connector, null, partition)).value();
        String key = keyBytes((Map<?, ?>) normalized);
        if (offset == null) {
            byKeyBytes.remove(key);
        } else {
            byKeyBytes.put(key, offset);
        }
    }

    @Override
    public <T> Map<String, Object> offset(Map<String, T> partition) {
        return byKeyBytes.get(keyBytes(partition));
    }

    @Override
    public <T> Map<Map<String, T>, Map<String, Object>> offsets(Collection<Map<String, T>> partitions) {
        Map<Map<String, T>, Map<String, Object>> found = new HashMap<>();
        for (Map<String, T> partition : partitions) {
            found.put(partition, offset(partition));
        }
        return found;
    }
}
