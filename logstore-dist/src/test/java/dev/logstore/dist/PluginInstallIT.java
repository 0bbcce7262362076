package dev.logstore.dist;

import static dev.logstore.connect.it.ConnectCluster.await;
import static dev.logstore.connect.it.ConnectCluster.readArchive;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.logstore.connect.it.ConnectCluster;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Installs the packaged plugin the way a user does: unzips the component zip into a worker's
 * {@code plugin.path} and starts the worker with {@code plugin.discovery=service_load}. The
 * connector classes are not on this test's classpath, so the worker can only find them through
 * the package's jars and ServiceLoader manifests. Then archives a topic and replays it.
 */
class PluginInstallIT {

    private static final String SINK = "dev.logstore.connect.sink.LogStoreSinkConnector";
    private static final String SOURCE = "dev.logstore.connect.source.LogStoreSourceConnector";

    @TempDir
    static Path work;

    private static ConnectCluster cluster;
    private static Path archive;

    @BeforeAll
    static void installAndStart() throws IOException {
        Path zip = Path.of(System.getProperty("logstore.plugin.zip"));
        assertTrue(Files.isRegularFile(zip), "package " + zip + " must be built before this test");
        Path pluginPath = Files.createDirectories(work.resolve("plugins"));
        unzip(zip, pluginPath);
        Path installed = pluginPath.resolve(System.getProperty("logstore.plugin.dir.name"));
        assertTrue(Files.isRegularFile(installed.resolve("manifest.json")));
        for (String doc : new String[] {"README.md", "FORMAT.md", "BENCHMARKS.md", "LICENSE"}) {
            assertTrue(Files.isRegularFile(installed.resolve("doc").resolve(doc)), "doc/" + doc + " is packaged");
        }
        assertTrue(!Files.readString(installed.resolve("manifest.json")).contains("docker_image"),
                "no empty docker_image in the manifest");
        assertTrue(Files.isDirectory(installed.resolve("lib")));
        archive = Files.createDirectories(work.resolve("archive"));
        cluster = new ConnectCluster("install-it", 1, Map.of(
                "plugin.path", pluginPath.toString(),
                "plugin.discovery", "service_load",
                "exactly.once.source.support", "enabled"));
    }

    @AfterAll
    static void stop() {
        if (cluster != null) {
            cluster.close();
        }
    }

    private static void unzip(Path zip, Path target) throws IOException {
        try (InputStream in = Files.newInputStream(zip); ZipInputStream entries = new ZipInputStream(in)) {
            ZipEntry entry;
            while ((entry = entries.getNextEntry()) != null) {
                Path out = target.resolve(entry.getName()).normalize();
                assertTrue(out.startsWith(target), "zip entry " + entry.getName() + " leaves the target");
                if (entry.isDirectory()) {
                    Files.createDirectories(out);
                } else {
                    Files.createDirectories(out.getParent());
                    Files.copy(entries, out);
                }
            }
        }
    }

    @Test
    void theConnectorsComeOnlyFromThePackage() throws Exception {
        assertThrows(ClassNotFoundException.class, () -> Class.forName(SINK));
        HttpResponse<String> response = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                URI.create(cluster.connect.endpointForResource("connector-plugins"))).build(),
                HttpResponse.BodyHandlers.ofString());
        String plugins = response.body();
        assertTrue(plugins.contains(SINK) && plugins.contains(SOURCE), plugins);
        assertTrue(plugins.contains("\"version\":\"" + System.getProperty("logstore.plugin.dir.name")
                .replace("logstore-connect-", "") + "\""), "version from the build: " + plugins);
    }

    @Test
    void theInstalledPluginArchivesAndReplaysATopic() throws Exception {
        String topic = "installed";
        cluster.connect.kafka().createTopic(topic, 3);
        cluster.produceVaried(topic, 3, 0, 300);

        Map<String, String> sink = ConnectCluster.byteConverters();
        sink.put("connector.class", SINK);
        sink.put("topics", topic);
        sink.put("logstore.dir", archive.toString());
        sink.put("consumer.override.isolation.level", "read_committed");
        cluster.connect.configureConnector("archive", sink);
        cluster.awaitArchived(archive, topic, 3, Duration.ofSeconds(90));
        cluster.connect.deleteConnector("archive");

        Map<String, String> source = ConnectCluster.byteConverters();
        source.put("connector.class", SOURCE);
        source.put("logstore.dir", archive.toString());
        source.put("topic.format", "${topic}.replay");
        source.put("replay.end", "snapshot");
        source.put("exactly.once.support", "required");
        source.put("target.bootstrap.servers", cluster.connect.kafka().bootstrapServers());
        cluster.connect.configureConnector("replay", source);
        await(Duration.ofSeconds(90), "replay of " + topic, () ->
                cluster.recordCount(topic + ".replay", 3) == 300);

        List<List<ConsumerRecord<byte[], byte[]>>> original = cluster.readTopic(topic, 3);
        List<List<ConsumerRecord<byte[], byte[]>>> replayed = cluster.readTopic(topic + ".replay", 3);
        for (int p = 0; p < 3; p++) {
            ConnectCluster.assertArchiveEqualsTopic(original.get(p), readArchive(archive.resolve(topic), p),
                    topic + "-" + p);
            ConnectCluster.assertTopicEqualsArchive(replayed.get(p), readArchive(archive.resolve(topic), p),
                    topic + ".replay-" + p);
        }
        assertEquals(300, original.stream().mapToInt(List::size).sum());
        cluster.connect.deleteConnector("replay");
    }
}
