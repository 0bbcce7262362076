package dev.logstore.connect.source;

import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.connect.errors.ConnectException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What a replay does about records that archive retention removed before they were replayed:
 * fail the task naming the offsets gone, or skip them with a warning and count them. One policy
 * for a replay overtaken while running and for one that restarts below the archive's start.
 */
final class RemovedRecords {

    private static final Logger log = LoggerFactory.getLogger(RemovedRecords.class);

    private final boolean skip;
    private final AtomicLong skipped = new AtomicLong();

    RemovedRecords(boolean skip) {
        this.skip = skip;
    }

    /**
     * The replay of {@code unit} stood at {@code position}, but the archive now starts at
     * {@code start}: the offsets between were removed. Returns when they are to be skipped.
     *
     * @throws ConnectException when the policy is to fail
     */
    void onRemoved(StorePartition unit, long position, long start) {
        if (!skip) {
            throw new ConnectException(unit + ": archive retention removed offsets " + position + " to " + (start - 1)
                    + " before they were replayed, so the replay cannot go on without a hole. Replay from a copy of "
                    + "the archive that still holds them, or set " + LogStoreSourceConfig.ON_REMOVED_RECORDS
                    + "=skip to go on from offset " + start);
        }
        skipped.addAndGet(Math.max(0, start - position));
        log.warn("{}: archive retention removed offsets {} to {} before they were replayed; skipping them as {}=skip "
                + "asks", unit, position, start - 1, LogStoreSourceConfig.ON_REMOVED_RECORDS);
    }

    /** Offsets skipped so far (an upper bound on the records: offsets may have gaps). */
    long skipped() {
        return skipped.get();
    }
}
