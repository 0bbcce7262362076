package dev.logstore.connect.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.logstore.connect.sink.LogStoreSinkConnector;
import dev.logstore.connect.source.LogStoreSourceConnector;
import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.stream.Collectors;
import org.apache.kafka.common.config.ConfigValue;
import org.apache.kafka.connect.connector.Connector;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.io.TempDir;

/** The example connector configurations in config/ validate cleanly (with a real archive directory). */
class ExampleConfigsTest {

    private static final Path CONFIG = Path.of("..", "config");

    @TempDir
    Path archive;

    @ParameterizedTest
    @ValueSource(strings = {"logstore-sink.properties", "logstore-sink.json", "logstore-source.properties",
            "logstore-source.json"})
    void exampleValidates(String file) throws IOException {
        Map<String, String> config = load(CONFIG.resolve(file));
        assertTrue(config.get("logstore.dir").startsWith("/"), "examples use absolute paths");
        config.put("logstore.dir", archive.toString());
        Connector connector = file.contains("sink") ? new LogStoreSinkConnector() : new LogStoreSourceConnector();
        assertEquals(connector.getClass().getName(), config.get("connector.class"));
        List<String> errors = connector.validate(config).configValues().stream()
                .filter(value -> !value.errorMessages().isEmpty())
                .map(ConfigValue::toString).collect(Collectors.toList());
        assertEquals(List.of(), errors, file);
        assertEquals("org.apache.kafka.connect.converters.ByteArrayConverter", config.get("header.converter"),
                file + " must keep header bytes");
    }

    private static Map<String, String> load(Path file) throws IOException {
        if (file.toString().endsWith(".json")) {
            Map<String, Object> request = new ObjectMapper().readValue(file.toFile(), new TypeReference<>() { });
            @SuppressWarnings("unchecked")
            Map<String, String> config = new HashMap<>((Map<String, String>) request.get("config"));
            config.put("name", (String) request.get("name"));
            return config;
        }
        Properties properties = new Properties();
        try (Reader reader = Files.newBufferedReader(file)) {
            properties.load(reader);
        }
        Map<String, String> config = new HashMap<>();
        properties.stringPropertyNames().forEach(key -> config.put(key, properties.getProperty(key)));
        return config;
    }
}
