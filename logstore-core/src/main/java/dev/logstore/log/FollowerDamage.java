package dev.logstore.log;

import dev.logstore.CorruptLogException;
import java.nio.file.Path;

/**
 * For a read-only log following a writer: where its valid data stops because the bytes there are
 * wrong (not merely not written yet), and since when they have looked wrong. Readers get the
 * valid data first and then the damage as a {@link CorruptLogException}.
 */
final class FollowerDamage {

    /** Where a followed log stops being valid, and why. */
    private record Damage(Path file, long position, String reason) {
    }

    private Path suspectFile;
    private long suspectPosition = -1;
    private long suspectSinceNanos;
    private volatile Damage damage;

    /**
     * Notes that the bytes at this file and position look wrong (null file: nothing does) and
     * returns for how long (ns) they have; clears any recorded damage when they no longer do.
     * Called under the log's refresh lock.
     */
    long suspect(Path file, long position) {
        long now = System.nanoTime();
        if (file == null) {
            suspectFile = null;
            suspectPosition = -1;
            damage = null;
            return 0;
        }
        if (!file.equals(suspectFile) || position != suspectPosition) {
            suspectFile = file;
            suspectPosition = position;
            suspectSinceNanos = now;
        }
        return now - suspectSinceNanos;
    }

    void record(Path file, long position, String reason) {
        damage = new Damage(file, position, reason);
    }

    /** Throws the recorded damage, if any. */
    void check() {
        Damage found = damage;
        if (found != null) {
            throw new CorruptLogException(found.file(), found.position(), found.reason());
        }
    }
}
