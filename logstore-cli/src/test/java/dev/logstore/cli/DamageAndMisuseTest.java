package dev.logstore.cli;

import static dev.logstore.cli.CliRuns.flip;
import static dev.logstore.cli.CliRuns.run;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.logstore.LogStore;
import dev.logstore.cli.CliRuns.Run;
import dev.logstore.record.Record;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The CLI on damaged stores and misused paths: intact records before damage still come out, a
 * damaged partition or store does not stop the others, an archive directory is never turned into a
 * store, a refused append creates nothing, and salvage keeps a sink archive's marker.
 */
class DamageAndMisuseTest {

    @TempDir
    Path root;

    private Path store;

    /** Partition 0: ten one-record batches in a sealed segment, ten more in a second one; partition 1: five. */
    @BeforeEach
    void store() {
        store = root.resolve("s");
        for (int round = 0; round < 2; round++) {
            try (LogStore s = LogStore.builder(store).partitions(2).open()) {
                for (int i = 0; i < 10; i++) {
                    s.append(0, List.of(new Record(null, ("v" + (round * 10 + i)).getBytes(UTF_8), List.of(), 1L + i)));
                }
                if (round == 0) {
                    for (int i = 0; i < 5; i++) {
                        s.append(1, List.of(new Record(null, ("w" + i).getBytes(UTF_8), List.of(), 1L + i)));
                    }
                }
            }
        }
    }

    private Path segment(int partition, long base) {
        return store.resolve("partition-" + partition).resolve(String.format("%020d.log", base));
    }

    /** Byte position of the batch holding offset {@code n} (one record per batch, all of one size). */
    private long batchAt(Path segment, int n) throws Exception {
        return Files.size(segment) / 10 * n;
    }

    @Test
    void dumpPrintsTheIntactRecordsBeforeADamagedBatch() throws Exception {
        Path seg = segment(0, 0);
        flip(seg, batchAt(seg, 3) + 40); // inside the batch of offset 3
        Run dump = run("dump", store.toString(), "-p", "0");
        assertEquals(1, dump.code(), dump.err());
        assertTrue(dump.out().contains("offset=0 ") && dump.out().contains("offset=2 "),
                "offsets 0..2 are intact and come before the damage:\n" + dump.out() + dump.err());
        java.io.PrintStream stdout = System.out;
        java.io.ByteArrayOutputStream captured = new java.io.ByteArrayOutputStream();
        Run cat;
        try {
            System.setOut(new java.io.PrintStream(captured, true, UTF_8));
            cat = run("cat", store.toString(), "-p", "0", "--from-offset", "1");
        } finally {
            System.setOut(stdout);
        }
        assertEquals(1, cat.code(), "cat exits 1 at damage: " + cat.err());
        assertEquals("v1\nv2\n", captured.toString(UTF_8), "cat writes the intact values before the damage");
    }

    @Test
    void dumpAndStatsGoOnPastAPartitionWithAMissingSegment() throws Exception {
        Files.delete(segment(0, 0));
        Run dump = run("dump", store.toString());
        assertEquals(1, dump.code(), "dump exits 1 for a damaged partition, not 2:\n" + dump.err());
        assertTrue(dump.out().contains("partition=1 offset=4 "), "partition 1 is dumped whole:\n" + dump.out());
        Run stats = run("stats", store.toString());
        assertEquals(1, stats.code(), stats.err());
        assertTrue(stats.out().lines().anyMatch(l -> l.matches("s\\s+1\\s+0\\s+5\\s.*")), stats.out());
    }

    @Test
    void statsGoesOnPastAStoreWhoseMetadataIsDamaged() throws Exception {
        LogStore.open(root.resolve("a-bad"), 1).close();
        Files.writeString(root.resolve("a-bad").resolve("logstore.properties"), "garbage\n");
        Run stats = run("stats", root.toString());
        assertEquals(1, stats.code(), stats.err());
        assertTrue(stats.out().contains("\ns "), "the intact store s is listed:\n" + stats.out() + stats.err());
    }

    @Test
    void appendToAnArchiveRootDoesNotTurnItIntoAStore() throws Exception {
        Run append = run("append", root.toString(), "--partitions", "1", "oops");
        assertEquals(2, append.code(), "an archive root holding stores is not a store to create:\n" + append.out());
        assertFalse(LogStore.isStore(root));
        Run verify = run("verify", root.toString());
        assertTrue(verify.out().contains("OK " + store), "verify still checks the stores inside:\n" + verify.out());
    }

    @Test
    void aRefusedAppendCreatesNoStore() {
        Path fresh = root.resolve("fresh");
        Run append = run("append", fresh.toString(), "--partitions", "3", "-p", "7", "x");
        assertEquals(2, append.code(), append.err());
        assertFalse(Files.exists(fresh), "refused, yet the store was created");
    }

    @Test
    void salvageOfASinkArchiveKeepsItsMarker() throws Exception {
        Files.writeString(store.resolve("sink-archive.properties"), "connector=archive\ntopic=s\nmapping=kafka\n");
        Path copy = root.resolve("copy");
        assertEquals(0, run("salvage", store.toString(), copy.toString()).code());
        Run append = run("append", copy.toString(), "-p", "0", "note");
        assertEquals(2, append.code(), "the salvaged copy of a sink archive is appendable without --into-sink-archive");
    }

    /** An argument the locale could not decode (it holds U+FFFD) is refused, not stored changed. */
    @Test
    void anArgumentWithUndecodableBytesIsRefusedAndNothingIsWritten() {
        Run refused = run("append", store.toString(), "-p", "0", "price\uFFFD");
        assertEquals(2, refused.code(), refused.out());
        assertTrue(refused.err().contains("standard input"), refused.err());
        try (LogStore s = LogStore.builder(store).readOnly().open()) {
            assertEquals(20, s.nextOffset(0), "nothing was appended");
        }
    }

    /**
     * A salvage that lost records keeps the sink's marker but not its checkpoint, which would claim
     * the lost topic offsets as archived.
     */
    @Test
    void aSalvageThatLostRecordsLeavesTheSinksCheckpointBehind() throws Exception {
        Files.writeString(store.resolve("sink-archive.properties"), "connector=archive\ntopic=s\nmapping=key-hash\n");
        Files.writeString(store.resolve("sink-checkpoint.properties"), "0=20\n");
        Path seg = segment(0, 0);
        flip(seg, batchAt(seg, 3) + 40);
        Path copy = root.resolve("copy");
        Run salvage = run("salvage", store.toString(), copy.toString());
        assertEquals(1, salvage.code(), salvage.err());
        assertTrue(Files.exists(copy.resolve("sink-archive.properties")));
        assertFalse(Files.exists(copy.resolve("sink-checkpoint.properties")), "the checkpoint claims lost offsets");
        assertTrue(salvage.out().contains("not copied"), salvage.out());
    }
}
