package dev.logstore.demo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.testcontainers.junit.jupiter.Container;
import org.testcontainers.junit.jupiter.Testcontainers;
import org.testcontainers.kafka.KafkaContainer;
import picocli.CommandLine;

/**
 * The archive-and-replay round trip against a real broker in a container (apache/kafka image),
 * with the Connect worker in this JVM pointed at it as {@code bin/logstore demo --bootstrap-server}
 * does. Needs a Docker engine: where there is none, JUnit reports this class as skipped with
 * "disabledWithoutDocker is true and Docker is not available".
 */
@Testcontainers(disabledWithoutDocker = true)
class KafkaContainerIT {

    @Container
    static final KafkaContainer KAFKA = new KafkaContainer("apache/kafka:4.1.0")
            .withEnv("KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR", "1")
            .withEnv("KAFKA_TRANSACTION_STATE_LOG_MIN_ISR", "1")
            .withEnv("KAFKA_LOG_RETENTION_MS", "-1");

    @TempDir
    Path work;

    @Test
    void archiveAndReplayAgainstABrokerInAContainer() {
        PrintStream stdout = System.out;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        int code;
        try {
            System.setOut(new PrintStream(captured, true, StandardCharsets.UTF_8));
            code = new CommandLine(new Demo()).execute("--plugin-path", System.getProperty("logstore.plugin.path"),
                    "--archive", work.resolve("archive").toString(), "--bootstrap-server", KAFKA.getBootstrapServers(),
                    "--records", "300");
        } finally {
            System.setOut(stdout);
        }
        String output = captured.toString(StandardCharsets.UTF_8);
        assertEquals(0, code, output);
        assertTrue(output.contains("identical: 300 records in 3 partitions"), output);
    }
}
