package dev.logstore.cli;

import static dev.logstore.cli.CliRuns.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.logstore.LogStore;
import dev.logstore.cli.CliRuns.Run;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** groups and report refuse what they cannot do, before they reach any cluster, saying why. */
class RestoreCommandsTest {

    @TempDir
    Path dir;

    @Test
    void groupsWithoutSnapshotsOrOnAKeyHashArchiveIsRefusedSayingWhy() throws Exception {
        Path store = dir.resolve("orders");
        LogStore.open(store, 1).close();
        Run none = run("groups", "plan", store.toString(), "--target-topic", "orders.restored",
                "--bootstrap-server", "127.0.0.1:1");
        assertEquals(2, none.code(), none.out());
        assertTrue(none.err().contains("no consumer group snapshots") && none.err().contains("kafka.bootstrap.servers"),
                none.err());
        Files.writeString(store.resolve("sink-archive.properties"), "topic=orders\nmapping=key-hash\n");
        Run keyHash = run("groups", "apply", store.toString(), "--target-topic", "orders.restored",
                "--bootstrap-server", "127.0.0.1:1");
        assertEquals(2, keyHash.code(), keyHash.out());
        assertTrue(keyHash.err().contains("key-hash"), keyHash.err());
        Run report = run("report", store.toString(), "--bootstrap-server", "127.0.0.1:1");
        assertEquals(0, report.code(), report.err());
        assertTrue(report.out().contains("key-hash mapping") && report.out().contains("not compared"), report.out());
        Run badTime = run("groups", "plan", dir.resolve("missing").toString(), "--target-topic", "t",
                "--bootstrap-server", "127.0.0.1:1");
        assertEquals(2, badTime.code());
        assertTrue(badTime.err().contains("not a LogStore store"), badTime.err());
    }

    /** An archive of 10 records on partition 0 and one snapshot: group billing at 5, taken at t=1000. */
    private Path archiveWithASnapshot() {
        Path store = dir.resolve("snapshotted");
        try (LogStore archive = LogStore.builder(store).partitions(1).open()) {
            java.util.List<dev.logstore.record.Record> records = new java.util.ArrayList<>();
            for (int i = 0; i < 10; i++) {
                records.add(dev.logstore.record.Record.of(("k" + i).getBytes(), ("v" + i).getBytes(), 1000 + i));
            }
            archive.append(0, records);
        }
        try (LogStore snapshots = LogStore.builder(store.resolve("consumer-groups")).partitions(1).open()) {
            snapshots.append(0, java.util.List.of(dev.logstore.record.Record.of("billing".getBytes(), "5".getBytes(),
                    1000)));
        }
        return store;
    }

    /** --at before the first snapshot, or a --group the snapshots do not know: nothing to move, and said so. */
    @Test
    void applyWithNothingToMoveFailsSayingWhy() {
        Path store = archiveWithASnapshot();
        Run early = run("groups", "apply", store.toString(), "--target-topic", "orders.restored",
                "--bootstrap-server", "127.0.0.1:1", "--at", "999");
        assertEquals(2, early.code(), early.out());
        assertTrue(early.err().contains("no consumer group has offsets") && early.err().contains("--at"), early.err());
        Run typo = run("groups", "apply", store.toString(), "--target-topic", "orders.restored",
                "--bootstrap-server", "127.0.0.1:1", "--group", "biling");
        assertEquals(2, typo.code(), typo.out());
        assertTrue(typo.err().contains("[biling]"), typo.err());
    }

    /** A cluster that does not answer is said so, naming it, within seconds rather than a minute. */
    @Test
    void anUnreachableClusterIsReportedNamingIt() {
        Path store = archiveWithASnapshot();
        long started = System.nanoTime();
        Run run = run("groups", "plan", store.toString(), "--target-topic", "orders.restored",
                "--bootstrap-server", "127.0.0.1:1");
        long seconds = (System.nanoTime() - started) / 1_000_000_000L;
        assertEquals(2, run.code(), run.out());
        assertTrue(run.err().contains("127.0.0.1:1"), run.err());
        assertTrue(seconds < 40, "took " + seconds + " s");
    }

    /** report says so too, for a store whose topic id the sink kept (it asks the cluster for the topic's id first). */
    @Test
    void reportOnAnUnreachableClusterSaysSoForAStoreWithItsTopicId() throws Exception {
        Path store = dir.resolve("kept");
        LogStore.open(store, 1).close();
        Files.writeString(store.resolve("sink-archive.properties"), "topic=orders\nmapping=kafka\n");
        Files.writeString(store.resolve("topic-metadata.properties"),
                "topic=orders\ntopic.id=AAAAAAAAAAAAAAAAAAAAAQ\npartitions=1\ncaptured.at.ms=1\n");
        long started = System.nanoTime();
        Run report = run("report", store.toString(), "--bootstrap-server", "127.0.0.1:1");
        long seconds = (System.nanoTime() - started) / 1_000_000_000L;
        assertEquals(2, report.code(), report.err());
        assertTrue(report.err().contains("no answer from the Kafka cluster at 127.0.0.1:1"), report.err());
        assertTrue(seconds < 40, "took " + seconds + " s");
    }
}
