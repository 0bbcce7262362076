package dev.logstore.demo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.logstore.LogStore;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** A second demo run accepts the archive the first one left: its stores and the replay plans the source keeps beside them. */
class DemoRerunTest {

    @TempDir
    Path work;

    @Test
    void theArchiveAnEarlierRunLeftIsAccepted() throws Exception {
        Path archive = work.resolve("demo-archive");
        LogStore.open(archive.resolve("demo-orders"), 3).close();
        // What the source connector of every completed run leaves (replay.plan.dir default).
        Path plans = Files.createDirectories(archive.resolve(".replay-plans"));
        Files.writeString(plans.resolve("demo-replay.properties"), "x=1\n");
        Files.createFile(plans.resolve("demo-replay.lock"));
        StringWriter err = new StringWriter();
        CommandLine demo = Demo.command();
        demo.setErr(new PrintWriter(err, true));
        int code;
        try (java.net.ServerSocket s = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            int port = s.getLocalPort();
            s.close();
            code = demo.execute("--plugin-path", Files.createDirectories(work.resolve("plugin")).toString(),
                    "--archive", archive.toString(), "--bootstrap-server", "127.0.0.1:" + port);
        }
        assertTrue(err.toString().contains("no Kafka broker answered"),
                "got past the archive check to the broker check:\n" + err);
        assertEquals(1, code, err.toString());
    }
}
