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
}
