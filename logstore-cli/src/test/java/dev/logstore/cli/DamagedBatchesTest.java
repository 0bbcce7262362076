package dev.logstore.cli;

import static dev.logstore.cli.CliRuns.flip;
import static dev.logstore.cli.CliRuns.run;
import static dev.logstore.cli.CliRuns.runWithStdout;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.logstore.LogStore;
import dev.logstore.cli.CliRuns.Run;
import dev.logstore.record.Record;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The CLI reading damaged stores with multi-record batches: exactly the intact records before the
 * damage come out, with no repeat or gap; a missing segment file is damage for every reading
 * command (exit 1); a store that cannot be opened for another reason (a newer format) is not
 * called damaged; and an archive several levels down is never turned into a store by append.
 */
class DamagedBatchesTest {

    @TempDir
    Path root;

    /** One partition; {@code batches} batches of {@code perBatch} records each, values v0..; two segments (2 runs). */
    private Path multi(int batches, int perBatch) {
        Path store = root.resolve("m");
        int v = 0;
        for (int round = 0; round < 2; round++) {
            try (LogStore s = LogStore.builder(store).partitions(1).open()) {
                for (int b = 0; b < batches; b++) {
                    List<Record> batch = new ArrayList<>();
                    for (int i = 0; i < perBatch; i++) {
                        batch.add(new Record(null, String.format("v%03d", v++).getBytes(UTF_8), List.of(), 1L + v));
                    }
                    s.append(0, batch);
                }
            }
        }
        return store;
    }

    private static Path seg(Path store, long base) {
        return store.resolve("partition-0").resolve(String.format("%020d.log", base));
    }

    private static List<String> values(String dump) {
        List<String> vs = new ArrayList<>();
        for (String line : dump.split("\n")) {
            int i = line.indexOf("v0");
            if (i >= 0) {
                vs.add(line.substring(i, i + 4));
            }
        }
        return vs;
    }

    private static List<String> expected(int n) {
        List<String> vs = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            vs.add(String.format("v%03d", i));
        }
        return vs;
    }

    // ---- probes of pollUpToDamage (expected to hold) ----

    @Test
    void multiRecordBatchesCrcDamageInThirdBatch() throws Exception {
        Path store = multi(5, 4); // segment 0: batches of offsets 0-3, 4-7, 8-11, ...
        Path s0 = seg(store, 0);
        long size = Files.size(s0) / 5;
        flip(s0, size * 2 + 50); // inside batch 3 (offsets 8-11)
        Run dump = run("dump", store.toString());
        assertEquals(1, dump.code(), dump.err());
        assertEquals(expected(8), values(dump.out()), dump.out());
        Run limited = run("dump", store.toString(), "-n", "6");
        assertEquals(0, limited.code(), limited.err());
        assertEquals(expected(6), values(limited.out()));
        Run c = runWithStdout("cat", store.toString());
        assertEquals(1, c.code(), c.err());
        assertEquals(String.join("\n", expected(8)) + "\n", c.out());
        Run t = run("tail", store.toString(), "-n", "40");
        assertEquals(1, t.code(), t.err());
        assertEquals(expected(8), values(t.out()));
        Run inside = runWithStdout("cat", store.toString(), "--from-offset", "9");
        assertEquals(1, inside.code(), inside.err());
        assertEquals("", inside.out());
    }

    @Test
    void damageInTheVeryFirstBatchAndInTheHeaderLength() throws Exception {
        Path store = multi(5, 4);
        Path s0 = seg(store, 0);
        flip(s0, 9); // the first batch's length field
        Run dump = run("dump", store.toString());
        assertEquals(1, dump.code(), dump.out() + dump.err());
        assertEquals(List.of(), values(dump.out()));
        Run c = runWithStdout("cat", store.toString());
        assertEquals(1, c.code(), c.err());
        assertEquals("", c.out());
    }


    // ---- findings ----

    /** dump exits 1 (damage) for a missing segment file; cat and tail on the same partition exit 2. */
    @Test
    void aMissingSegmentFileIsDamageForEveryReadingCommand() throws Exception {
        Path store = multi(5, 4);
        Files.delete(seg(store, 0));
        Run dump = run("dump", store.toString());
        assertEquals(1, dump.code(), dump.err());
        Run c = runWithStdout("cat", store.toString());
        assertEquals(1, c.code(), "cat: same damage, same exit code as dump: " + c.err());
        Run t = run("tail", store.toString(), "-n", "40");
        assertEquals(1, t.code(), "tail: same damage, same exit code as dump: " + t.err());
    }

    /** A store of a newer format version is not damaged; stats calls it DAMAGED, exits 1 and points to salvage. */
    @Test
    void statsDoesNotCallAStoreOfANewerFormatDamaged() throws Exception {
        Path a = root.resolve("a");
        Path b = root.resolve("b");
        LogStore.open(a, 1).close();
        LogStore.open(b, 1).close();
        Path meta = b.resolve("logstore.properties");
        Files.writeString(meta, Files.readString(meta).replaceAll("format\\.version=\\d+", "format.version=99"));
        Run dump = run("dump", b.toString());
        assertEquals(2, dump.code(), dump.err());
        Run stats = run("stats", root.toString());
        assertFalse(stats.out().contains("DAMAGED") || stats.err().contains("salvage"),
                "a newer format is not damage:\n" + stats.out() + stats.err());
        assertEquals(dump.code(), stats.code(), "stats and dump disagree on the same store: " + stats.err());
    }

    /** The archive-root check looks one level deep: the parent of an archive root becomes a store that hides it. */
    @Test
    void appendRefusesTheParentOfAnArchiveRoot() throws Exception {
        Path outer = root.resolve("outer");
        Path topic = outer.resolve("archive").resolve("topic");
        LogStore.open(topic, 1).close();
        Run append = run("append", outer.toString(), "--partitions", "1", "oops");
        Run verify = run("verify", outer.toString());
        assertEquals(2, append.code(), "a directory holding an archive root is not a new store; verify now sees only "
                + "it, not " + topic + ":\n" + verify.out() + verify.err());
    }

}
