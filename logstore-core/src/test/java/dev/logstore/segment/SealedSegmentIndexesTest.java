package dev.logstore.segment;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.logstore.Durability;
import dev.logstore.LogStore;
import dev.logstore.index.IndexFiles;
import dev.logstore.io.FileOpener;
import dev.logstore.record.BatchHeader;
import dev.logstore.record.Record;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A reader may read the segment that was active in its snapshot up to that snapshot's end, even
 * after the segment was sealed. When the cap on index memory dropped the sealed segment's
 * indexes, such a reader's lookup must load them for the whole segment: never scan only up to its
 * older end, install those partial indexes as the segment's, or have the writer overwrite the
 * segment's index files with ones recording the wrong size.
 */
class SealedSegmentIndexesTest {

    @TempDir
    Path dir;

    private static final int INTERVAL = 64;

    /** One partition whose first segment is sealed with many batches; returns its directory. */
    private Path writeSealedSegment() {
        try (LogStore writer = LogStore.builder(dir).partitions(1).segmentBytes(64 * 1024).indexIntervalBytes(INTERVAL)
                .durability(Durability.onFlush()).open()) {
            for (int i = 0; writer.partitionInfo(0).segments() < 2; i++) {
                writer.append(0, List.of(Record.of(null, ("value-" + i).getBytes(StandardCharsets.UTF_8),
                        1_700_000_000_000L + i)));
            }
        }
        return dir.resolve(LogStore.partitionDirectoryName(0));
    }

    /** A batch boundary about a third into the segment: where a reader's snapshot ended before the roll. */
    private static long boundaryNear(Segment segment, long target, long size) throws Exception {
        long position = 0;
        while (position < target) {
            BatchHeader h = segment.headerAt(position, size);
            position += h.sizeInBytes();
        }
        return position;
    }

    /** The segment as the writer holds it: opened, its indexes in memory, then sealed at its full size. */
    private static Segment sealedWriterSegment(Path part, IndexMemory memory, long size) throws Exception {
        Segment segment = Segment.open(FileOpener.DEFAULT, new OpenFiles(8), memory, part, 0, 0, null, -1, INTERVAL,
                true);
        SegmentIndexes full = segment.indexes(size); // loaded from the files the roll wrote
        segment.seal(new SegmentSummary(size, full.nextOffset(), full.maxTimestamp()));
        return segment;
    }

    @Test
    void aReaderWithASnapshotFromBeforeTheRollLeavesTheSealedSegmentsIndexFilesAlone() throws Exception {
        Path part = writeSealedSegment();
        Segment probe = Segment.open(FileOpener.DEFAULT, new OpenFiles(8), new IndexMemory(1 << 20), part, 0, 0, null,
                -1, INTERVAL, false);
        long sealedSize = Files.size(probe.path());
        assertEquals(sealedSize, IndexFiles.recordedSegmentSize(probe.indexFile()), "the roll wrote matching files");
        long staleEnd = boundaryNear(probe, sealedSize / 3, sealedSize);

        IndexMemory memory = new IndexMemory(0); // the seal's count drops the indexes at once
        Segment segment = sealedWriterSegment(part, memory, sealedSize);
        assertEquals(0, memory.bytes());

        // The reader whose snapshot had the segment active with staleEnd bytes looks up an offset in it.
        long position = segment.positionOf(0, staleEnd);
        assertEquals(0, position);

        assertEquals(sealedSize, IndexFiles.recordedSegmentSize(segment.indexFile()),
                "the sealed segment's index files were rewritten for " + staleEnd + " bytes, not its " + sealedSize
                        + ": the next load of its indexes fails the size check and rescans the whole segment");
    }

    @Test
    void aReaderWithASnapshotFromBeforeTheRollLoadsIndexesForTheWholeSealedSegment() throws Exception {
        Path part = writeSealedSegment();
        Segment probe = Segment.open(FileOpener.DEFAULT, new OpenFiles(8), new IndexMemory(1 << 20), part, 0, 0, null,
                -1, INTERVAL, false);
        long sealedSize = Files.size(probe.path());
        long staleEnd = boundaryNear(probe, sealedSize / 3, sealedSize);

        // Room for one segment's indexes: loading another one drops this one.
        long one = probe.indexes(sealedSize).memoryBytes();
        IndexMemory memory = new IndexMemory(one + one / 2);
        Segment segment = sealedWriterSegment(part, memory, sealedSize);
        long sealedNext = segment.summary().nextOffset();
        Segment other = Segment.open(FileOpener.DEFAULT, new OpenFiles(8), memory, part, 0, 0, null, -1, INTERVAL,
                false);
        other.indexes(sealedSize);
        other.seal(segment.summary());
        assertTrue(memory.drops() > 0, "the cap dropped the sealed segment's indexes");

        segment.positionOf(0, staleEnd); // the reader with the older snapshot

        // Every later reader, with the sealed size, now gets indexes that end at staleEnd: a lookup
        // past it hops headers from there to the target instead of one index lookup.
        SegmentIndexes now = segment.indexes(sealedSize);
        assertEquals(sealedNext, now.nextOffset(), "the sealed segment's indexes cover only its first " + staleEnd
                + " of " + sealedSize + " bytes");
    }
}
