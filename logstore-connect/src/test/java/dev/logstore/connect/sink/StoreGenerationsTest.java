package dev.logstore.connect.sink;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.logstore.LogStore;
import dev.logstore.connect.config.TopicMetadata;
import dev.logstore.record.Record;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.connect.errors.ConnectException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Moving a re-created topic's store aside to start a new generation: once, whole, and only when
 * no writer in any process holds a partition of it.
 */
class StoreGenerationsTest {

    private static final String OLD_ID = "AAAAAAAAAAAAAAAAAAAAAA";
    private static final String NEW_ID = "BBBBBBBBBBBBBBBBBBBBBB";

    @TempDir
    Path root;

    private Path archivedTopic() throws Exception {
        Path dir = root.resolve("orders");
        try (LogStore store = LogStore.open(dir, 2)) {
            for (int p = 0; p < 2; p++) {
                store.append(p, new long[] {10, 11}, List.of(Record.of(null, new byte[] {1}, 1), Record.of(null, new byte[] {2}, 2)));
            }
        }
        try (LogStore groups = LogStore.open(dir.resolve(GroupSnapshots.DIRECTORY), 2)) {
            groups.append(0, List.of(Record.of(new byte[] {7}, new byte[] {8}, 3)));
        }
        new TopicMetadata("orders", OLD_ID, 2, Map.of("cleanup.policy", "compact"), 1).write(dir);
        return dir;
    }

    private static TopicMetadata recreated() {
        return new TopicMetadata("orders", NEW_ID, 3, Map.of(), 2);
    }

    private static Process child(String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx128m", "-XX:TieredStopAtLevel=1", "-cp", System.getProperty("java.class.path"),
                Child.class.getName()));
        command.addAll(List.of(args));
        return new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT).start();
    }

    private static String firstLine(Process process) throws Exception {
        return new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8)).readLine();
    }

    @Test
    void theMoveWaitsForAWriterInAnotherProcessThenMovesTheStoreWhole() throws Exception {
        Path dir = archivedTopic();
        Process holder = child("hold", dir.toString(), "1");
        try {
            assertEquals("locked", firstLine(holder));
            CompletableFuture<Path> move = CompletableFuture.supplyAsync(
                    () -> StoreGenerations.startNew(root, "orders", OLD_ID, recreated(), Duration.ofSeconds(30)));
            Thread.sleep(1500);
            assertFalse(move.isDone(), "the move waits while another process writes partition 1");
            assertEquals(OLD_ID, TopicMetadata.read(dir).topicId(), "nothing moved yet");
            holder.destroyForcibly().waitFor();
            Path previous = move.get(30, TimeUnit.SECONDS);
            assertEquals(root.resolve("orders." + OLD_ID), previous);
        } finally {
            holder.destroyForcibly().waitFor();
        }
        Path previous = root.resolve("orders." + OLD_ID);
        try (LogStore old = LogStore.builder(previous).readOnly().open()) {
            assertEquals(12, old.nextOffset(0));
            assertEquals(12, old.nextOffset(1));
        }
        try (LogStore groups = LogStore.builder(previous.resolve(GroupSnapshots.DIRECTORY)).readOnly().open()) {
            assertEquals(1, groups.nextOffset(0), "the consumer groups' store moves with the archive");
        }
        assertEquals(OLD_ID, TopicMetadata.read(previous).topicId());
        TopicMetadata now = TopicMetadata.read(dir);
        assertEquals(NEW_ID, now.topicId());
        assertEquals("orders." + OLD_ID, now.previousGeneration());
        assertTrue(StoreGenerations.isNewGeneration(dir));
        assertFalse(LogStore.isStore(dir), "the new generation's store is created by the first task that opens it");
    }

    @Test
    void aWriterThatDoesNotLetGoHoldsTheMoveBackAndLeavesTheStoreAsItWas() throws Exception {
        Path dir = archivedTopic();
        Process holder = child("hold", dir.resolve(GroupSnapshots.DIRECTORY).toString(), "0");
        try {
            assertEquals("locked", firstLine(holder));
            StoreGenerations.StillHeld e = assertThrows(StoreGenerations.StillHeld.class,
                    () -> StoreGenerations.startNew(root, "orders", OLD_ID, recreated(), Duration.ofMillis(500)));
            assertTrue(e.getMessage().contains("another process"), e.getMessage());
        } finally {
            holder.destroyForcibly().waitFor();
        }
        assertEquals(OLD_ID, TopicMetadata.read(dir).topicId());
        assertFalse(Files.exists(root.resolve("orders." + OLD_ID)));
        try (LogStore store = LogStore.builder(dir).readOnly().open()) {
            assertEquals(12, store.nextOffset(1));
        }
    }

    /** Tasks in several processes find the same new id at once: one moves the store, the others find it moved. */
    @Test
    void tasksInSeveralProcessesMoveTheStoreOnce() throws Exception {
        Path dir = archivedTopic();
        List<Process> movers = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            movers.add(child("move", root.toString(), "orders", OLD_ID, NEW_ID));
        }
        Path here = StoreGenerations.startNew(root, "orders", OLD_ID, recreated(), Duration.ofSeconds(30));
        int moved = here == null ? 0 : 1;
        for (Process mover : movers) {
            String line = firstLine(mover);
            assertTrue(mover.waitFor(60, TimeUnit.SECONDS));
            assertTrue(line != null && (line.equals("moved") || line.equals("found moved")), String.valueOf(line));
            moved += line.equals("moved") ? 1 : 0;
        }
        assertEquals(1, moved, "exactly one task moves the store");
        try (var entries = Files.list(root)) {
            assertEquals(Set.of("orders", "orders." + OLD_ID, StoreGenerations.GUARD, StoreGenerations.WORK),
                    entries.map(p -> p.getFileName().toString()).collect(java.util.stream.Collectors.toSet()));
        }
        try (LogStore old = LogStore.builder(root.resolve("orders." + OLD_ID)).readOnly().open()) {
            assertEquals(12, old.nextOffset(0));
        }
        assertEquals(NEW_ID, TopicMetadata.read(dir).topicId());
        try (var staged = Files.list(root.resolve(StoreGenerations.WORK).resolve("next"))) {
            assertEquals(0, staged.count(), "nothing is left staged");
        }
    }

    /**
     * A store handle opened (owning nothing) just before another task moves the store finds its
     * partitions gone when it takes one: it fails, and writes nothing into the new generation
     * (the sink task then drops it and opens the store where it is now).
     */
    @Test
    void aHandleOpenedBeforeTheMoveWritesNothingIntoTheNewGeneration() throws Exception {
        Path dir = archivedTopic();
        try (LogStore stale = LogStore.builder(dir).partitions(3).growPartitions().ownedPartitions(Set.of()).open()) {
            assertEquals(root.resolve("orders." + OLD_ID),
                    StoreGenerations.startNew(root, "orders", OLD_ID, recreated(), Duration.ofSeconds(5)));
            assertThrows(dev.logstore.LogStoreException.class, () -> stale.own(1));
        }
        try (var files = Files.list(dir)) {
            assertEquals(List.of(TopicMetadata.FILE), files.map(f -> f.getFileName().toString()).sorted().toList());
        }
    }

    @Test
    void aPreviousGenerationOfTheSameIdAlreadyThereIsRefused() throws Exception {
        Path dir = archivedTopic();
        Files.createDirectories(root.resolve("orders." + OLD_ID));
        ConnectException e = assertThrows(ConnectException.class,
                () -> StoreGenerations.startNew(root, "orders", OLD_ID, recreated(), Duration.ofSeconds(1)));
        assertTrue(e.getMessage().contains("exists already"), e.getMessage());
        assertEquals(OLD_ID, TopicMetadata.read(dir).topicId());
    }

    @Test
    void aStoreThatNoLongerHoldsTheOldTopicIsNotMoved() throws Exception {
        Path dir = archivedTopic();
        assertNull(StoreGenerations.startNew(root, "orders", "CCCCCCCCCCCCCCCCCCCCCC", recreated(), Duration.ofSeconds(1)));
        assertEquals(OLD_ID, TopicMetadata.read(dir).topicId());
    }

    @Test
    void aLongTopicNameKeepsItsPreviousGenerationWithinTheNameLimit() {
        String topic = "t".repeat(249);
        String name = StoreGenerations.previousName(new TopicMetadata(topic, OLD_ID, 1, Map.of(), 0));
        assertEquals(249, name.length());
        assertTrue(name.endsWith("." + OLD_ID));
    }

    /** Child process: "hold DIR P" holds partition P of the store DIR until killed; "move ROOT TOPIC OLD NEW" moves once. */
    public static final class Child {
        public static void main(String[] args) throws Exception {
            if (args[0].equals("hold")) {
                LogStore store = LogStore.builder(Path.of(args[1])).partitions(2)
                        .ownedPartitions(Set.of(Integer.parseInt(args[2]))).open();
                System.out.println("locked");
                System.out.flush();
                Thread.sleep(120_000);
                store.close();
            } else {
                Path moved = StoreGenerations.startNew(Path.of(args[1]), args[2], args[3],
                        new TopicMetadata(args[2], args[4], 3, Map.of(), 2), Duration.ofSeconds(30));
                System.out.println(moved == null ? "found moved" : "moved");
                System.out.flush();
            }
        }
    }
}
