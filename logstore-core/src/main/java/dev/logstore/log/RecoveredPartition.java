package dev.logstore.log;

import dev.logstore.io.FileLocks;
import dev.logstore.segment.Segment;
import java.util.List;

/**
 * What {@link PartitionRecovery} hands the {@link PartitionWriter}: the partition's lock, its
 * writer epoch, the sealed segments and the new, empty active segment.
 *
 * @param active            the empty active segment; null after a quiet open, when the epoch is
 *                          not claimed yet either: the writer claims it and creates its segment at
 *                          its first write ({@code PartitionWriter.startEpoch})
 * @param manifestUnwritten true when the previous writer closed cleanly and recovery changed
 *                          nothing, so the partition is exactly what the newest manifest says until
 *                          this writer appends (its first manifest is written before its first
 *                          record)
 * @param previousSequence  after a quiet open, the sequence of the manifest of epoch
 *                          {@code epoch - 1} that the open read: the claim at the first write checks
 *                          that it is still the newest; -1 otherwise
 * @param reusable          after a quiet open, the base offset of the empty last segment the
 *                          previous writer closed cleanly, which the first write takes over; -1
 *                          when there is none (the first write creates a segment)
 * @param manifest          the epoch's first manifest, as recovery wrote it; null when it wrote none
 * @param listedAs          after a quiet open that listed the directory, the directory's stamp that
 *                          the listing saw, settled (see {@link CleanCloses}); null otherwise
 */
record RecoveredPartition(FileLocks.Held lock, int epoch, Manifests manifests, List<Segment> sealed, Segment active,
                          long startOffset, long nextOffset, boolean manifestUnwritten, long previousSequence,
                          long reusable, Manifest manifest, CleanCloses.DirectoryStamp listedAs) {
}
