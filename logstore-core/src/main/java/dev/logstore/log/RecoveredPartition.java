package dev.logstore.log;

import dev.logstore.io.FileLocks;
import dev.logstore.segment.Segment;
import java.util.List;

/**
 * What {@link PartitionRecovery} hands the {@link PartitionWriter}: the partition's lock, the
 * writer epoch it claimed, the sealed segments and the new, empty active segment.
 *
 * @param manifestUnwritten true when the epoch holds only its claim: the previous writer closed
 *                          cleanly and recovery changed nothing, so the partition is exactly what the
 *                          newest manifest says until this writer appends (its first manifest is
 *                          written before its first record)
 */
record RecoveredPartition(FileLocks.Held lock, int epoch, Manifests manifests, List<Segment> sealed, Segment active,
                          long startOffset, long nextOffset, boolean manifestUnwritten) {
}
