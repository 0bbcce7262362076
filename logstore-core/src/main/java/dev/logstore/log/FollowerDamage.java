package dev.logstore.log;

import java.nio.file.Path;

/**
 * For a read-only view following a writer: whether bytes that look wrong at the end of the
 * active segment are a write in progress or damage. A torn batch at the end is a write in
 * progress (or a crash the writer's recovery will cut). Bytes that are all there but wrong are
 * damage once they stay wrong past a grace period that no write in flight lasts. Used by the
 * follower's refresh only, under its lock.
 */
final class FollowerDamage {

    /** How long bytes may look wrong at a followed log's end before they count as corruption. */
    static final long GRACE_NANOS = java.util.concurrent.TimeUnit.SECONDS.toNanos(2);

    private Path suspectFile;
    private long suspectPosition = -1;
    private long suspectSinceNanos;

    /** Nothing looks wrong (any more). */
    void clear() {
        suspectFile = null;
        suspectPosition = -1;
    }

    /**
     * Notes that the bytes at this file and position look wrong and returns the damage once they
     * have for longer than the grace period, else null.
     */
    LogState.Damage suspect(Path file, long position, String reason) {
        long now = System.nanoTime();
        if (!file.equals(suspectFile) || position != suspectPosition) {
            suspectFile = file;
            suspectPosition = position;
            suspectSinceNanos = now;
        }
        return now - suspectSinceNanos > GRACE_NANOS ? new LogState.Damage(file, position, reason) : null;
    }
}
