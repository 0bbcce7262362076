package dev.logstore.cli;

import dev.logstore.KeyProvider;
import dev.logstore.LogReader;
import dev.logstore.LogStore;
import dev.logstore.record.LogRecord;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.Callable;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(name = "report", mixinStandardHelpOptions = true, description = "Compare an archive with its topics as they "
        + "are now: per partition, the archived offsets against the topic's start and end, every gap labelled "
        + "(compaction or aborted transaction, deleted before archiving, not yet archived). Exits 1 when records "
        + "were lost.")
final class ReportCommand implements Callable<Integer> {

    /** How long one request to the cluster may take: an unreachable cluster is said so, not waited for. */
    static final java.time.Duration TIMEOUT = java.time.Duration.ofSeconds(15);


    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "ARCHIVE", description = "A sink's store, or an archive directory of them.")
    Path path;

    @Mixin
    KafkaClientOptions cluster = new KafkaClientOptions();

    @Mixin
    KeyOptions keys = new KeyOptions();

    private int lost;

    @Override
    public Integer call() throws IOException {
        List<Path> stores = Stores.find(spec, path);
        Map<String, Object> config = cluster.clientConfig();
        config.put("isolation.level", "read_committed");
        config.put("enable.auto.commit", "false");
        config.put("allow.auto.create.topics", "false");
        PrintWriter out = spec.commandLine().getOut();
        KeyProvider provider = keys.provider();
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(config, new ByteArrayDeserializer(),
                new ByteArrayDeserializer());
             org.apache.kafka.clients.admin.Admin admin = org.apache.kafka.clients.admin.Admin.create(
                     cluster.clientConfig())) {
            reportAll(out, stores, consumer, admin, provider);
        } catch (org.apache.kafka.common.errors.TimeoutException e) {
            throw cluster.unreachable(e);
        }
        out.flush();
        if (lost > 0) {
            spec.commandLine().getErr().println("logstore: " + lost + " range(s) of records were lost (see above)");
            return 1;
        }
        return 0;
    }

    private void reportAll(PrintWriter out, List<Path> stores, KafkaConsumer<byte[], byte[]> consumer,
                           org.apache.kafka.clients.admin.Admin admin, KeyProvider provider) throws IOException {
        for (Path storeDir : stores) {
            if (keyHashArchive(storeDir)) {
                out.printf("%s: archived with key-hash mapping, whose offsets are not the topic's: not compared%n",
                        storeDir.getFileName());
                continue;
            }
            String topic = topicOf(storeDir);
            String other = anotherTopic(storeDir, topic, admin);
            if (other != null) {
                out.printf("%s: %s: not compared%n", storeDir.getFileName(), other);
                continue;
            }
            List<PartitionInfo> partitions = consumer.partitionsFor(topic, TIMEOUT);
            LogStore.Builder builder = LogStore.builder(storeDir).readOnly();
            try (LogStore store = (provider == null ? builder : builder.keys(provider)).open()) {
                for (int p = 0; p < store.partitionCount(); p++) {
                    if (partitions == null || partitions.isEmpty() || p >= partitions.size()) {
                        out.printf("%s-%d: the topic has no such partition now; archived offsets %d to %d%n", topic,
                                p, store.startOffset(p), store.nextOffset(p) - 1);
                        continue;
                    }
                    report(out, store, p, consumer, new TopicPartition(topic, p));
                }
            }
        }
    }

    /**
     * When the sink kept the archived topic's id ({@code topic-metadata.properties}) and the topic of
     * that name on the cluster has another (it was deleted and re-created: the store is a previous
     * generation), what to say of it; null when they are the same topic or nothing tells.
     */
    private static String anotherTopic(Path storeDir, String topic, org.apache.kafka.clients.admin.Admin admin)
            throws IOException {
        Path file = storeDir.resolve("topic-metadata.properties");
        if (!Files.exists(file)) {
            return null;
        }
        Properties metadata = new Properties();
        try (InputStream in = Files.newInputStream(file)) {
            metadata.load(in);
        }
        String archived = metadata.getProperty("topic.id");
        if (archived == null) {
            return null;
        }
        String now;
        try {
            now = admin.describeTopics(List.of(topic)).allTopicNames().get(TIMEOUT.toSeconds(),
                    java.util.concurrent.TimeUnit.SECONDS).get(topic).topicId().toString();
        } catch (java.util.concurrent.ExecutionException e) {
            if (e.getCause() instanceof org.apache.kafka.common.errors.UnknownTopicOrPartitionException) {
                return null; // said per partition below
            }
            if (e.getCause() instanceof org.apache.kafka.common.errors.TimeoutException timeout) {
                throw timeout; // the cluster does not answer: said as such
            }
            throw new IOException("Cannot describe topic " + topic + ": " + e.getCause().getMessage(), e.getCause());
        } catch (java.util.concurrent.TimeoutException e) {
            throw new org.apache.kafka.common.errors.TimeoutException("describing topic " + topic, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("Interrupted while describing topic " + topic, e);
        }
        if (now.equals(archived)) {
            return null;
        }
        return "archives topic " + topic + " with id " + archived + ", which was deleted; the topic " + topic
                + " on this cluster is another one (id " + now + "), which the sink archives into a new generation "
                + "of the store";
    }

    /** The sink's marker of a store ({@code sink-archive.properties}: topic, mapping); empty when it has none. */
    private static Properties sinkMarker(Path storeDir) throws IOException {
        Properties properties = new Properties();
        Path marker = storeDir.resolve("sink-archive.properties");
        if (Files.exists(marker)) {
            try (InputStream in = Files.newInputStream(marker)) {
                properties.load(in);
            }
        }
        return properties;
    }

    /** True when the sink archived the store with key-hash mapping (offsets of its own, not the topic's). */
    static boolean keyHashArchive(Path storeDir) throws IOException {
        return "key-hash".equalsIgnoreCase(sinkMarker(storeDir).getProperty("mapping", ""));
    }

    /** The topic a store archives: the sink's marker says; else the store's name. */
    private static String topicOf(Path storeDir) throws IOException {
        return sinkMarker(storeDir).getProperty("topic", storeDir.getFileName().toString());
    }

    private void report(PrintWriter out, LogStore store, int p, KafkaConsumer<byte[], byte[]> consumer,
                        TopicPartition tp) {
        long topicStart = consumer.beginningOffsets(List.of(tp), TIMEOUT).get(tp);
        long topicEnd = consumer.endOffsets(List.of(tp), TIMEOUT).get(tp);
        // The archived offsets, as ranges of consecutive offsets.
        List<long[]> ranges = new ArrayList<>();
        try (LogReader reader = store.reader(p)) {
            List<LogRecord> records;
            while (!(records = reader.poll(10_000, 4 << 20)).isEmpty()) {
                for (LogRecord record : records) {
                    long[] last = ranges.isEmpty() ? null : ranges.get(ranges.size() - 1);
                    if (last != null && last[1] + 1 == record.offset()) {
                        last[1] = record.offset();
                    } else {
                        ranges.add(new long[] {record.offset(), record.offset()});
                    }
                }
            }
        }
        out.printf("%s: topic offsets %d to %d now; archive holds %s%n", tp, topicStart, topicEnd - 1,
                ranges.isEmpty() ? "nothing" : "offsets " + ranges.get(0)[0] + " to " + ranges.get(ranges.size() - 1)[1]
                        + " in " + ranges.size() + " range(s)");
        long archivedFrom = ranges.isEmpty() ? Math.max(store.nextOffset(p), 0) : ranges.get(0)[0];
        if (archivedFrom > 0) {
            if (topicStart >= archivedFrom) {
                gap(out, tp, 0, archivedFrom - 1, "deleted before archiving: the archive starts at " + archivedFrom
                        + " and the topic no longer holds these offsets (retention removed them first)", true);
            } else if (topicStart > 0) {
                gap(out, tp, 0, topicStart - 1, "deleted before archiving", true);
                inner(out, consumer, tp, topicStart, archivedFrom - 1, topicStart);
            } else {
                inner(out, consumer, tp, 0, archivedFrom - 1, topicStart);
            }
        }
        for (int i = 1; i < ranges.size(); i++) {
            inner(out, consumer, tp, ranges.get(i - 1)[1] + 1, ranges.get(i)[0] - 1, topicStart);
        }
        long archivedTo = ranges.isEmpty() ? store.nextOffset(p) : Math.max(store.nextOffset(p), ranges.get(ranges.size() - 1)[1] + 1);
        if (topicStart > archivedTo) {
            gap(out, tp, archivedTo, topicStart - 1, "deleted before archiving: the topic no longer holds them", true);
            archivedTo = topicStart;
        }
        if (topicEnd > archivedTo) {
            long pending = committedRecords(consumer, tp, archivedTo, topicEnd - 1);
            gap(out, tp, archivedTo, topicEnd - 1, pending > 0 ? "not yet archived: " + pending + " committed record(s)"
                    : "no committed record (transaction markers or aborted records): nothing to archive", false);
        }
    }

    /** How many committed records the topic holds in {@code [from, to]}. */
    private static long committedRecords(KafkaConsumer<byte[], byte[]> consumer, TopicPartition tp, long from, long to) {
        consumer.assign(List.of(tp));
        consumer.seek(tp, from);
        long found = 0;
        long deadline = System.nanoTime() + TIMEOUT.toNanos();
        outer:
        while (consumer.position(tp, TIMEOUT) <= to && System.nanoTime() < deadline) {
            for (ConsumerRecord<byte[], byte[]> record : consumer.poll(Duration.ofMillis(500)).records(tp)) {
                if (record.offset() > to) {
                    break outer;
                }
                found++;
            }
        }
        return found;
    }

    /**
     * A gap between archived records: compaction, an aborted transaction or transaction markers
     * when the topic holds no committed record there (or no longer holds those offsets), else lost.
     */
    private void inner(PrintWriter out, KafkaConsumer<byte[], byte[]> consumer, TopicPartition tp, long from, long to,
                       long topicStart) {
        if (to < from) {
            return;
        }
        if (topicStart > to) {
            gap(out, tp, from, to, "not in the archive, and the topic no longer holds these offsets: compaction, an "
                    + "aborted transaction, or records deleted before archiving (cannot be told now)", false);
            return;
        }
        long found = committedRecords(consumer, tp, Math.max(from, topicStart), to);
        if (found > 0) {
            gap(out, tp, from, to, "LOST: the topic holds " + found + " committed record(s) here that the archive "
                    + "lacks", true);
        } else {
            gap(out, tp, from, to, "compaction or an aborted transaction (the topic holds no committed record here)",
                    false);
        }
    }

    private void gap(PrintWriter out, TopicPartition tp, long from, long to, String why, boolean loss) {
        out.printf("  %s offsets %d to %d: %s%n", tp, from, to, why);
        if (loss) {
            lost++;
        }
    }
}
