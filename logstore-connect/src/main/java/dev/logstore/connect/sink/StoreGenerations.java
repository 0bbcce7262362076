package dev.logstore.connect.sink;

import dev.logstore.LogStore;
import dev.logstore.LogStoreException;
import dev.logstore.WritersExcluded;
import dev.logstore.connect.config.ArchivePaths;
import dev.logstore.connect.config.TopicMetadata;
import dev.logstore.io.Directories;
import dev.logstore.io.FileLocks;
import dev.logstore.io.FileOpener;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import org.apache.kafka.connect.errors.ConnectException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Generations of a topic's store: when the archived topic was deleted and re-created under the
 * same name (a new topic id), what was archived of the old topic moves aside, whole, to
 * {@code <topic>.<old topic id>}, and the new topic is archived from its first offset into a new
 * store under the topic's name, whose {@link TopicMetadata} names the previous generation.
 *
 * <p>Every task archiving partitions of the topic finds the new id, in this worker or another,
 * so the move is made once: under a lock of the archive root ({@value #GUARD}) the first task to
 * get it checks that the store still holds the old topic, waits until no writer holds any of its
 * partitions (nor of its consumer groups' store), and renames it while keeping writers out
 * ({@link LogStore#excludeWriters}). The others find the move made and reopen their partitions in
 * the new store. A replay reading the old store while it moves should be restarted naming the
 * store where it went.
 */
final class StoreGenerations {

    private static final Logger log = LoggerFactory.getLogger(StoreGenerations.class);
    /** The lock file, in the archive root, that one move at a time holds. */
    static final String GUARD = ".logstore-generations.lock";

    private StoreGenerations() {
    }

    /** Whether the store in {@code dir} is a new generation of its topic's (its metadata names a previous one). */
    static boolean isNewGeneration(Path dir) {
        try {
            TopicMetadata metadata = TopicMetadata.read(dir);
            return metadata != null && metadata.previousGeneration() != null;
        } catch (ConnectException damaged) {
            return false; // rewritten at the next check; a damaged file marks nothing
        }
    }

    /** Waits, until {@code deadline} ({@link System#nanoTime()}), for a move that another task is making. */
    static void awaitMove(Path root, long deadline) {
        try (FileLocks.Held guard = FileLocks.lock(FileOpener.DEFAULT, root.resolve(GUARD), deadline)) {
            // Held by nobody else now: no move under way.
        } catch (InterruptedIOException e) {
            Thread.currentThread().interrupt();
            throw new ConnectException("Interrupted while waiting for a new generation of a store to start", e);
        } catch (IOException e) {
            throw new ConnectException("A new generation of a store in " + root + " has been starting for too long ("
                    + e.getMessage() + "); restart the task once it is done", e);
        }
    }

    /** The store name under which the generation of {@code kept} goes on being kept. */
    static String previousName(TopicMetadata kept) {
        String suffix = "." + kept.topicId();
        String topic = kept.topic();
        return (topic.length() + suffix.length() > 249 ? topic.substring(0, 249 - suffix.length()) : topic) + suffix;
    }

    /**
     * Starts a new generation of {@code topic}'s store for the topic described by {@code now},
     * unless the store no longer holds the topic with id {@code oldTopicId} (another task moved it).
     * The caller holds none of the store's partitions; others' are waited for up to {@code wait}.
     *
     * @return the directory the old generation moved to, or null when another task moved it
     * @throws ConnectException when the move cannot be made: what to do is in the message
     */
    static Path startNew(Path root, String topic, String oldTopicId, TopicMetadata now, Duration wait) {
        Path dir = ArchivePaths.storeDirectory(root, topic);
        long deadline = System.nanoTime() + wait.toNanos();
        try (FileLocks.Held guard = FileLocks.lock(FileOpener.DEFAULT, root.resolve(GUARD), deadline)) {
            TopicMetadata kept = TopicMetadata.read(dir);
            if (kept == null || !kept.topicId().equals(oldTopicId)) {
                return null; // moved by another task, which started the new generation
            }
            Path previous = ArchivePaths.storeDirectory(root, previousName(kept));
            if (Files.exists(previous)) {
                throw new ConnectException("Topic " + topic + " was deleted and re-created (id " + oldTopicId + " is now "
                        + now.topicId() + "), but " + previous + ", where its archive so far would be kept, exists "
                        + "already. Move one of the two away and restart the task");
            }
            if (LogStore.isStore(dir)) {
                Path groups = dir.resolve(GroupSnapshots.DIRECTORY);
                Duration left = Duration.ofNanos(Math.max(0, deadline - System.nanoTime()));
                try (WritersExcluded data = LogStore.excludeWriters(dir, left);
                     WritersExcluded snapshots = LogStore.isStore(groups) ? LogStore.excludeWriters(groups, left) : null) {
                    Files.move(dir, previous, StandardCopyOption.ATOMIC_MOVE);
                }
            } else {
                Files.move(dir, previous, StandardCopyOption.ATOMIC_MOVE);
            }
            Directories.fsync(root);
            Files.createDirectories(dir);
            now.withPreviousGeneration(previous.getFileName().toString()).write(dir);
            Directories.fsync(root);
            log.warn("Topic {} was deleted and re-created (topic id {} is now {}): what was archived of the old topic is "
                    + "kept, whole, in {}; the new topic is archived from its first offset into {}", topic, oldTopicId,
                    now.topicId(), previous, dir);
            return previous;
        } catch (FileLocks.BusyException e) {
            throw new ConnectException("Topic " + topic + " was deleted and re-created, and another task has been "
                    + "starting its store's new generation for longer than " + wait.toMillis() + " ms (" + e.getMessage()
                    + "). Restart this task once it is done", e);
        } catch (InterruptedIOException e) {
            Thread.currentThread().interrupt();
            throw new ConnectException("Interrupted while starting a new generation of " + dir, e);
        } catch (LogStoreException e) {
            throw new ConnectException("Topic " + topic + " was deleted and re-created (id " + oldTopicId + " is now "
                    + now.topicId() + "), and its archive " + dir + " cannot move aside to start a new generation: "
                    + e.getMessage() + ". A task archiving the old topic's partitions notices within "
                    + LogStoreSinkConfig.METADATA_INTERVAL_MS + " and lets go; restart this task then", e);
        } catch (IOException e) {
            throw new ConnectException("Cannot move " + dir + " aside to start a new generation of topic " + topic
                    + ": " + e.getMessage() + ". Fix the cause and restart the task; nothing archived is lost", e);
        }
    }
}
