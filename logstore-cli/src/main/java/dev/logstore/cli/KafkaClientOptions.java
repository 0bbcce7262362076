package dev.logstore.cli;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Properties;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** The Kafka cluster a command talks to: its bootstrap servers and, as for Kafka's own tools, a client settings file. */
final class KafkaClientOptions {

    @Spec(Spec.Target.MIXEE)
    CommandSpec spec;

    @Option(names = "--bootstrap-server", required = true, paramLabel = "HOST:PORT", description = "The Kafka cluster.")
    String bootstrap;

    @Option(names = "--command-config", paramLabel = "FILE",
            description = "Client settings for that cluster (security and the like), as for Kafka's own tools.")
    Path commandConfig;

    /** A usage error for a cluster that did not answer. */
    ParameterException unreachable(RuntimeException e) {
        return new ParameterException(spec.commandLine(), "no answer from the Kafka cluster at " + bootstrap
                + " within 15 s (" + e.getMessage() + "): check --bootstrap-server and, for a secured cluster, "
                + "--command-config");
    }

    /** The client settings: the file's, then the bootstrap servers; a usage error when the file cannot be read. */
    Map<String, Object> clientConfig() {
        Map<String, Object> config = new HashMap<>();
        if (commandConfig != null) {
            Properties properties = new Properties();
            try (InputStream in = Files.newInputStream(commandConfig)) {
                properties.load(in);
            } catch (IOException e) {
                throw new ParameterException(spec.commandLine(), "cannot read --command-config " + commandConfig + ": "
                        + e.getMessage());
            }
            properties.forEach((k, v) -> config.put(String.valueOf(k), v));
        }
        config.put("bootstrap.servers", bootstrap);
        // A cluster that cannot be reached is said so within a minute, not waited for forever.
        config.putIfAbsent("default.api.timeout.ms", "15000");
        config.putIfAbsent("request.timeout.ms", "15000");
        return config;
    }
}
