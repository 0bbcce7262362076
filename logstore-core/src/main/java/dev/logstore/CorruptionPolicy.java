package dev.logstore;

/**
 * What opening a store does when a sealed segment (one that was complete and forced before the
 * next began) fails its checks while its index is rebuilt. Torn writes at the end of the active
 * segment after a crash are not corruption: they are always truncated, since they were never
 * acknowledged as durable.
 */
public enum CorruptionPolicy {
    /** Refuse to open, with a {@link CorruptLogException} naming file and position. The default. */
    FAIL,
    /**
     * Truncate the damaged segment at the first bad batch and delete every later segment, logging
     * what was removed, so the partition is again a clean prefix. Data after the damage is lost.
     */
    TRUNCATE
}
