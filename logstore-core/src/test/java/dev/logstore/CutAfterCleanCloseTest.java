package dev.logstore;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.logstore.record.LogRecord;
import dev.logstore.record.Record;
import dev.logstore.verify.Finding;
import dev.logstore.verify.StoreVerifier;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A partition's last segment emptied or cut short behind the store's back after a clean close:
 * the bytes the close forced, and recorded in the clean-close record (or a clean manifest), are
 * gone. That is damage, not a crash's torn end: {@code verify} reports it, an open under
 * {@code FAIL} refuses the partition naming the file, and one under {@code TRUNCATE} cuts it back
 * to its last whole batch. Nothing is dropped without a word.
 */
class CutAfterCleanCloseTest {

    private static final int RECORDS = 30;

    @TempDir
    Path dir;

    private static Record record(long n) {
        return TestRecords.numbered(n, 1_000 + n);
    }

    @Test
    void aLastSegmentEmptiedOrCutAfterAStoreCloseIsReportedRefusedOrCutButNeverDroppedSilently() throws IOException {
        for (boolean emptied : new boolean[] {false, true}) {
            Path store = dir.resolve("emptied-" + emptied);
            try (LogStore s = LogStore.builder(store).partitions(2).open()) {
                for (int n = 0; n < RECORDS; n++) {
                    s.append(0, List.of(record(n)));
                    s.append(1, List.of(record(n)));
                }
            }
            Path last = lastLog(store.resolve("partition-0"));
            long size = Files.size(last);
            try (RandomAccessFile file = new RandomAccessFile(last.toFile(), "rw")) {
                file.setLength(emptied ? 0 : size - 10);
            }
            String what = emptied ? "emptied" : "cut";
            List<Finding> findings = new StoreVerifier(n -> { }).verify(store);
            assertTrue(findings.stream().anyMatch(f -> f.file().equals(last) && f.severity() == Finding.Severity.CORRUPT),
                    what + ": " + findings);

            CorruptLogException refused = assertThrows(CorruptLogException.class,
                    () -> LogStore.builder(store).partitions(2).open(), what);
            assertEquals(last, refused.file());
            assertTrue(refused.getMessage().contains("cut off"), refused.getMessage());
            assertEquals(emptied ? 0 : size - 10, Files.size(last), "the refused open changed nothing");

            try (LogStore s = LogStore.builder(store).partitions(2).corruptionPolicy(CorruptionPolicy.TRUNCATE).open()) {
                List<LogRecord> kept = TestRecords.readAll(s, 0);
                assertEquals(emptied ? 0 : RECORDS - 1, kept.size(), what + ": the whole batches before the cut");
                for (int i = 0; i < kept.size(); i++) {
                    assertEquals(record(i), kept.get(i).record());
                }
                assertEquals(RECORDS, s.nextOffset(1), "the other partition is untouched");
                assertEquals(kept.size(), s.append(0, List.of(record(kept.size()))).baseOffset());
            }
            assertEquals(List.of(), new StoreVerifier(n -> { }).verify(store).stream()
                    .filter(f -> f.severity() == Finding.Severity.CORRUPT).toList(), what + ": repaired");
        }
    }

    @Test
    void bytesAddedPastTheRecordedEndAreStillScannedAndNotRefused() throws IOException {
        try (LogStore s = LogStore.builder(dir).partitions(1).open()) {
            for (int n = 0; n < RECORDS; n++) {
                s.append(0, List.of(record(n)));
            }
        }
        Path last = lastLog(dir.resolve("partition-0"));
        Files.write(last, new byte[] {0, 0, 0, 0}, java.nio.file.StandardOpenOption.APPEND);
        try (LogStore s = LogStore.builder(dir).partitions(1).open()) {
            assertEquals(RECORDS, s.nextOffset(0));
            assertEquals(RECORDS, TestRecords.readAll(s, 0).size());
        }
    }

    private static Path lastLog(Path partition) throws IOException {
        try (Stream<Path> files = Files.list(partition)) {
            List<Path> logs = files.filter(f -> f.toString().endsWith(".log")).sorted().toList();
            return logs.get(logs.size() - 1);
        }
    }
}
