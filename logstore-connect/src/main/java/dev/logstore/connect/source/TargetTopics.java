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
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.connect.errors.ConnectException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Makes sure every target topic can take its store's records: creates missing topics with the
 * store's partition count, and refuses an existing topic with too few partitions for
 * {@code partition.mapping=preserve} or {@code round-robin}, which both send records to as many
 * partitions as the store has.
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
        stores.forEach((store, partitions) -> needed.merge(config.targetTopic(store), partitions, Math::max));
        Map<String, String> topicConfig = new HashMap<>();
        config.originalsWithPrefix("target.topic.").forEach((k, v) -> topicConfig.put(k, String.valueOf(v)));
        short replication = config.getShort(LogStoreSourceConfig.TARGET_REPLICATION_FACTOR);
        try (Admin admin = Admin.create(adminConfig)) {
            Set<String> existing = admin.listTopics().names().get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
            List<NewTopic> create = new ArrayList<>();
            for (Map.Entry<String, Integer> entry : needed.entrySet()) {
                if (!existing.contains(entry.getKey())) {
                    create.add(new NewTopic(entry.getKey(), Optional.of(entry.getValue()),
                            replication < 0 ? Optional.empty() : Optional.of(replication)).configs(topicConfig));
                }
            }
            for (NewTopic topic : create) {
                try {
                    admin.createTopics(List.of(topic)).all().get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
                    log.info("Created target topic {} with {} partitions", topic.name(), topic.numPartitions());
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
            throw new ConnectException("Cannot prepare the target topics " + needed.keySet() + " on "
                    + adminConfig.get("bootstrap.servers") + ": " + (e.getCause() == null ? e : e.getCause()), e);
        }
    }
}
