package dev.logstore.connect.sink;

import dev.logstore.connect.config.TopicMetadata;
import java.io.IOException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.connect.errors.ConnectException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The admin API of the cluster whose topics the sink archives: what it says of each archived
 * topic (id, partition count, configs) is kept beside the topic's store ({@link TopicMetadata}),
 * checked when the task opens the topic's partitions and again every interval. A topic whose id
 * is not the one archived was deleted and re-created: its records would land at offsets the old
 * topic's records hold, so the task starts a new generation of the store ({@link StoreGenerations})
 * or stops and says what to do, by setting. When the cluster cannot be reached
 * the sink goes on archiving, saying so once per topic.
 */
final class ArchivedCluster implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(ArchivedCluster.class);
    private static final long TIMEOUT_SECONDS = 30;

    private final Admin admin;
    private final long intervalMillis;
    /** Snapshots of the consumer groups' offsets; null when they are not taken. */
    private final GroupSnapshots groups;
    private final long groupsIntervalMillis;
    private long groupsTakenAt;
    private final Map<String, Long> checkedAt = new HashMap<>();
    private final Map<String, Boolean> warned = new HashMap<>();

    private ArchivedCluster(Admin admin, LogStoreSinkConfig config, String ownGroup) {
        this.admin = admin;
        this.intervalMillis = config.metadataIntervalMillis();
        this.groupsIntervalMillis = config.groupsIntervalMillis();
        this.groups = groupsIntervalMillis > 0 ? new GroupSnapshots(admin, config.archiveRoot(), ownGroup,
                builder -> dev.logstore.connect.config.PackingSettings.applyForWriting(config, builder)) : null;
    }

    /** The cluster the settings name, or null when they name none (then nothing is captured: said once). */
    static ArchivedCluster connect(LogStoreSinkConfig config, String connectorName) {
        return connect(config, connectorName, Admin::create);
    }

    /** As above, the admin client made by {@code admins} from its settings (a seam for tests). */
    static ArchivedCluster connect(LogStoreSinkConfig config, String connectorName,
                                   java.util.function.Function<Map<String, Object>, Admin> admins) {
        Map<String, Object> adminConfig = config.archivedClusterAdminConfig();
        if (adminConfig.isEmpty()) {
            log.info("{} is not set: topic ids, partition counts and configs of the archived topics are not kept with "
                    + "the archive, so a restore cannot re-create topics as they were, and a topic deleted and "
                    + "re-created under the same name is told apart only by its offsets", LogStoreSinkConfig.KAFKA_BOOTSTRAP);
            return null;
        }
        // Connect names a sink connector's consumer group connect-<connector name>, unless overridden.
        Object override = config.originals().get("consumer.override.group.id");
        String ownGroup = override != null ? String.valueOf(override) : "connect-" + connectorName;
        return new ArchivedCluster(admins.apply(adminConfig), config, ownGroup);
    }

    /**
     * What a check found when the topic is not the one archived: it was deleted and re-created.
     *
     * @param kept what the store says of the topic it holds
     * @param now  what the cluster says of the topic under that name now
     */
    record Recreated(TopicMetadata kept, TopicMetadata now) {

        /** The refusal, for {@code kafka.topic.recreated=fail}: what happened and what to do. */
        ConnectException refusal(Path storeDir) {
            return new ConnectException("Topic " + now.topic() + " is not the topic archived in " + storeDir
                    + ": its id is " + now.topicId() + ", the archive's " + kept.topicId() + ". It was deleted and "
                    + "re-created, and its records would land at offsets the old topic's records hold. Keep the old "
                    + "archive apart (move " + storeDir + " to another name, e.g. "
                    + StoreGenerations.previousName(kept) + ", on every worker's view of the archive) and restart the "
                    + "task: it archives the new topic into a new store. With " + LogStoreSinkConfig.RECREATED_TOPIC
                    + "=" + LogStoreSinkConfig.RecreatedTopic.NEW_GENERATION.configValue() + " the sink does this "
                    + "itself.");
        }
    }

    /**
     * Checks {@code topic} against its archive now, whenever it was last checked, and keeps what
     * the cluster says of it; returns what was found when the topic was re-created (then nothing
     * is written), null otherwise.
     */
    Recreated check(String topic, Path storeDir) {
        checkedAt.put(topic, System.currentTimeMillis());
        TopicMetadata now;
        try {
            now = describe(topic);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ConnectException("Interrupted while describing topic " + topic, e);
        } catch (ExecutionException | TimeoutException | RuntimeException e) {
            if (warned.put(topic, true) == null) {
                log.warn("Cannot describe topic {} on the archived cluster ({}): archiving goes on, but its id, partition "
                        + "count and configs are not updated in {}", topic, e.getMessage(), TopicMetadata.FILE);
            }
            return null;
        }
        warned.remove(topic);
        TopicMetadata kept;
        try {
            kept = TopicMetadata.read(storeDir);
        } catch (ConnectException e) {
            // Only a record of what the cluster said: written again below from what it says now.
            log.warn("{}; writing it again", e.getMessage());
            kept = null;
        }
        if (kept != null && !kept.topicId().equals(now.topicId())) {
            return new Recreated(kept, now);
        }
        now = now.withPreviousGeneration(kept == null ? null : kept.previousGeneration());
        if (!now.sameAs(kept)) {
            try {
                now.write(storeDir);
                log.info("{}: kept topic id {}, {} partitions and {} non-default config(s) in {}", topic, now.topicId(),
                        now.partitions(), now.configs().size(), TopicMetadata.FILE);
            } catch (IOException e) {
                log.warn("Cannot write {} in {} ({}): tried again at the next check", TopicMetadata.FILE, storeDir,
                        e.getMessage());
            }
        }
        return null;
    }

    /** When {@code topic} was last checked (ms since the epoch), or -1 before its first check. */
    long checkedAt(String topic) {
        return checkedAt.getOrDefault(topic, -1L);
    }

    /** Whether the last check of {@code topic} could describe it (then its store was compared with it). */
    boolean described(String topic) {
        return checkedAt.containsKey(topic) && !warned.containsKey(topic);
    }

    /** Checks {@code topic} when the interval has passed since its last check; see {@link #check}. */
    Recreated checkIfDue(String topic, Path storeDir) {
        Long last = checkedAt.get(topic);
        if (last == null || System.currentTimeMillis() - last >= intervalMillis) {
            return check(topic, storeDir);
        }
        return null;
    }

    /** Takes a snapshot of the consumer groups' offsets on {@code assigned} when the interval has passed. */
    void snapshotGroupsIfDue(java.util.Collection<org.apache.kafka.common.TopicPartition> assigned) {
        if (groups != null && System.currentTimeMillis() - groupsTakenAt >= groupsIntervalMillis) {
            groupsTakenAt = System.currentTimeMillis();
            groups.snapshot(assigned);
        }
    }

    /** Gives back the snapshot partitions of revoked topic partitions. */
    void release(java.util.Collection<org.apache.kafka.common.TopicPartition> revoked) {
        if (groups != null) {
            groups.release(revoked);
        }
    }

    private TopicMetadata describe(String topic) throws InterruptedException, ExecutionException, TimeoutException {
        TopicDescription description = admin.describeTopics(List.of(topic)).allTopicNames()
                .get(TIMEOUT_SECONDS, TimeUnit.SECONDS).get(topic);
        ConfigResource resource = new ConfigResource(ConfigResource.Type.TOPIC, topic);
        Config config = admin.describeConfigs(List.of(resource)).all().get(TIMEOUT_SECONDS, TimeUnit.SECONDS)
                .get(resource);
        Map<String, String> set = new HashMap<>();
        for (ConfigEntry entry : config.entries()) {
            if (entry.source() == ConfigEntry.ConfigSource.DYNAMIC_TOPIC_CONFIG && entry.value() != null
                    && !entry.isSensitive()) {
                set.put(entry.name(), entry.value());
            }
        }
        return new TopicMetadata(topic, description.topicId().toString(), description.partitions().size(), set,
                System.currentTimeMillis());
    }

    @Override
    public void close() {
        if (groups != null) {
            groups.close();
        }
        admin.close(java.time.Duration.ofSeconds(5));
    }
}
