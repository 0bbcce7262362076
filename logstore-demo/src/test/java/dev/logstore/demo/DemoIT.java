package dev.logstore.demo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** The quickstart (bin/logstore demo) runs end to end: archive and replay identical, archive left to inspect. */
class DemoIT {

    @TempDir
    Path work;

    @Test
    void theDemoArchivesAndReplaysATopicIdentically() throws Exception {
        Path pluginPath = Path.of(System.getProperty("logstore.plugin.path"));
        assertTrue(Files.isDirectory(pluginPath), "the packaged plugin must be built first: " + pluginPath);
        Path archive = work.resolve("archive");
        PrintStream stdout = System.out;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        int code;
        try {
            System.setOut(new PrintStream(captured, true, StandardCharsets.UTF_8));
            code = new CommandLine(new Demo()).execute("--plugin-path", pluginPath.toString(), "--archive",
                    archive.toString(), "--records", "300");
        } finally {
            System.setOut(stdout);
        }
        String output = captured.toString(StandardCharsets.UTF_8);
        assertEquals(0, code, output + "\nKafka's and Connect's log: " + System.getProperty("logstore.demo.log"));
        assertTrue(output.contains("[7/7] The archive: " + archive.resolve("demo-orders")), output);
        assertTrue(output.contains("identical: 300 records in 3 partitions"), output);
        assertTrue(Files.exists(archive.resolve("demo-orders").resolve("partition-2")), "the archive is kept");
    }
}
