package dev.logstore.log;

import dev.logstore.CorruptionPolicy;
import dev.logstore.Durability;
import dev.logstore.KeyProvider;
import dev.logstore.io.FileOpener;
import dev.logstore.segment.IndexMemory;
import dev.logstore.segment.OpenFiles;
import dev.logstore.segment.Segment;
import java.io.IOException;
import java.nio.file.Path;

/**
 * Settings of one partition log, as resolved by the store's builder.
 *
 * @param segmentBytes       roll to a new segment before one would grow past this
 * @param segmentMillis      roll a non-empty segment this long after its first append
 * @param indexIntervalBytes bytes between two offset index entries
 * @param durability         when appends are forced to disk
 * @param retentionMillis    delete sealed segments whose newest record is older; -1 keeps all
 * @param retentionBytes     delete the oldest sealed segments while the partition is larger; -1 keeps all
 * @param corruptionPolicy   what to do with damaged data found on open
 * @param opener             how files are opened (a seam for fault injection)
 * @param encoders           the store's batch encoders, shared by its partitions
 * @param keys               the keys that decrypt encrypted batches; null for none
 * @param openFiles          the cap on open segment files this store counts against
 * @param indexMemory        the cap on sealed segments' index memory this store counts against
 * @param mappedAppends      copy small batches into a memory map of the active segment rather
 *                           than writing each with a system call (see {@code SegmentFile})
 * @param cleanCloses        the store's record of where a close left each active segment
 */
public record LogConfig(long segmentBytes, long segmentMillis, int indexIntervalBytes, Durability durability,
                        long retentionMillis, long retentionBytes, CorruptionPolicy corruptionPolicy,
                        FileOpener opener, Encoders encoders, KeyProvider keys, OpenFiles openFiles,
                        IndexMemory indexMemory, boolean mappedAppends, CleanCloses cleanCloses) {

    /** An existing segment of this log, to read; see {@link Segment#open}. */
    Segment openSegment(Path dir, long baseOffset, int epoch, long createdMillis, boolean maintainsIndexFiles) {
        return Segment.open(opener, openFiles, indexMemory, dir, baseOffset, epoch, null, createdMillis,
                indexIntervalBytes, maintainsIndexFiles);
    }

    /** A new, empty active segment of this log; see {@link Segment#create}. */
    Segment createSegment(Path dir, long baseOffset, int epoch) throws IOException {
        return Segment.create(opener, openFiles, indexMemory, dir, baseOffset, epoch, indexIntervalBytes, mappedAppends);
    }

    /** The empty file of a cleanly closed segment, taken over as the new active one; see {@link Segment#takeOver}. */
    Segment takeOverSegment(Path dir, long baseOffset, int epoch) throws IOException {
        return Segment.takeOver(opener, openFiles, indexMemory, dir, baseOffset, epoch, indexIntervalBytes, mappedAppends);
    }
}
