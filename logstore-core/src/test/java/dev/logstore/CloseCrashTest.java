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
 * A store's close forces each partition, then writes one clean-close record for them all. A child
 * JVM appends to every partition, flushes, appends more, and closes; the test kills it with
 * SIGKILL at a random moment of that close (before any partition is forced, between the forces and
 * the record, while the record is written, after), again and again on the same store. Every
 * flushed record must be there, every partition a clean prefix, and the store must verify; the
 * next child opens whatever the record says or does not say.
 */
class CloseCrashTest {

    private static final int PARTITIONS = 12;
    private static final int ROUNDS = 15;

    @TempDir
    Path dir;

    @Test
    void aKillAtAnyMomentOfAStoreCloseLosesNothingFlushed() throws Exception {
        Random random = new Random(42);
        long[] flushed = new long[PARTITIONS];
        int killedMidClose = 0;
        for (int round = 0; round < ROUNDS; round++) {
            try (ChildProcess writer = new ChildProcess(ClosingWriter.class, dir.toString())) {
                String line;
                while ((line = writer.readLine()) != null && !line.equals("closing")) {
                    String[] flushedUpTo = line.split(" ");
                    flushed[Integer.parseInt(flushedUpTo[0])] = Long.parseLong(flushedUpTo[1]);
                }
                Thread.sleep(random.nextInt(60));
                if (!writer.hasPrinted("closed")) {
                    killedMidClose++;
                }
                writer.kill();
            }
            try (LogStore store = LogStore.builder(dir).partitions(PARTITIONS).open()) {
                for (int p = 0; p < PARTITIONS; p++) {
                    List<LogRecord> records = TestRecords.readAll(store, p);
                    assertTrue(records.size() >= flushed[p], "round " + round + ", partition " + p + ": "
                            + records.size() + " records, flushed " + flushed[p]);
                    for (int i = 0; i < records.size(); i++) {
                        assertEquals(i, records.get(i).offset(), "a clean prefix, no holes");
                        assertEquals(ClosingWriter.record(p, i), records.get(i).record(), "record " + i + " intact");
                    }
                }
            }
            assertEquals(List.of(), new dev.logstore.verify.StoreVerifier(done -> { }).verify(dir), "after round "
                    + round + " and a clean close, the store verifies without findings");
        }
        System.out.println("CloseCrashTest: " + killedMidClose + " of " + ROUNDS + " kills landed before the close ended");
        assertTrue(killedMidClose > 0, "some kills land inside the close");
    }

    /**
     * Child: appends a few records to every partition, flushes and prints each partition's
     * flushed end ("partition offset"), appends more, prints "closing" and closes the store.
     */
    public static final class ClosingWriter {

        static dev.logstore.record.Record record(int partition, long n) {
            return TestRecords.numbered(n, partition * 100_000L + n);
        }

        public static void main(String[] args) {
            LogStore store = LogStore.builder(Path.of(args[0])).partitions(PARTITIONS).segmentBytes(4096)
                    .durability(Durability.onFlush()).open();
            Random random = new Random();
            for (int p = 0; p < PARTITIONS; p++) {
                for (int i = random.nextInt(20); i >= 0; i--) {
                    long next = store.nextOffset(p);
                    store.append(p, next, List.of(record(p, next)));
                }
            }
            store.flush();
            for (int p = 0; p < PARTITIONS; p++) {
                System.out.println(p + " " + store.nextOffset(p));
            }
            for (int p = 0; p < PARTITIONS; p++) {
                for (int i = random.nextInt(20); i >= 0; i--) {
                    long next = store.nextOffset(p);
                    store.append(p, next, List.of(record(p, next)));
                }
            }
            System.out.println("closing");
            System.out.flush();
            store.close();
            System.out.println("closed");
            System.out.flush();
        }
    }
}
