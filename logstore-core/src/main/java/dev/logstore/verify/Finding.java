package dev.logstore.verify;

import java.nio.file.Path;

/**
 * One thing {@link StoreVerifier} found.
 *
 * @param severity  {@link Severity#CORRUPT} for damage, {@link Severity#WARNING} for what a live or
 *                  crashed writer leaves (a torn tail) or what opening repairs (a stale index)
 * @param file      the file concerned
 * @param position  byte position in that file, or -1
 * @param message   what is wrong
 */
public record Finding(Severity severity, Path file, long position, String message) {

    /** How bad a finding is. */
    public enum Severity { WARNING, CORRUPT }

    @Override
    public String toString() {
        return severity + " " + file + (position >= 0 ? " at byte " + position : "") + ": " + message;
    }
}
