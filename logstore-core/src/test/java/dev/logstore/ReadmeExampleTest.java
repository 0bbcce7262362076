package dev.logstore;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.logstore.record.LogRecord;
import dev.logstore.record.RecordDecoder;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Runs the example of README.md ("The storage engine"), line for line, and checks what it prints. */
class ReadmeExampleTest {

    @TempDir
    Path dir;

    @Test
    void theReadmeExamplePrintsPartitionFiveAndTheRecord() {
        ByteArrayOutputStream printed = new ByteArrayOutputStream();
        PrintStream out = new PrintStream(printed, true, UTF_8);
        Path logs = dir.resolve("logs");

        try (LogStore store = LogStore.open(logs, 10)) {
            AppendResult at = store.append("10084".getBytes(UTF_8), "Hello World!".getBytes(UTF_8));
            out.println(store.partitionInfo(5));

            ByteBuffer buffer = ByteBuffer.allocate(2024);
            store.read(at.partition(), 0, buffer);
            for (LogRecord record : RecordDecoder.decode(buffer.flip())) {
                out.println(new String(record.value(), UTF_8));
            }
        }

        String[] lines = printed.toString(UTF_8).split("\n");
        assertEquals(2, lines.length, printed.toString(UTF_8));
        assertTrue(lines[0].startsWith("PartitionInfo[partition=5, startOffset=0, nextOffset=1,"), "key 10084 hashes to partition 5: " + lines[0]);
        assertEquals("Hello World!", lines[1]);
    }
}
