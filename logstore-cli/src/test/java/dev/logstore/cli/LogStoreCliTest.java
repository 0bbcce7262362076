package dev.logstore.cli;

import static dev.logstore.cli.CliRuns.run;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.logstore.LogStore;
import dev.logstore.cli.CliRuns.Run;
import dev.logstore.record.Header;
import dev.logstore.record.Record;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.RandomAccessFile;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LogStoreCliTest {

    @TempDir
    Path root;

    private Path orders;

    @BeforeEach
    void archive() {
        orders = root.resolve("orders");
        try (LogStore store = LogStore.builder(orders).partitions(2).segmentBytes(2048).open()) {
            for (int i = 0; i < 60; i++) {
                store.append(i % 2, List.of(new Record(("k" + i).getBytes(UTF_8), ("v" + i).getBytes(UTF_8),
                        List.of(new Header("h", "x".getBytes(UTF_8))), 1_700_000_000_000L + i)));
            }
            store.append(0, List.of(new Record(null, new byte[] {(byte) 0xff, 0}, List.of(), 1_700_000_001_000L)));
        }
        LogStore.open(root.resolve("audit"), 1).close();
    }

    @Test
    void statsListsEveryStoreAndPartition() {
        Run run = run("stats", root.toString());
        assertEquals(0, run.code(), run.err());
        String[] lines = run.out().split("\n");
        assertEquals(5, lines.length, run.out());
        assertTrue(lines[1].trim().matches("audit\\s+0\\s+0\\s+0\\s+0\\s+0\\s+-\\s+0\\s+-\\s+-"), lines[1]); // never written: no segment
        assertTrue(lines[2].trim().matches("orders\\s+0\\s+0\\s+31\\s+\\d+\\s+\\d+\\s+\\d+\\.\\dx\\s+\\d+\\s+"
                + "2023-11-14T22:13:20Z\\s+2023-11-14T22:13:21Z"), lines[2]);
        assertTrue(lines[4].startsWith("total "), lines[4]);
    }

    @Test
    void dumpPrintsJsonFromAnOffsetWithALimitAndKeepsBinaryBytes() {
        Run run = run("dump", orders.toString(), "-p", "0", "--from-offset", "29", "--format", "json");
        assertEquals(0, run.code(), run.err());
        String[] lines = run.out().split("\n");
        assertEquals(2, lines.length, run.out());
        assertEquals("{\"store\":\"orders\",\"partition\":0,\"offset\":29,\"timestamp\":1700000000058,\"key\":\"k58\","
                + "\"value\":\"v58\",\"headers\":[{\"key\":\"h\",\"value\":\"x\"}]}", lines[0]);
        assertTrue(lines[1].contains("\"key\":null,\"value\":\"base64:/wA=\""), lines[1]);

        Run text = run("dump", orders.toString(), "-n", "1");
        assertEquals("partition=0 offset=0 timestamp=2023-11-14T22:13:20Z key=k0 value=v0 headers=[h=x]\n"
                + "partition=1 offset=0 timestamp=2023-11-14T22:13:20.001Z key=k1 value=v1 headers=[h=x]\n", text.out());
    }

    @Test
    void verifyPassesACleanArchiveAndNamesFileAndPositionOfDamage() throws Exception {
        Run clean = run("verify", root.toString());
        assertEquals(0, clean.code(), clean.out() + clean.err());
        assertTrue(clean.out().contains("verified: no corruption"), clean.out());

        Path segment = orders.resolve("partition-1").resolve("00000000000000000000.log");
        try (RandomAccessFile file = new RandomAccessFile(segment.toFile(), "rw")) {
            file.seek(100);
            int b = file.read();
            file.seek(100);
            file.write(b ^ 0x20);
        }
        Run damaged = run("verify", orders.toString());
        assertEquals(1, damaged.code(), damaged.out());
        assertTrue(damaged.out().contains("CORRUPT " + segment + " at byte "), damaged.out());
        assertTrue(damaged.out().contains("verified: 1 corrupt place(s)"), damaged.out());
        assertTrue(damaged.out().contains("Offsets ") && damaged.out().contains("cannot be read past it"),
                "names the offsets the damage takes away: " + damaged.out());
        assertTrue(!damaged.out().contains("does not match its segment"), "no index warning for a damaged segment: "
                + damaged.out());

        // dump reports the damaged partition, prints the others whole, and exits 1.
        Run dump = run("dump", orders.toString());
        assertEquals(1, dump.code(), dump.err());
        assertTrue(dump.err().contains("partition 1"), dump.err());
        assertEquals(31, dump.out().lines().filter(line -> line.startsWith("partition=0 ")).count(),
                "partition 0 is dumped whole");
        Run stats = run("stats", root.toString());
        assertEquals(1, stats.code(), stats.err());
        assertTrue(stats.out().contains("DAMAGED") && stats.out().contains("audit"), "the other stores follow:\n"
                + stats.out());
    }

    /** A store kept inside a store (a sink's consumer-groups snapshots) is verified with the archive. */
    @Test
    void verifyChecksTheStoresKeptInsideAStore() throws Exception {
        Path groups = orders.resolve("consumer-groups");
        try (LogStore store = LogStore.open(groups, 1)) {
            store.append(0, List.of(new Record("g".getBytes(UTF_8), "1".getBytes(UTF_8), List.of(), 1L)));
        }
        Run clean = run("verify", root.toString());
        assertEquals(0, clean.code(), clean.out() + clean.err());
        assertTrue(clean.out().contains("OK " + groups), clean.out());

        Path segment = groups.resolve("partition-0").resolve("00000000000000000000.log");
        CliRuns.flip(segment, 30);
        for (Path given : new Path[] {root, orders}) {
            Run damaged = run("verify", given.toString());
            assertEquals(1, damaged.code(), damaged.out());
            assertTrue(damaged.out().contains("CORRUPT " + segment), damaged.out());
        }
    }

    @Test
    void wrongPathsAndPartitionsGetClearErrors() {
        Run missing = run("stats", root.resolve("nope").toString());
        assertEquals(2, missing.code());
        assertTrue(missing.err().contains("does not exist"), missing.err());
        Run notStore = run("dump", root.toString());
        assertEquals(2, notStore.code());
        assertTrue(notStore.err().contains("is not a LogStore store"), notStore.err());
        Run partition = run("dump", orders.toString(), "-p", "7");
        assertEquals(2, partition.code());
        assertTrue(partition.err().contains("there is no partition 7"), partition.err());
        Run help = run("--help");
        assertEquals(0, help.code());
        assertTrue(help.out().contains("verify") && help.out().contains("tail"), help.out());
    }

    @Test
    void appendFromStandardInputThenCatWritesTheValuesBack() throws Exception {
        Path notes = root.resolve("notes");
        InputStream stdin = System.in;
        PrintStream stdout = System.out;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        try {
            System.setIn(new ByteArrayInputStream("first\nsecond\nthird\n".getBytes(UTF_8)));
            Run appended = run("append", notes.toString(), "--partitions", "1", "-p", "0", "-k", "n");
            assertEquals(0, appended.code(), appended.err());
            assertEquals("0@0\n0@1\n0@2\n", appended.out());
            System.setOut(new PrintStream(captured, true, UTF_8));
            Run cat = run("cat", notes.toString(), "--from-offset", "1");
            assertEquals(0, cat.code(), cat.err());
        } finally {
            System.setIn(stdin);
            System.setOut(stdout);
        }
        assertEquals("second\nthird\n", captured.toString(UTF_8));

        // Bytes that are not UTF-8 are kept as they are.
        Path raw = root.resolve("raw");
        try {
            System.setIn(new ByteArrayInputStream(new byte[] {(byte) 0xff, (byte) 0xfe, '\n', 'o', 'k'}));
            Run appended = run("append", raw.toString(), "--partitions", "1", "-p", "0");
            assertEquals(0, appended.code(), appended.err());
        } finally {
            System.setIn(stdin);
        }
        try (LogStore store = LogStore.builder(raw).readOnly().open();
             dev.logstore.LogReader reader = store.reader(0)) {
            List<dev.logstore.record.LogRecord> records = reader.poll(10, 1 << 16);
            assertEquals(2, records.size());
            org.junit.jupiter.api.Assertions.assertArrayEquals(new byte[] {(byte) 0xff, (byte) 0xfe},
                    records.get(0).value());
            org.junit.jupiter.api.Assertions.assertArrayEquals("ok".getBytes(UTF_8), records.get(1).value());
        }
        Run refused = run("append", root.resolve("missing").toString(), "x");
        assertEquals(2, refused.code());
        assertTrue(refused.err().contains("--partitions"), refused.err());
    }

    @Test
    void everySubcommandHasHelpAndWrongNumbersOrPathsGetOneClearError() {
        for (String command : new String[] {"stats", "dump", "verify", "tail", "append", "cat"}) {
            Run help = run(command, "--help");
            assertEquals(0, help.code(), command + ": " + help.err());
            assertTrue(help.out().contains("Usage: logstore " + command), help.out());
        }
        String store = orders.toString();
        for (String[] args : new String[][] {{"dump", store, "-n", "-1"}, {"tail", store, "-n", "-3"},
                {"dump", store, "--from-offset", "-5"}, {"cat", store, "-p", "-1"}, {"tail", store, "--max-wait", "5x"},
                {"append", root.resolve("new").toString(), "--partitions", "-2", "x"}}) {
            Run wrong = run(args);
            assertEquals(2, wrong.code(), String.join(" ", args));
            assertEquals("", wrong.out(), String.join(" ", args));
            assertTrue(!wrong.err().contains("Usage:") && wrong.err().contains("--help"), wrong.err());
        }
        Run missing = run("stats", root.resolve("nonexistent").toString());
        assertEquals(2, missing.code());
        assertEquals("", missing.out(), "no table header before the error");
        assertTrue(missing.err().contains("does not exist"), missing.err());
        Run dumpMissing = run("tail", root.resolve("nonexistent").toString());
        assertTrue(dumpMissing.err().contains("does not exist"), dumpMissing.err());

        long start = System.nanoTime();
        Run waited = run("tail", store, "-f", "--max-wait", "300ms", "-n", "0");
        assertEquals(0, waited.code(), waited.err());
        assertTrue(System.nanoTime() - start >= 300_000_000L, "waited for new records until --max-wait");
    }

    @Test
    void salvageCopiesEveryIntactBatchAndNamesExactlyTheOffsetsLost() throws Exception {
        Path segment = orders.resolve("partition-1").resolve("00000000000000000000.log");
        try (RandomAccessFile file = new RandomAccessFile(segment.toFile(), "rw")) {
            file.seek(100);
            int b = file.read();
            file.seek(100);
            file.write(b ^ 0x20);
        }
        Path saved = root.resolve("saved");
        Run salvage = run("salvage", orders.toString(), saved.toString());
        assertEquals(1, salvage.code(), salvage.out() + salvage.err());
        java.util.regex.Matcher lost = java.util.regex.Pattern.compile("partition 1: lost offset (\\d+): .* at byte \\d+ of .*; intact again at byte \\d+")
                .matcher(salvage.out());
        assertTrue(lost.find(), salvage.out());
        long lostOffset = Long.parseLong(lost.group(1));
        assertTrue(!salvage.out().contains("partition 0: lost"), salvage.out());

        try (LogStore original = LogStore.builder(orders).readOnly().open();
             LogStore copy = LogStore.builder(saved).readOnly().open()) {
            try (dev.logstore.LogReader from = original.reader(0); dev.logstore.LogReader to = copy.reader(0)) {
                assertEquals(from.poll(1000, 1 << 20), to.poll(1000, 1 << 20), "partition 0 copied whole");
            }
            List<dev.logstore.record.LogRecord> kept;
            try (dev.logstore.LogReader to = copy.reader(1)) {
                kept = to.poll(1000, 1 << 20);
            }
            assertEquals(29, kept.size(), "every batch but the damaged one, those after it too");
            for (dev.logstore.record.LogRecord record : kept) {
                assertTrue(record.offset() != lostOffset);
                assertEquals("v" + (2 * record.offset() + 1), new String(record.value(), UTF_8), "same offsets, same "
                        + "records");
            }
        }
        Run again = run("salvage", orders.toString(), saved.toString());
        assertEquals(2, again.code(), "an existing target is refused");
    }

    @Test
    void appendRefusesASinksArchiveUnlessToldOtherwise() throws Exception {
        java.nio.file.Files.writeString(orders.resolve("sink-archive.properties"), "connector=archive\ntopic=orders\n");
        long before;
        try (LogStore store = LogStore.builder(orders).readOnly().open()) {
            before = store.nextOffset(0);
        }
        Run refused = run("append", orders.toString(), "-p", "0", "note");
        assertEquals(2, refused.code());
        assertTrue(refused.err().contains("sink connector") && refused.err().contains("--into-sink-archive"),
                refused.err());
        try (LogStore store = LogStore.builder(orders).readOnly().open()) {
            assertEquals(before, store.nextOffset(0), "nothing was appended");
        }
        Run forced = run("append", orders.toString(), "-p", "0", "--into-sink-archive", "note");
        assertEquals(0, forced.code(), forced.err());
        try (LogStore store = LogStore.builder(orders).readOnly().open()) {
            assertEquals(before + 1, store.nextOffset(0));
        }
    }

    @Test
    void tailFollowsRecordsAppendedByAnotherWriter() throws Exception {
        ExecutorService writer = Executors.newSingleThreadExecutor();
        try {
            Future<?> appending = writer.submit(() -> {
                Thread.sleep(500);
                try (LogStore store = LogStore.builder(orders).open()) {
                    store.append(1, List.of(Record.of(null, "late".getBytes(UTF_8), 1L)));
                }
                return null;
            });
            Run tail = run("tail", orders.toString(), "-p", "1", "-n", "2", "-f", "--max-wait", "PT3S");
            appending.get();
            assertEquals(0, tail.code(), tail.err());
            String[] lines = tail.out().split("\n");
            assertEquals(3, lines.length, tail.out());
            assertTrue(lines[0].contains("offset=28") && lines[1].contains("offset=29"), tail.out());
            assertTrue(lines[2].contains("offset=30") && lines[2].contains("value=late"), tail.out());
        } finally {
            writer.shutdownNow();
        }
    }

    /** An output stream whose reader went away, as a closed pipe or a full disk leaves standard output. */
    private static final class FailingOutput extends java.io.OutputStream {
        @Override
        public void write(int b) throws java.io.IOException {
            throw new java.io.IOException("Broken pipe");
        }
    }

    @Test
    void aFailedOutputIsAnErrorNotASuccess() {
        FailingOutput failing = new FailingOutput();
        StringWriter err = new StringWriter();
        int code = LogStoreCli.run(new PrintWriter(failing, true), new PrintWriter(err, true), "dump",
                orders.toString());
        assertEquals(2, code, err.toString());
        assertTrue(err.toString().contains("cannot write to standard output"), err.toString());

        PrintStream stdout = System.out;
        FailingOutput catOutput = new FailingOutput();
        Run cat;
        try {
            System.setOut(new PrintStream(catOutput, true, UTF_8));
            cat = run("cat", orders.toString(), "-p", "0");
        } finally {
            System.setOut(stdout);
        }
        assertEquals(2, cat.code(), cat.err());
        assertTrue(cat.err().contains("cannot write to standard output"), cat.err());
    }
}
