package dev.logstore.connect.source;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import dev.logstore.connect.config.ArchivePaths;
import dev.logstore.connect.config.TopicMetadata;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.connect.errors.ConnectException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Makes sure every target topic can take its store's records: creates missing topics with the
 * store's partition count (or the archived topic's, when larger) and the archived topic's configs
 * (kept by the sink in {@link TopicMetadata#FILE}; {@code target.configs.exclude} leaves some out
 * and {@code target.topic.*} settings override them), so a compacted topic comes back compacted;
 * and refuses an existing topic with too few partitions for {@code partition.mapping=preserve} or
 * {@code round-robin}, which both send records to as many partitions as the store has.
 */
final class TargetTopics {

    private static final Logger log = LoggerFactory.getLogger(TargetTopics.class);
    private static final long TIMEOUT_SECONDS = 60;

    private TargetTopics() {
    }

    static void ensure(LogStoreSourceConfig config, Map<String, Integer> stores) {
        Map<String, Object> adminConfig = config.targetAdminConfig();
        if (adminConfig.isEmpty() || stores.isEmpty()) {
            return;
        }
        Map<String, Integer> needed = new HashMap<>();
        Map<String, TopicMetadata> archived = new HashMap<>();
        new java.util.TreeMap<>(stores).forEach((store, partitions) -> {
            String target = config.targetTopic(store);
            TopicMetadata metadata;
            try {
                metadata = TopicMetadata.read(ArchivePaths.storeDirectory(config.archiveRoot(), store));
            } catch (ConnectException e) {
                log.warn("{}; {} is created with the store's partition count and no archived configs", e.getMessage(),
                        target);
                metadata = null;
            }
            int count = metadata == null ? partitions : Math.max(partitions, metadata.partitions());
            needed.merge(target, count, Math::max);
            if (metadata != null && archived.putIfAbsent(target, metadata) != null
                    && !archived.get(target).configs().equals(metadata.configs())) {
                log.warn("Stores replayed into {} were archived from topics of different configs; it is created with "
                        + "those of {}", target, archived.get(target).topic());
            }
        });
        Map<String, String> overrides = new HashMap<>();
        config.originalsWithPrefix("target.topic.").forEach((k, v) -> overrides.put(k, String.valueOf(v)));
        short replication = config.getShort(LogStoreSourceConfig.TARGET_REPLICATION_FACTOR);
        try (Admin admin = Admin.create(adminConfig)) {
            Set<String> existing = admin.listTopics().names().get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
            List<NewTopic> create = new ArrayList<>();
            for (Map.Entry<String, Integer> entry : needed.entrySet()) {
                if (!existing.contains(entry.getKey())) {
                    create.add(new NewTopic(entry.getKey(), Optional.of(entry.getValue()),
                            replication < 0 ? Optional.empty() : Optional.of(replication))
                            .configs(topicConfig(config, archived.get(entry.getKey()), overrides)));
                }
            }
            for (NewTopic topic : create) {
                try {
                    admin.createTopics(List.of(topic)).all().get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
                    log.info("Created target topic {} with {} partitions and configs {}", topic.name(),
                            topic.numPartitions(), topic.configs());
                } catch (ExecutionException e) {
                    if (!(e.getCause() instanceof TopicExistsException)) {
                        throw e;
                    }
                }
            }
            Set<String> preexisting = new HashSet<>(needed.keySet());
            preexisting.retainAll(existing);
            if (config.mapping() != LogStoreSourceConfig.Mapping.KEY_HASH && !preexisting.isEmpty()) {
                // Topics created above have the right count; only those found existing need a look.
                Map<String, TopicDescription> described = admin.describeTopics(preexisting).allTopicNames()
                        .get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
                for (String topic : preexisting) {
                    int has = described.get(topic).partitions().size();
                    int wanted = needed.get(topic);
                    if (has < wanted) {
                        throw new ConnectException("Target topic " + topic + " has " + has + " partitions, but "
                                + "partition.mapping=" + config.getString(LogStoreSourceConfig.PARTITION_MAPPING)
                                + " needs " + wanted + " (one per store partition). "
                                + "Add partitions to the topic, replay into another topic (" + LogStoreSourceConfig.TOPIC_FORMAT
                                + "), or use partition.mapping=key-hash");
                    }
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ConnectException("Interrupted while preparing target topics", e);
        } catch (ExecutionException | TimeoutException e) {
            Throwable cause = e.getCause() == null ? e : e.getCause();
            throw new ConnectException("Cannot prepare the target topics " + needed.keySet() + " on "
                    + adminConfig.get("bootstrap.servers") + ": " + cause
                    + (cause instanceof org.apache.kafka.common.errors.InvalidConfigurationException
                    ? ". A config of the archived topic that the target refuses can be left out with "
                    + LogStoreSourceConfig.TARGET_CONFIGS_EXCLUDE + " (or all of them with "
                    + LogStoreSourceConfig.TARGET_CONFIGS_COPY + "=false)" : ""), e);
        }
    }

    /** The configs a new target topic gets: the archived topic's, less those excluded, then the overrides. */
    static Map<String, String> topicConfig(LogStoreSourceConfig config, TopicMetadata archived,
                                           Map<String, String> overrides) {
        Map<String, String> topicConfig = new java.util.TreeMap<>();
        if (archived != null && config.getBoolean(LogStoreSourceConfig.TARGET_CONFIGS_COPY)) {
            List<String> excluded = config.getList(LogStoreSourceConfig.TARGET_CONFIGS_EXCLUDE);
            archived.configs().forEach((name, value) -> {
                if (!excluded.contains(name)) {
                    topicConfig.put(name, value);
                }
            });
        }
        topicConfig.putAll(overrides);
        return topicConfig;
    }
}
