package dev.logstore;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.logstore.record.LogRecord;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A child JVM appends with fsync on every batch and reports each acknowledged offset; the test
 * kills it with SIGKILL at a random moment and reopens the store. Every acknowledged record must
 * be there and intact, and the partition must be a clean prefix.
 */
class CrashTest {

    private static final int KILLS = 5;

    @TempDir
    Path dir;

    @Test
    void everyAcknowledgedRecordSurvivesSigkill() throws Exception {
        Random random = new Random(11);
        long acknowledged = -1;
        for (int kill = 0; kill < KILLS; kill++) {
            try (ChildProcess writer = new ChildProcess(CrashWriter.class, dir.toString())) {
                int waitFor = 20 + random.nextInt(400);
                String line;
                int seen = 0;
                while (seen < waitFor && (line = writer.readLine()) != null) {
                    acknowledged = Long.parseLong(line);
                    seen++;
                }
                writer.kill();
            }
            try (LogStore store = LogStore.builder(dir).partitions(1).open()) {
                List<LogRecord> records = TestRecords.readAll(store, 0);
                assertTrue(records.size() > acknowledged, "after kill " + kill + ": " + records.size()
                        + " records, acknowledged up to offset " + acknowledged);
                for (int i = 0; i < records.size(); i++) {
                    assertEquals(i, records.get(i).offset());
                    assertEquals(CrashWriter.record(i), records.get(i).record(), "record " + i);
                }
            }
        }
    }

    /** Child process: appends numbered records with Durability.always() and prints each acknowledged offset. */
    public static final class CrashWriter {

        static dev.logstore.record.Record record(long n) {
            return TestRecords.numbered(n, 1_000 + n);
        }

        public static void main(String[] args) {
            try (LogStore store = LogStore.builder(Path.of(args[0])).partitions(1).segmentBytes(64 * 1024)
                    .durability(Durability.always()).open()) {
                long next = store.nextOffset(0);
                while (true) {
                    long offset = store.append(0, List.of(record(next))).baseOffset();
                    System.out.println(offset);
                    System.out.flush();
                    next++;
                }
            }
        }
    }
}
