package dev.logstore.connect.config;

import java.io.IOException;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import org.apache.kafka.connect.errors.ConnectException;

/**
 * What the archived cluster said of an archived topic, kept beside its store in
 * {@code topic-metadata.properties}: the topic's id (which tells a topic re-created under the same
 * name apart from the one archived), its partition count and its non-default configs. The sink
 * writes it when it can reach the cluster's admin API and rewrites it when they change; the source
 * creates target topics from it, so a restored compacted topic is compacted again.
 *
 * @param topic      the topic's name
 * @param topicId    the topic's id (KIP-516), as the cluster prints it
 * @param partitions the topic's partition count
 * @param configs    the configs set on the topic (not the broker's defaults), by name
 * @param capturedAt when the cluster was asked (ms since the epoch)
 * @param previousGeneration the store that holds what was archived of an earlier topic of the same
 *                   name (deleted and re-created), by its name under the archive root; null when
 *                   this store is the topic's first
 */
public record TopicMetadata(String topic, String topicId, int partitions, Map<String, String> configs,
                            long capturedAt, String previousGeneration) {

    /** The file's name in the store directory. */
    public static final String FILE = "topic-metadata.properties";
    private static final String CONFIG_PREFIX = "config.";
    private static final String PREVIOUS_GENERATION = "previous.generation";

    public TopicMetadata {
        configs = Map.copyOf(new TreeMap<>(configs));
    }

    /** What the cluster says of a topic whose store is its first. */
    public TopicMetadata(String topic, String topicId, int partitions, Map<String, String> configs, long capturedAt) {
        this(topic, topicId, partitions, configs, capturedAt, null);
    }

    /** This, saying that {@code previous} (a store name) holds the earlier topic's archive. */
    public TopicMetadata withPreviousGeneration(String previous) {
        return new TopicMetadata(topic, topicId, partitions, configs, capturedAt, previous);
    }

    /** True when this says what {@code other} says, whenever each was captured. */
    public boolean sameAs(TopicMetadata other) {
        return other != null && topic.equals(other.topic) && topicId.equals(other.topicId)
                && partitions == other.partitions && configs.equals(other.configs)
                && java.util.Objects.equals(previousGeneration, other.previousGeneration);
    }

    /** The metadata kept in {@code storeDir}, or null when none is. */
    public static TopicMetadata read(Path storeDir) {
        Path file = storeDir.resolve(FILE);
        String text;
        try {
            text = Files.readString(file, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            return null;
        } catch (IOException e) {
            throw new ConnectException("Cannot read " + file + ": " + e.getMessage(), e);
        }
        Properties properties = new Properties();
        try {
            properties.load(new StringReader(text));
            Map<String, String> configs = new TreeMap<>();
            for (String name : properties.stringPropertyNames()) {
                if (name.startsWith(CONFIG_PREFIX)) {
                    configs.put(name.substring(CONFIG_PREFIX.length()), properties.getProperty(name));
                }
            }
            return new TopicMetadata(required(properties, "topic", file), required(properties, "topic.id", file),
                    Integer.parseInt(required(properties, "partitions", file)), configs,
                    Long.parseLong(required(properties, "captured.at.ms", file)),
                    properties.getProperty(PREVIOUS_GENERATION));
        } catch (IOException | IllegalArgumentException e) {
            throw new ConnectException(file + " is damaged (" + e.getMessage() + "): delete it and the sink writes it "
                    + "again from the archived cluster", e);
        }
    }

    private static String required(Properties properties, String key, Path file) {
        String value = properties.getProperty(key);
        if (value == null) {
            throw new IllegalArgumentException("no " + key + " in " + file);
        }
        return value;
    }

    /** Writes this into {@code storeDir}, replacing what was there atomically. */
    public void write(Path storeDir) throws IOException {
        Properties properties = new Properties();
        properties.setProperty("topic", topic);
        properties.setProperty("topic.id", topicId);
        properties.setProperty("partitions", Integer.toString(partitions));
        properties.setProperty("captured.at.ms", Long.toString(capturedAt));
        if (previousGeneration != null) {
            properties.setProperty(PREVIOUS_GENERATION, previousGeneration);
        }
        configs.forEach((name, value) -> properties.setProperty(CONFIG_PREFIX + name, value));
        DurableFiles.write(storeDir.resolve(FILE), properties, "The archived topic as its cluster described it at "
                + Instant.ofEpochMilli(capturedAt) + "; written by the LogStore sink connector");
    }
}
