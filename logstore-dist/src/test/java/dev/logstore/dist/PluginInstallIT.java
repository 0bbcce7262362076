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
 * the package's jars and ServiceLoader manifests. Then archives a topic and replays it. The
 * worker's own producers compress with zstd and lz4 (Kafka's copies of the codecs, on the worker's
 * class path) while the plugin compresses and encrypts the archive with its own copies.
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
        Path installed = pluginPath.resolve(System.getProperty("logstore.plugin.zip.dir"));
        assertTrue(Files.isRegularFile(installed.resolve("manifest.json")));
        // Named as Confluent Hub names components: <owner>-<name>-<version>.zip, holding a directory of that name.
        String manifest = Files.readString(installed.resolve("manifest.json"));
        String hubName = field(manifest, "username") + "-" + field(manifest, "name") + "-" + field(manifest, "version");
        assertEquals(hubName + ".zip", zip.getFileName().toString());
        assertEquals(hubName, installed.getFileName().toString());
        assertTrue(!manifest.contains("documentation_url\": \"doc/"), "documentation_url, when given, is a URL");
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
                "exactly.once.source.support", "enabled",
                "producer.compression.type", "zstd"));
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
        assertTrue(plugins.contains("\"version\":\"" + System.getProperty("logstore.plugin.version") + "\""),
                "version from the build: " + plugins);
    }

    /**
     * The unpacked package is the plugin itself, one level below {@code target/plugins} (a
     * directory of plugins, ready to be a worker's {@code plugin.path}), not nested a level deeper.
     */
    @Test
    void theUnpackedPackageIsOnePluginDirectoryInADirectoryOfPlugins() throws IOException {
        Path unpacked = Path.of(System.getProperty("logstore.plugin.dir"));
        assertEquals("plugins", unpacked.getParent().getFileName().toString());
        assertTrue(Files.isRegularFile(unpacked.resolve("manifest.json")), "manifest.json at the top of " + unpacked);
        assertTrue(Files.isDirectory(unpacked.resolve("lib")) && Files.isDirectory(unpacked.resolve("doc"))
                && Files.isDirectory(unpacked.resolve("etc")));
        try (var entries = Files.list(unpacked)) {
            assertEquals(java.util.Set.of("manifest.json", "lib", "doc", "etc"),
                    entries.map(e -> e.getFileName().toString()).collect(java.util.stream.Collectors.toSet()));
        }
        try (var plugins = Files.list(unpacked.getParent())) {
            assertEquals(1, plugins.count(), "target/plugins holds this plugin only");
        }
    }

    /** The string value of {@code "key": "..."} in a JSON text (the manifest's fields are unique). */
    private static String field(String json, String key) {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("\"" + key + "\"\\s*:\\s*\"([^\"]*)\"").matcher(json);
        assertTrue(m.find(), key + " in " + json);
        return m.group(1);
    }

    @Test
    void theInstalledPluginArchivesAndReplaysATopic() throws Exception {
        String topic = "installed";
        cluster.connect.kafka().createTopic(topic, 3, 1, Map.of("compression.type", "lz4"));
        cluster.produceVaried(topic, 3, 0, 300);
        Path keyFile = work.resolve("archive.keys");
        Files.writeString(keyFile, "k1=" + dev.logstore.Keys.newKeyBase64() + "\n");
        dev.logstore.KeyProvider keys = dev.logstore.Keys.fromFile(keyFile);

        Map<String, String> sink = ConnectCluster.byteConverters();
        sink.put("connector.class", SINK);
        sink.put("topics", topic);
        sink.put("logstore.dir", archive.toString());
        sink.put("consumer.override.isolation.level", "read_committed");
        sink.put("logstore.encryption.key.file", keyFile.toString());
        sink.put("logstore.encryption.key.id", "k1");
        cluster.connect.configureConnector("archive", sink);
        ConnectCluster.await(Duration.ofSeconds(90), "archive of " + topic, () -> {
            try {
                int archived = 0;
                for (int p = 0; p < 3; p++) {
                    archived += readArchive(archive.resolve(topic), p, keys).size();
                }
                return archived == 300;
            } catch (RuntimeException e) {
                return false; // not created yet
            }
        });
        cluster.connect.deleteConnector("archive");
        // Compressed (the sink's default) and encrypted: no value is in any file in the clear, and
        // without the key the archive says which key it needs.
        try (java.util.stream.Stream<Path> files = Files.walk(archive.resolve(topic))) {
            for (Path file : files.filter(Files::isRegularFile).toList()) {
                assertTrue(!new String(Files.readAllBytes(file), java.nio.charset.StandardCharsets.ISO_8859_1)
                        .contains("value-"), file + " holds a record value in the clear");
            }
        }
        dev.logstore.EncryptionKeyException refused = assertThrows(dev.logstore.EncryptionKeyException.class,
                () -> readArchive(archive.resolve(topic), 0));
        assertEquals("k1", refused.keyId());

        Map<String, String> source = ConnectCluster.byteConverters();
        source.put("connector.class", SOURCE);
        source.put("logstore.dir", archive.toString());
        source.put("topic.format", "${topic}.replay");
        source.put("replay.end", "snapshot");
        source.put("exactly.once.support", "required");
        source.put("target.bootstrap.servers", cluster.connect.kafka().bootstrapServers());
        source.put("logstore.encryption.key.file", keyFile.toString());
        cluster.connect.configureConnector("replay", source);
        await(Duration.ofSeconds(90), "replay of " + topic, () ->
                cluster.recordCount(topic + ".replay", 3) == 300);

        List<List<ConsumerRecord<byte[], byte[]>>> original = cluster.readTopic(topic, 3);
        List<List<ConsumerRecord<byte[], byte[]>>> replayed = cluster.readTopic(topic + ".replay", 3);
        for (int p = 0; p < 3; p++) {
            ConnectCluster.assertArchiveEqualsTopic(original.get(p), readArchive(archive.resolve(topic), p, keys),
                    topic + "-" + p);
            ConnectCluster.assertTopicEqualsArchive(replayed.get(p), readArchive(archive.resolve(topic), p, keys),
                    topic + ".replay-" + p);
        }
        assertEquals(300, original.stream().mapToInt(List::size).sum());
        cluster.connect.deleteConnector("replay");
    }
}
