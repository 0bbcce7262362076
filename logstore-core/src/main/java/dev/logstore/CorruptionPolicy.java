package dev.logstore;

/**
 * What opening a store does with damaged data: a sealed segment (one that was complete and forced
 * before the next began) that fails its checks while its index is rebuilt, or bad bytes inside the
 * active segment with an intact batch after them. A torn write at the end of the active segment
 * after a crash is not corruption: it is always truncated, since a crash only ever cuts the end
 * of sequential writes short and what it cut was never acknowledged as durable.
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
