package dev.logstore.log;

import dev.logstore.io.FileLocks;
import dev.logstore.segment.Segment;
import java.util.List;

/**
 * What {@link PartitionRecovery} hands the {@link PartitionWriter}: the partition's lock, the
 * writer epoch it claimed, the sealed segments and the new, empty active segment.
 */
record RecoveredPartition(FileLocks.Held lock, int epoch, Manifests manifests, List<Segment> sealed, Segment active,
                          long startOffset, long nextOffset) {
}
