package dev.logstore.connect.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.logstore.connect.sink.LogStoreSinkConfig;
import dev.logstore.connect.source.LogStoreSourceConfig;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.apache.kafka.common.config.ConfigDef;
import org.junit.jupiter.api.Test;

/**
 * The configuration reference in README.md is generated from the connectors' ConfigDefs. This
 * test fails when the two drift apart; to regenerate the README sections, run
 * {@code ./mvnw -pl logstore-connect test -Dtest=ReadmeConfigReferenceTest -Dlogstore.readme.update=true}.
 */
class ReadmeConfigReferenceTest {

    private static final Path README = Path.of("..", "README.md");

    @Test
    void sinkReferenceMatchesItsConfigDef() throws IOException {
        check("sink-config", LogStoreSinkConfig.CONFIG_DEF);
    }

    @Test
    void sourceReferenceMatchesItsConfigDef() throws IOException {
        check("source-config", LogStoreSourceConfig.CONFIG_DEF);
    }

    @Test
    void everyKeyIsDocumented() {
        for (ConfigDef definition : new ConfigDef[] {LogStoreSinkConfig.CONFIG_DEF, LogStoreSourceConfig.CONFIG_DEF}) {
            definition.configKeys().values().forEach(key -> assertTrue(key.documentation != null
                    && key.documentation.length() > 20, key.name + " needs documentation"));
        }
    }

    private static void check(String section, ConfigDef definition) throws IOException {
        String start = "<!-- " + section + ":start -->\n";
        String end = "<!-- " + section + ":end -->";
        String readme = Files.readString(README, StandardCharsets.UTF_8);
        int from = readme.indexOf(start);
        int to = readme.indexOf(end);
        assertTrue(from >= 0 && to > from, "README.md lacks the markers of section " + section);
        String generated = ConfigReference.markdown(definition);
        String current = readme.substring(from + start.length(), to);
        if (Boolean.getBoolean("logstore.readme.update") && !generated.equals(current)) {
            Files.writeString(README, readme.substring(0, from + start.length()) + generated + readme.substring(to),
                    StandardCharsets.UTF_8);
            return;
        }
        assertEquals(generated, current, "README section " + section + " is stale; regenerate it with "
                + "./mvnw -pl logstore-connect test -Dtest=ReadmeConfigReferenceTest -Dlogstore.readme.update=true");
    }
}
