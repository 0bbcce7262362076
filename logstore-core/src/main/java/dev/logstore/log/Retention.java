package dev.logstore.log;

import dev.logstore.segment.Segment;
import dev.logstore.segment.SegmentSummary;
import java.io.IOException;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;

/**
 * Which sealed segments retention removes: the oldest ones, while the partition holds more
 * bytes than the limit or their newest record is older than the age limit. Only whole sealed
 * segments go, oldest first, so what remains is always a suffix of the partition.
 *
 * @param millis age limit, -1 for none
 * @param bytes  size limit, -1 for none
 */
record Retention(long millis, long bytes) {

    /**
     * The oldest of the sealed segments {@code candidates} that retention removes at
     * {@code nowMillis}, oldest first; {@code otherBytes} are the partition's bytes outside them
     * (the active segment's).
     */
    List<Segment> expired(List<Segment> candidates, long otherBytes, long nowMillis) {
        List<Segment> expired = new ArrayList<>();
        long total = otherBytes;
        for (Segment segment : candidates) {
            total += segment.summary().size();
        }
        for (Segment segment : candidates) {
            SegmentSummary summary = segment.summary();
            boolean tooOld = millis >= 0 && newestTimestamp(segment) < nowMillis - millis;
            boolean tooBig = bytes >= 0 && total - summary.size() >= bytes;
            if (!tooOld && !tooBig) {
                break;
            }
            expired.add(segment);
            total -= summary.size();
        }
        return expired;
    }

    /** The segment's newest record timestamp, or, when its records carry none, when it was last written. */
    private static long newestTimestamp(Segment segment) {
        long max = segment.summary().maxTimestamp();
        if (max >= 0) {
            return max;
        }
        try {
            return Files.getLastModifiedTime(segment.path()).toMillis();
        } catch (IOException e) {
            return segment.createdMillis();
        }
    }
}
