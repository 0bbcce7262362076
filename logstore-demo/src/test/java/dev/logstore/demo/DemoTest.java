package dev.logstore.demo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.logstore.LogStore;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** What the demo refuses, and how it reports a failure, before it starts anything. */
class DemoTest {

    @TempDir
    Path work;

    private final StringWriter err = new StringWriter();

    private int run(String... args) {
        CommandLine demo = Demo.command();
        demo.setErr(new PrintWriter(err, true));
        return demo.execute(args);
    }

    private Path plugin() throws Exception {
        return Files.createDirectories(work.resolve("plugin"));
    }

    @Test
    void anArchiveDirectoryHoldingOtherFilesIsRefusedAndKept() throws Exception {
        Path archive = Files.createDirectories(work.resolve("home"));
        Path precious = Files.writeString(archive.resolve("notes.txt"), "keep me");

        int code = run("--plugin-path", plugin().toString(), "--archive", archive.toString());

        assertEquals(2, code, err.toString());
        assertTrue(err.toString().contains("--archive " + archive + " holds " + precious
                + ", which is not a LogStore store"), err.toString());
        assertEquals("keep me", Files.readString(precious, StandardCharsets.UTF_8));
    }

    @Test
    void anArchiveThatIsAFileIsRefusedAndKept() throws Exception {
        Path file = Files.writeString(work.resolve("archive"), "keep me");

        int code = run("--plugin-path", plugin().toString(), "--archive", file.toString());

        assertEquals(2, code, err.toString());
        assertTrue(err.toString().contains("--archive " + file + " is a file"), err.toString());
        assertEquals("keep me", Files.readString(file, StandardCharsets.UTF_8));
    }

    @Test
    void invalidOptionsDeleteNothing() throws Exception {
        Path archive = work.resolve("archive");
        try (LogStore store = LogStore.open(archive.resolve("demo-orders"), 3)) {
            store.append(null, "order".getBytes(StandardCharsets.UTF_8));
        }

        int code = run("--plugin-path", work.resolve("no-plugin").toString(), "--archive", archive.toString());
        assertEquals(2, code, err.toString());
        assertTrue(err.toString().contains("--plugin-path " + work.resolve("no-plugin") + " is not a directory; "
                + "build the plugin package first"), err.toString());
        assertTrue(LogStore.isStore(archive.resolve("demo-orders")), "nothing is deleted before the options are valid");
    }

    @Test
    void partitionsAndRecordsMustBePositive() throws Exception {
        int code = run("--plugin-path", plugin().toString(), "--archive", work.resolve("a").toString(),
                "--partitions", "0");

        assertEquals(2, code, err.toString());
        assertTrue(err.toString().contains("--partitions and --records must be at least 1 (got 0 and 1000)"),
                err.toString());
        assertFalse(Files.exists(work.resolve("a")), "nothing is created for invalid options");
    }

    @Test
    void anUnreachableClusterLeavesThePreviousArchiveAsItWas() throws Exception {
        Path archive = work.resolve("archive");
        dev.logstore.LogStore.open(archive.resolve("demo-orders"), 1).close(); // an earlier run's store
        int code;
        try (java.net.ServerSocket closed = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            int port = closed.getLocalPort();
            closed.close(); // nothing listens there now
            code = run("--plugin-path", plugin().toString(), "--archive", archive.toString(), "--bootstrap-server",
                    "127.0.0.1:" + port);
        }
        assertEquals(1, code, err.toString());
        assertTrue(err.toString().contains("no Kafka broker answered"), err.toString());
        assertTrue(dev.logstore.LogStore.isStore(archive.resolve("demo-orders")), "the earlier run's archive is kept");
    }

    @Test
    void aFailureIsReportedAsWhatWentWrongAndWhy() throws Exception {
        Path notADirectory = Files.writeString(work.resolve("file"), "x");

        int code = run("--plugin-path", plugin().toString(), "--archive", notADirectory.resolve("archive").toString());

        assertEquals(1, code, err.toString());
        assertTrue(err.toString().startsWith("The demo failed: "), err.toString());
        assertTrue(err.toString().contains(notADirectory.toString()), err.toString());
        assertFalse(err.toString().contains("\tat "), "a message, not a stack trace: " + err);
    }
}
