package dev.logstore.connect.source;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Collection;
import java.util.HashMap;
import java.util.Map;
import org.apache.kafka.connect.json.JsonConverter;
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
