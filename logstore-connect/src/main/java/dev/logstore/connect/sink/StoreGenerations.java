package dev.logstore.connect.sink;

import dev.logstore.LogStore;
import dev.logstore.LogStoreException;
import dev.logstore.StoreLockedException;
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
 * <p>Every task archiving partitions of the topic finds the new id, in this worker or another, so
 * the move is made once: under a lock of the archive root ({@value #GUARD}) a task checks that the
 * store still holds the old topic, keeps every writer of it (and of its consumer groups' store) out
 * ({@link LogStore#excludeWriters}), and renames it aside. The new generation is prepared first
 * under a hidden name, metadata included, and renamed into place, so the topic's directory never
 * exists unmarked: a task that creates the store, or a crash between the two renames, finds the
 * move finished ({@link #awaitMove}). While another task still holds partitions of the old store
 * the move is not made ({@link StillHeld}); a task that found the topic re-created announces it
 * ({@link #announce}), so that the others look at the cluster at once instead of at their next
 * interval. A replay reading the old store while it moves should be restarted naming the store
 * where it went.
 */
final class StoreGenerations {

    private static final Logger log = LoggerFactory.getLogger(StoreGenerations.class);
    /** The lock file, in the archive root, that one move at a time holds. */
    static final String GUARD = ".logstore-generations.lock";

    /** The move cannot be made yet: other writers still hold partitions of the old store. */
    static final class StillHeld extends ConnectException {
        private static final long serialVersionUID = 1L;

        StillHeld(String message, Throwable cause) {
            super(message, cause);
        }
    }

    private StoreGenerations() {
    }

    /** The directory, in the archive root, of staged generations and announcements (never a store). */
    static final String WORK = ".generations";

    /** Where the new generation of {@code topic}'s store is prepared before it is renamed into place. */
    private static Path staged(Path root, String topic) {
        return root.resolve(WORK).resolve("next").resolve(topic);
    }

    /** The file that says a task found {@code topic} re-created; it holds the new topic id. */
    private static Path announcement(Path root, String topic) {
        return root.resolve(WORK).resolve("recreated").resolve(topic);
    }

    /** Says that {@code topic} was found re-created, so that tasks holding its other partitions look now. */
    static void announce(Path root, String topic, String newTopicId) {
        // Its existence and time are what count, so it is written in place: a temporary sibling's
        // longer name would not fit beside a topic name of Kafka's longest.
        Path file = announcement(root, topic);
        try {
            Files.createDirectories(file.getParent());
            Files.writeString(file, newTopicId + "\n");
        } catch (IOException e) {
            log.warn("Cannot write {} ({}): other tasks notice the re-created topic {} at their next check",
                    announcement(root, topic), e.getMessage(), topic);
        }
    }

    /** Whether a task announced {@code topic} re-created and the move is not made yet. */
    static boolean announced(Path root, String topic) {
        return Files.exists(announcement(root, topic));
    }

    /**
     * Whether a task announced {@code topic} re-created after {@code sinceMillis} (a time of the
     * wall clock; the announcement's own is its file's): a task looks once per announcement, so a
     * stale one costs a file status call, not a request to the cluster.
     */
    static boolean announcedSince(Path root, String topic, long sinceMillis) {
        try {
            return Files.getLastModifiedTime(announcement(root, topic)).toMillis() >= sinceMillis;
        } catch (IOException gone) {
            return false;
        }
    }

    /** Withdraws the announcement of {@code topic} (the move is made, or the store holds the topic as it is). */
    static void withdrawAnnouncement(Path root, String topic) {
        try {
            Files.deleteIfExists(announcement(root, topic));
        } catch (IOException e) {
            log.debug("Cannot remove {}: {}", announcement(root, topic), e.getMessage());
        }
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

    /**
     * Waits, until {@code deadline} ({@link System#nanoTime()}), for a move that another task is
     * making, and finishes one that a crash interrupted between its two renames.
     */
    static void awaitMove(Path root, String topic, long deadline) {
        try (FileLocks.Held guard = guard(root, deadline)) {
            finishInterrupted(root, topic);
        } catch (InterruptedIOException e) {
            Thread.currentThread().interrupt();
            throw new ConnectException("Interrupted while waiting for a new generation of a store to start", e);
        } catch (FileLocks.BusyException e) {
            throw new StillHeld("A new generation of a store in " + root + " has been starting for too long ("
                    + e.getMessage() + ")", e);
        } catch (IOException e) {
            throw new ConnectException("Cannot finish starting the new generation of " + root.resolve(topic) + ": "
                    + e.getMessage(), e);
        }
    }

    /** Takes the guard (creating the archive root, which a first store creates, when missing). */
    private static FileLocks.Held guard(Path root, long deadline) throws IOException {
        Files.createDirectories(root);
        return FileLocks.lock(FileOpener.DEFAULT, root.resolve(GUARD), deadline);
    }

    /** Under the guard: renames a staged generation into place when the move stopped between its renames. */
    private static void finishInterrupted(Path root, String topic) throws IOException {
        Path staged = staged(root, topic);
        if (!Files.exists(staged)) {
            return;
        }
        Path dir = ArchivePaths.storeDirectory(root, topic);
        if (Files.exists(dir)) {
            // Stopped before the old store moved: it is still the topic's, and the move starts over.
            try (var files = Files.list(staged)) {
                for (Path file : files.toList()) {
                    Files.delete(file);
                }
            }
            Files.delete(staged);
            return;
        }
        Files.move(staged, dir, StandardCopyOption.ATOMIC_MOVE);
        Directories.fsync(root);
        withdrawAnnouncement(root, topic);
        log.warn("Finished starting the new generation of {}, which a stop had interrupted", dir);
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
     * @throws StillHeld       when other writers still hold partitions of the old store after {@code wait}
     * @throws ConnectException when the move cannot be made: what to do is in the message
     */
    static Path startNew(Path root, String topic, String oldTopicId, TopicMetadata now, Duration wait) {
        Path dir = ArchivePaths.storeDirectory(root, topic);
        long deadline = System.nanoTime() + wait.toNanos();
        try (FileLocks.Held guard = guard(root, deadline)) {
            finishInterrupted(root, topic);
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
            Path staged = staged(root, topic);
            Files.createDirectories(staged);
            now.withPreviousGeneration(previous.getFileName().toString()).write(staged);
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
            Files.move(staged, dir, StandardCopyOption.ATOMIC_MOVE);
            Directories.fsync(root);
            withdrawAnnouncement(root, topic);
            log.warn("Topic {} was deleted and re-created (topic id {} is now {}): what was archived of the old topic is "
                    + "kept in {}; the new topic is archived from its first offset into {}", topic, oldTopicId,
                    now.topicId(), previous, dir);
            return previous;
        } catch (FileLocks.BusyException e) {
            throw new StillHeld("another task holds " + root.resolve(GUARD) + ", starting a new generation of a "
                    + "store", e);
        } catch (StoreLockedException e) {
            throw new StillHeld(e.getMessage(), e);
        } catch (InterruptedIOException e) {
            Thread.currentThread().interrupt();
            throw new ConnectException("Interrupted while starting a new generation of " + dir, e);
        } catch (LogStoreException e) {
            throw new ConnectException("Topic " + topic + " was deleted and re-created (id " + oldTopicId + " is now "
                    + now.topicId() + "), and its archive " + dir + " cannot move aside to start a new generation: "
                    + e.getMessage(), e);
        } catch (IOException e) {
            throw new ConnectException("Cannot move " + dir + " aside to start a new generation of topic " + topic
                    + ": " + e.getMessage() + ". Fix the cause and restart the task; nothing archived is lost", e);
        }
    }
}
