package dev.logstore;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.logstore.record.LogRecord;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.io.TempDir;

/**
 * A child JVM appends and reports each acknowledged offset; the test kills it with SIGKILL at a
 * random moment, reopens the store and checks it, again and again on the same store.
 *
 * <p>With fsync on every batch, every acknowledged record must be there and intact. Without
 * fsync, a killed process still leaves its writes in the page cache, so the same holds; either
 * way the partition must be a clean prefix: consecutive offsets, every record exactly as written,
 * nothing torn or corrupt. With mapped appends the killed writer also leaves the zeros it reserved
 * past its data, which the reopen must cut without taking them for damage. (An operating-system crash, which loses the page cache, is the case
 * fsync exists for; it cannot be staged from a test.)
 *
 * <p>Kills per mode: {@code -Dlogstore.crash.kills=N} (default 20; the extended run uses 500:
 * {@code ./mvnw -pl logstore-core test -Dtest=CrashTest -Dlogstore.crash.kills=500}).
 */
class CrashTest {

    private static final int KILLS = Integer.getInteger("logstore.crash.kills", 20);

    @TempDir
    Path dir;

    @ParameterizedTest(name = "fsync={0}")
    @ValueSource(strings = {"always", "never", "mapped"})
    void everyAcknowledgedRecordSurvivesSigkillAndThePartitionStaysACleanPrefix(String fsync) throws Exception {
        Random random = new Random(fsync.hashCode());
        long acknowledged = -1;
        for (int kill = 0; kill < KILLS; kill++) {
            try (ChildProcess writer = new ChildProcess(CrashWriter.class, dir.toString(), fsync)) {
                int waitFor = 1 + random.nextInt(300);
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
                assertTrue(records.size() > acknowledged, "after kill " + (kill + 1) + ": " + records.size()
                        + " records, acknowledged up to offset " + acknowledged);
                for (int i = 0; i < records.size(); i++) {
                    assertEquals(i, records.get(i).offset(), "a clean prefix, no holes");
                    assertEquals(CrashWriter.record(i), records.get(i).record(), "record " + i + " intact");
                }
                assertEquals(records.size(), store.nextOffset(0));
            }
            assertEquals(List.of(), new dev.logstore.verify.StoreVerifier(done -> { }).verify(dir), "after kill " + (kill + 1)
                    + " and a clean close, the store verifies without findings");
        }
    }

    /**
     * Child process: appends numbered batches of 1 to 8 records to a store with small segments
     * (so kills land in rolls too), printing the last offset of each acknowledged batch.
     */
    public static final class CrashWriter {

        static dev.logstore.record.Record record(long n) {
            return TestRecords.numbered(n, 1_000 + n);
        }

        public static void main(String[] args) {
            boolean fsync = "always".equals(args[1]);
            try (LogStore store = LogStore.builder(Path.of(args[0])).partitions(1).segmentBytes(16 * 1024)
                    .durability(fsync ? Durability.always() : Durability.onFlush())
                    .mappedAppends("mapped".equals(args[1])).open()) {
                long next = store.nextOffset(0);
                Random random = new Random(next);
                while (true) {
                    int count = 1 + random.nextInt(8);
                    java.util.List<dev.logstore.record.Record> batch = new java.util.ArrayList<>();
                    for (int i = 0; i < count; i++) {
                        batch.add(record(next + i));
                    }
                    long last = store.append(0, batch).lastOffset();
                    System.out.println(last);
                    System.out.flush();
                    next = last + 1;
                }
            }
        }
    }
}
