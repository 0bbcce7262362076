package dev.logstore.demo;

import dev.logstore.LogStore;
import dev.logstore.PartitionInfo;
import java.io.IOException;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.function.LongSupplier;
import java.util.stream.Stream;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * The quickstart: starts Kafka (or uses yours) and a Connect worker that installs the LogStore
 * plugin from its package, produces sample orders, archives them with the sink, replays the
 * archive with the source into {@code <topic>.replay}, checks both topics are identical, shows the
 * archive and shuts everything down.
 */
@Command(name = "logstore demo", mixinStandardHelpOptions = true,
        description = "Archive a topic into LogStore and replay it, on an embedded Kafka and Connect worker.")
public final class Demo implements Callable<Integer> {

    private static final String SINK = "dev.logstore.connect.sink.LogStoreSinkConnector";
    private static final String SOURCE = "dev.logstore.connect.source.LogStoreSourceConnector";
    private static final String BYTES = "org.apache.kafka.connect.converters.ByteArrayConverter";
    private static final int STEPS = 7;
    /** Where the source connector keeps its replay plans by default: in the archive, beside the stores. */
    private static final String REPLAY_PLANS = ".replay-plans";

    @Option(names = "--plugin-path", required = true, description = "The worker's plugin.path: a directory holding the "
            + "unpacked LogStore plugin (logstore-dist/target/plugins).")
    Path pluginPath;

    @Option(names = "--archive", description = "Archive directory, emptied first (default: ${DEFAULT-VALUE}).")
    Path archive = Path.of("demo-archive").toAbsolutePath();

    @Option(names = "--bootstrap-server", description = "Use this Kafka cluster instead of starting one.")
    String bootstrapServer;

    @Option(names = "--topic", description = "Topic to create, archive and replay (default: ${DEFAULT-VALUE}).")
    String topic = "demo-orders";

    @Option(names = "--partitions", description = "Partitions of the topic (default: ${DEFAULT-VALUE}).")
    int partitions = 3;

    @Option(names = "--records", description = "Sample records to produce (default: ${DEFAULT-VALUE}).")
    int records = 1000;

    @Spec
    CommandSpec spec;

    private final PrintStream out = System.out;
    private int step;

    public static void main(String[] args) {
        // Kafka's jars carry log configurations of their own; the demo's wins, set before any logger exists.
        System.setProperty("log4j2.configurationFile", "classpath:logstore-demo-log4j2.xml");
        System.exit(command().execute(args));
    }

    /**
     * The demo's command line. A failure is reported as what went wrong and why (each cause's
     * message), and where Kafka's and Connect's log is, which also gets the stack trace.
     */
    static CommandLine command() {
        CommandLine command = new CommandLine(new Demo());
        command.setExecutionExceptionHandler((failure, commandLine, parsed) -> {
            LoggerFactory.getLogger(Demo.class).error("The demo failed", failure);
            PrintWriter err = commandLine.getErr();
            err.println("The demo failed: " + (failure.getMessage() != null ? failure.getMessage() : failure));
            for (Throwable cause = failure.getCause(); cause != null; cause = cause.getCause()) {
                err.println("  caused by " + cause);
            }
            if (System.getProperty("logstore.demo.log") != null) {
                err.println("Kafka's and Connect's log: " + System.getProperty("logstore.demo.log"));
            }
            err.flush();
            return 1;
        });
        return command;
    }

    @Override
    public Integer call() throws Exception {
        checkOptions();
        String runId = Long.toString(System.currentTimeMillis(), 36);
        String replayTopic = topic + ".replay";
        if (bootstrapServer != null) {
            topic = topic + "-" + runId;
            replayTopic = topic + ".replay";
        }
        checkArchive();
        long started = System.nanoTime();
        EmbeddedKafka kafka = null;
        try {
            String bootstrap = bootstrapServer;
            if (bootstrap == null) {
                step("Starting Kafka (KRaft, one node, on localhost)");
                kafka = EmbeddedKafka.start();
                bootstrap = kafka.bootstrapServers();
            } else {
                step("Using the Kafka cluster at " + bootstrap);
                checkReachable(bootstrap);
            }
            // Only now, with a cluster to archive from, does the previous run's archive go.
            emptyArchive();
            detail("bootstrap servers " + bootstrap);
            step("Starting a Kafka Connect worker; plugin.path=" + pluginPath + " (plugin.discovery=service_load)");
            try (ConnectWorker worker = ConnectWorker.start(bootstrap, pluginPath, runId)) {
                String plugins = worker.plugins();
                if (!plugins.contains(SINK) || !plugins.contains(SOURCE)) {
                    throw new IllegalStateException("the worker did not load the LogStore connectors from " + pluginPath
                            + "; it has: " + plugins);
                }
                detail("REST API " + worker.restUrl() + ", LogStore sink and source connectors installed");
                Topics topics = new Topics(bootstrap);
                int result = run(worker, topics, replayTopic);
                detail("done in " + Duration.ofNanos(System.nanoTime() - started).toSeconds() + " s; shutting down");
                return result;
            }
        } finally {
            if (kafka != null) {
                kafka.close();
            }
        }
    }

    private int run(ConnectWorker worker, Topics topics, String replayTopic) throws Exception {
        step("Creating topic " + topic + " (" + partitions + " partitions) and producing " + records
                + " orders with keys, headers and tombstones");
        topics.create(topic, partitions);
        topics.produceSample(topic, partitions, records);

        step("Archiving " + topic + " with LogStoreSinkConnector into " + archive);
        worker.createConnector("demo-archive", connector(SINK, Map.of("topics", topic, "tasks.max",
                Integer.toString(partitions), "consumer.override.isolation.level", "read_committed")));
        long[] ends = new long[partitions];
        long total = 0;
        for (int p = 0; p < partitions; p++) {
            ends[p] = topics.endOffset(topic, p);
            total += ends[p];
        }
        awaitProgress("archived", total, () -> {
            long archived = 0;
            for (int p = 0; p < partitions; p++) {
                archived += Math.min(ends[p], archivedNextOffset(p));
            }
            return archived;
        }, worker, "demo-archive");
        worker.deleteConnector("demo-archive");

        step("Replaying the archive with LogStoreSourceConnector into " + replayTopic + " (exactly once)");
        Map<String, String> source = new HashMap<>(Map.of("logstore.stores", topic, "topic.format",
                "${topic}.replay", "replay.end", "snapshot", "exactly.once.support", "required",
                "target.bootstrap.servers", topics.bootstrapServers(), "target.topic.retention.ms", "-1",
                "tasks.max", Integer.toString(partitions)));
        worker.createConnector("demo-replay", connector(SOURCE, source));
        long expected = records;
        awaitProgress("replayed", expected, () -> topics.read(replayTopic, partitions).stream()
                .mapToLong(List::size).sum(), worker, "demo-replay");
        worker.deleteConnector("demo-replay");

        step("Comparing " + topic + " and " + replayTopic + " record by record");
        List<List<ConsumerRecord<byte[], byte[]>>> original = topics.read(topic, partitions);
        List<List<ConsumerRecord<byte[], byte[]>>> replayed = topics.read(replayTopic, partitions);
        String difference = Topics.difference(original, replayed);
        if (difference != null) {
            out.println("      DIFFERENT: " + difference);
            return 1;
        }
        detail("identical: " + expected + " records in " + partitions
                + " partitions (keys, values, tombstones, headers, timestamps, order)");
        showArchive();
        return 0;
    }

    private Map<String, String> connector(String type, Map<String, String> settings) {
        Map<String, String> config = new HashMap<>(settings);
        config.put("connector.class", type);
        config.put("logstore.dir", archive.toString());
        config.put("key.converter", BYTES);
        config.put("value.converter", BYTES);
        config.put("header.converter", BYTES);
        return config;
    }

    private long archivedNextOffset(int partition) {
        Path store = archive.resolve(topic);
        if (!LogStore.isStore(store)) {
            return 0;
        }
        try (LogStore logStore = LogStore.builder(store).readOnly().open()) {
            return partition < logStore.partitionCount() ? logStore.nextOffset(partition) : 0;
        }
    }

    private void awaitProgress(String what, long total, LongSupplier done, ConnectWorker worker, String connector)
            throws Exception {
        long deadline = System.nanoTime() + Duration.ofMinutes(3).toNanos();
        long shown = -1;
        while (true) {
            long now = done.getAsLong();
            if (now != shown) {
                out.printf("\r      %s %d of %d records", what, now, total);
                out.flush();
                shown = now;
            }
            if (now >= total) {
                out.println();
                return;
            }
            if (System.nanoTime() > deadline) {
                out.println();
                throw new IllegalStateException(what + " only " + now + " of " + total + " records in 3 minutes; "
                        + "connector status: " + worker.status(connector));
            }
            Thread.sleep(250);
        }
    }

    private void showArchive() {
        step("The archive: " + archive.resolve(topic));
        long stored = 0;
        long records = 0;
        try (LogStore store = LogStore.builder(archive.resolve(topic)).readOnly().open()) {
            for (int p = 0; p < store.partitionCount(); p++) {
                store.nextOffset(p);
                PartitionInfo info = store.partitionInfo(p);
                dev.logstore.StoredBytes bytes = store.storedBytes(p);
                stored += bytes.storedBytes();
                records += bytes.recordBytes();
                detail(String.format(java.util.Locale.ROOT, "partition %d: offsets %d..%d, %d bytes in %d segment(s), "
                        + "holding %d bytes of records", p, info.startOffset(), info.nextOffset() - 1,
                        info.sizeInBytes(), info.segments(), bytes.recordBytes()));
            }
        }
        detail(String.format(java.util.Locale.ROOT, "compressed with zstd (the sink's default): %d bytes of records "
                + "stored in %d bytes, %.1fx smaller", records, stored, stored == 0 ? 0 : (double) records / stored));
        detail("inspect it with: bin/logstore stats " + archive + "  |  bin/logstore dump " + archive.resolve(topic)
                + " -n 5");
    }

    private void checkOptions() {
        if (!Files.isDirectory(pluginPath)) {
            throw new ParameterException(spec.commandLine(), "--plugin-path " + pluginPath + " is not a directory; "
                    + "build the plugin package first (./mvnw -pl logstore-dist -am package) and give the directory "
                    + "it unpacks into, logstore-dist/target/plugins");
        }
        if (partitions < 1 || records < 1) {
            throw new ParameterException(spec.commandLine(), "--partitions and --records must be at least 1 (got "
                    + partitions + " and " + records + ")");
        }
    }

    /**
     * Checks the archive directory before anything starts: it is emptied for a fresh run once a
     * cluster is there to archive from, and only what an earlier demo run left there is deleted: a
     * directory holding anything but LogStore stores is refused, so a mistyped {@code --archive}
     * never costs anyone their files.
     */
    private void checkArchive() throws IOException {
        if (Files.exists(archive)) {
            if (!Files.isDirectory(archive)) {
                throw new ParameterException(spec.commandLine(), "--archive " + archive
                        + " is a file; give a new or empty directory (the demo empties it first)");
            }
            try (Stream<Path> children = Files.list(archive)) {
                // Stores, and the replay plans the demo's source connector keeps beside them.
                Optional<Path> foreign = children
                        .filter(child -> !LogStore.isStore(child)
                                && !(child.getFileName().toString().equals(REPLAY_PLANS) && Files.isDirectory(child)))
                        .findFirst();
                if (foreign.isPresent()) {
                    throw new ParameterException(spec.commandLine(), "--archive " + archive + " holds " + foreign.get()
                            + ", which is not a LogStore store; the demo empties its archive directory first, so "
                            + "give a new or empty directory, or one an earlier demo run made");
                }
            }
        }
        Files.createDirectories(archive);
        if (System.getProperty("logstore.demo.log") == null) {
            // Beside the archive, unless whoever runs the demo chose where Kafka's and Connect's logs go.
            System.setProperty("logstore.demo.log", archive.resolveSibling(archive.getFileName() + ".log").toString());
        }
    }

    /** Empties the archive directory checked by {@link #checkArchive}, for a fresh run. */
    private void emptyArchive() throws IOException {
        if (Files.exists(archive)) {
            try (Stream<Path> files = Files.walk(archive)) {
                for (Path path : (Iterable<Path>) files.sorted(Comparator.reverseOrder())::iterator) {
                    if (!path.equals(archive)) {
                        Files.delete(path);
                    }
                }
            }
        }
        Files.createDirectories(archive);
    }

    /** Fails within about 10 s, leaving the previous archive as it was, when no broker answers at {@code bootstrap}. */
    private void checkReachable(String bootstrap) {
        Map<String, Object> config = new HashMap<>();
        config.put("bootstrap.servers", bootstrap);
        config.put("request.timeout.ms", 5_000);
        config.put("default.api.timeout.ms", 10_000);
        try (org.apache.kafka.clients.admin.Admin admin = org.apache.kafka.clients.admin.Admin.create(config)) {
            admin.describeCluster().nodes().get(12, java.util.concurrent.TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new IllegalStateException("no Kafka broker answered at " + bootstrap + " within 10 s (" + e
                    + "); check --bootstrap-server. The archive " + archive + " was left as it was");
        }
    }

    private void step(String message) {
        out.printf("[%d/%d] %s%n", ++step, STEPS, message);
    }

    private void detail(String message) {
        out.println("      " + message);
    }
}
