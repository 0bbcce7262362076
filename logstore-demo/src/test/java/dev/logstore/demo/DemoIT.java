package dev.logstore.demo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.logstore.LogStore;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** The quickstart (bin/logstore demo) runs end to end: archive and replay identical, archive left to inspect. */
class DemoIT {

    /** Warnings and errors from Kafka's and Connect's log quoted in a failure message, the most recent ones. */
    private static final int LOG_LINES = 40;

    @TempDir
    Path work;

    @Test
    void theDemoArchivesAndReplaysATopicIdentically() throws Exception {
        Path pluginPath = Path.of(System.getProperty("logstore.plugin.path"));
        assertTrue(Files.isDirectory(pluginPath), "the packaged plugin must be built first: " + pluginPath);
        Path archive = work.resolve("archive");
        try (LogStore earlier = LogStore.open(archive.resolve("orders-of-an-earlier-run"), 1)) {
            earlier.append(null, "old".getBytes(StandardCharsets.UTF_8));
        }
        PrintStream stdout = System.out;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        StringWriter errors = new StringWriter();
        int code;
        try {
            System.setOut(new PrintStream(captured, true, StandardCharsets.UTF_8));
            CommandLine demo = Demo.command();
            demo.setErr(new PrintWriter(errors, true));
            code = demo.execute("--plugin-path", pluginPath.toString(), "--archive", archive.toString(),
                    "--records", "300");
        } finally {
            System.setOut(stdout);
        }
        String output = captured.toString(StandardCharsets.UTF_8);
        assertEquals(0, code, () -> output + "\n" + errors + "\n" + logDigest());
        assertTrue(output.contains("[7/7] The archive: " + archive.resolve("demo-orders")), output);
        assertTrue(output.contains("identical: 300 records in 3 partitions"), output);
        assertTrue(Files.exists(archive.resolve("demo-orders").resolve("partition-2")), "the archive is kept");
        assertFalse(Files.exists(archive.resolve("orders-of-an-earlier-run")), "an earlier run's archive is emptied");
    }

    /** The log stays in target/ for a local look; CI shows only the test's output, so quote what matters. */
    private static String logDigest() {
        Path log = Path.of(System.getProperty("logstore.demo.log"));
        try {
            List<String> notable = Files.readAllLines(log, StandardCharsets.UTF_8).stream()
                    .filter(line -> line.contains(" WARN ") || line.contains(" ERROR "))
                    .map(line -> line.length() > 400 ? line.substring(0, 400) + " ..." : line)
                    .collect(Collectors.toList());
            List<String> last = notable.subList(Math.max(0, notable.size() - LOG_LINES), notable.size());
            return "Kafka's and Connect's log: " + log + "; its last " + last.size() + " of " + notable.size()
                    + " warnings and errors:\n" + String.join("\n", last);
        } catch (IOException e) {
            return "Kafka's and Connect's log " + log + " could not be read: " + e;
        }
    }
}
