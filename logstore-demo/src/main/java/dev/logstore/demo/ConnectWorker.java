package dev.logstore.demo;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.stream.Collectors;
import org.apache.kafka.connect.cli.ConnectDistributed;
import org.apache.kafka.connect.runtime.Connect;
import org.apache.kafka.connect.runtime.distributed.DistributedHerder;

/**
 * A Kafka Connect distributed worker in this JVM, set up as config/connect-distributed.properties
 * describes, with the LogStore plugin taken from {@code plugin.path}; driven over its REST API like
 * any worker.
 */
final class ConnectWorker implements AutoCloseable {

    private static final String BYTES = "org.apache.kafka.connect.converters.ByteArrayConverter";

    private final Connect<DistributedHerder> connect;
    private final URI rest;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();

    private ConnectWorker(Connect<DistributedHerder> connect) {
        this.connect = connect;
        this.rest = connect.rest().serverUrl();
    }

    static ConnectWorker start(String bootstrapServers, Path pluginPath, String runId) throws Exception {
        Map<String, String> props = new HashMap<>();
        props.put("bootstrap.servers", bootstrapServers);
        props.put("group.id", "logstore-demo-" + runId);
        props.put("config.storage.topic", "logstore-demo-" + runId + "-configs");
        props.put("offset.storage.topic", "logstore-demo-" + runId + "-offsets");
        props.put("status.storage.topic", "logstore-demo-" + runId + "-status");
        props.put("config.storage.replication.factor", "1");
        props.put("offset.storage.replication.factor", "1");
        props.put("status.storage.replication.factor", "1");
        props.put("key.converter", BYTES);
        props.put("value.converter", BYTES);
        props.put("header.converter", BYTES);
        props.put("exactly.once.source.support", "enabled");
        props.put("offset.flush.interval.ms", "1000");
        props.put("plugin.path", pluginPath.toString());
        props.put("plugin.discovery", "service_load");
        props.put("listeners", "http://127.0.0.1:0");
        ConnectWorker worker = new ConnectWorker(new ConnectDistributed().startConnect(props));
        worker.awaitHealthy(Duration.ofMinutes(2));
        return worker;
    }

    private void awaitHealthy(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            try {
                if (get("health").statusCode() == 200) {
                    return;
                }
            } catch (IOException notYet) {
                // the REST server is still starting
            }
            Thread.sleep(200);
        }
        throw new IllegalStateException("the Connect worker at " + rest + " did not become healthy in " + timeout);
    }

    /** The plugins the worker loaded, as its REST API lists them. */
    String plugins() throws IOException, InterruptedException {
        return get("connector-plugins").body();
    }

    void createConnector(String name, Map<String, String> config) throws IOException, InterruptedException {
        String body = config.entrySet().stream()
                .map(e -> quote(e.getKey()) + ":" + quote(e.getValue()))
                .collect(Collectors.joining(",", "{", "}"));
        HttpResponse<String> response = http.send(HttpRequest.newBuilder(rest.resolve("connectors/" + name + "/config"))
                .header("Content-Type", "application/json").PUT(HttpRequest.BodyPublishers.ofString(body)).build(),
                HttpResponse.BodyHandlers.ofString());
        if (response.statusCode() >= 300) {
            throw new IllegalStateException("creating connector " + name + " failed: " + response.body());
        }
    }

    /** The connector's status JSON. */
    String status(String name) throws IOException, InterruptedException {
        return get("connectors/" + name + "/status").body();
    }

    void deleteConnector(String name) throws IOException, InterruptedException {
        http.send(HttpRequest.newBuilder(rest.resolve("connectors/" + name)).DELETE().build(),
                HttpResponse.BodyHandlers.discarding());
    }

    private HttpResponse<String> get(String path) throws IOException, InterruptedException {
        return http.send(HttpRequest.newBuilder(rest.resolve(path)).GET().build(), HttpResponse.BodyHandlers.ofString());
    }

    private static String quote(String text) {
        return "\"" + text.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
    }

    URI restUrl() {
        return rest;
    }

    @Override
    public void close() {
        connect.stop();
        connect.awaitStop();
    }
}
