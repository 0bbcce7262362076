package dev.logstore;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.logstore.record.LogRecord;
import dev.logstore.record.Record;
import dev.logstore.segment.Segment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A read-only view's look at the files (a refresh) racing its writer: the writer rolls and
 * retention removes segments between the view's reading of the manifest and its scan of the
 * active segment. Whatever was appended before the look began must be in what the look
 * publishes: a seek by timestamp or to the end is then exact, not behind.
 */
class ViewLookRacesTest {

    @TempDir
    Path dir;

    private static Record record(long n, int valueBytes) {
        byte[] value = new byte[valueBytes];
        Arrays.fill(value, (byte) n);
        return new Record(TestRecords.bytes("k" + n), value, List.of(), n * 10);
    }

    /** True for a read of segment 0 by a scan, not by the look's check for new bytes before it. */
    private static boolean scanReadingSegmentZero(Path path) {
        return path.getFileName().toString().equals(logName(0)) && HookedFiles.calledFrom("SegmentScanner", "scan")
                && !HookedFiles.calledFrom("SegmentScanner", "nothingWrittenAt");
    }

    private static String logName(long base) {
        return Segment.fileName(base, Segment.LOG_SUFFIX);
    }

    private static void assertReadsFromStart(LogStore view, long start, long end, int valueBytes) {
        List<LogRecord> read = new ArrayList<>();
        try (LogReader reader = view.reader(0)) {
            reader.seekToStart();
            for (List<LogRecord> batch; !(batch = reader.poll(100, 1 << 20)).isEmpty(); ) {
                read.addAll(batch);
            }
        }
        assertEquals(end - start, read.size(), "records from the start offset " + start);
        for (int i = 0; i < read.size(); i++) {
            assertEquals(start + i, read.get(i).offset());
            assertArrayEquals(record(start + i, valueBytes).value(), read.get(i).record().value());
        }
    }

    /**
     * The active segment the view's manifest names is gone when the view opens it: the writer
     * rolled past it and retention removed it meanwhile. The view reads the newer manifest in the
     * same look rather than publishing the removed segment as an empty end.
     */
    @Test
    void activeSegmentRemovedBeforeTheLookOpensItSendsTheLookToTheNewerManifest() throws Exception {
        int valueBytes = 700; // one record a segment
        HookedFiles viewFiles = new HookedFiles();
        try (LogStore writer = LogStore.builder(dir).partitions(1).segmentBytes(1024).retentionBytes(2048).open()) {
            writer.append(0, List.of(record(0, valueBytes)));
            try (LogStore view = LogStore.builder(dir).readOnly().fileOpener(viewFiles).open();
                 LogReader reader = view.reader(0)) {
                assertEquals(1, reader.seekToEnd().position());
                writer.append(0, List.of(record(1, valueBytes))); // rolls: segment 1 is active
                AtomicBoolean armed = new AtomicBoolean(true);
                AtomicBoolean removed = new AtomicBoolean();
                viewFiles.onOpen = path -> {
                    if (path.getFileName().toString().equals(logName(1)) && armed.getAndSet(false)) {
                        for (long n = 2; n < 6; n++) {
                            writer.append(0, List.of(record(n, valueBytes)));
                        }
                        writer.enforceRetention();
                        removed.set(!Files.exists(path));
                    }
                };

                long end = reader.seekToEnd().position();

                assertTrue(removed.get(), "retention removed segment 1 before the view opened it");
                assertEquals(writer.nextOffset(0), end, "the look ends where the writer did before it began");
                assertTrue(view.startOffset(0) > 1, "the view learned of the removal: " + view.startOffset(0));
                assertEquals(5, reader.seekToTimestamp(50).position());
                assertReadsFromStart(view, writer.startOffset(0), writer.nextOffset(0), valueBytes);
            }
        }
    }

    /**
     * Mapped appends: the view's scan runs towards the end of the zeros the writer reserved, and
     * the writer seals the segment meanwhile, cutting them off. What lies before the cut is whole
     * batches: the look reads them instead of publishing what it had before.
     */
    @Test
    void scanCutShortBySealingReadsUpToTheCut() throws Exception {
        int valueBytes = 1500; // two records a segment
        HookedFiles viewFiles = new HookedFiles();
        try (LogStore writer = LogStore.builder(dir).partitions(1).segmentBytes(4096).mappedAppends(true).open()) {
            writer.append(0, List.of(record(0, valueBytes)));
            Path segment = dir.resolve("partition-0").resolve(logName(0));
            try (LogStore view = LogStore.builder(dir).readOnly().fileOpener(viewFiles).open();
                 LogReader reader = view.reader(0)) {
                assertEquals(1, reader.seekToEnd().position());
                writer.append(0, List.of(record(1, valueBytes)));
                long reserved = Files.size(segment);
                AtomicBoolean armed = new AtomicBoolean(true);
                viewFiles.beforeRead = path -> {
                    if (scanReadingSegmentZero(path) && armed.getAndSet(false)) {
                        writer.append(0, List.of(record(2, valueBytes))); // does not fit: seals segment 0
                    }
                };

                long end = reader.seekToEnd().position();

                assertTrue(!armed.get(), "the writer sealed the segment during the view's scan");
                assertTrue(Files.size(segment) < reserved, "the seal cut the reserved zeros: " + reserved + " bytes "
                        + "before, " + Files.size(segment) + " after");
                assertTrue(end >= 2, "the look reads record 1, appended before it began; it ends at " + end);
                assertEquals(3, reader.seekToEnd().position());
                assertEquals(1, reader.seekToTimestamp(10).position());
                assertReadsFromStart(view, 0, 3, valueBytes);
            }
        }
    }

    /**
     * A writer hands over during the view's scan: it closes cleanly (with mapped appends, cutting
     * its reserved zeros under the scan), and a new writer's first append commits the manifest
     * of the next epoch, which seals the segment after record 1. Record 1 was appended before the
     * look began, and the manifest sealing it is complete before the look ends: the look reads
     * that manifest instead of keeping what it had.
     */
    @ParameterizedTest(name = "mapped appends: {0}")
    @ValueSource(booleans = {false, true})
    void aHandoverDuringTheScanSendsTheLookToTheNewWritersManifest(boolean mapped) throws Exception {
        HookedFiles viewFiles = new HookedFiles();
        AtomicReference<LogStore> writer = new AtomicReference<>(
                LogStore.builder(dir).partitions(1).mappedAppends(mapped).open());
        try {
            writer.get().append(0, List.of(record(0, 100)));
            try (LogStore view = LogStore.builder(dir).readOnly().fileOpener(viewFiles).open();
                 LogReader reader = view.reader(0)) {
                assertEquals(1, reader.seekToEnd().position());
                writer.get().append(0, List.of(record(1, 100)));
                AtomicBoolean armed = new AtomicBoolean(true);
                viewFiles.beforeRead = path -> {
                    if (scanReadingSegmentZero(path) && armed.getAndSet(false)) {
                        writer.get().close();
                        LogStore next = LogStore.builder(dir).partitions(1).mappedAppends(mapped).open();
                        writer.set(next);
                        next.append(0, List.of(record(2, 100)));
                    }
                };

                long end = reader.seekToEnd().position();

                assertTrue(!armed.get(), "the handover ran during the view's scan");
                assertEquals(3, end, "the look ends where the new writer's manifest and segment do");
                assertReadsFromStart(view, 0, 3, 100);
            }
        } finally {
            writer.get().close();
        }
    }
}
