package dev.logstore;

import java.time.Duration;
import java.util.Objects;

/**
 * When appended data is forced to disk ({@code fdatasync}). Whatever the policy,
 * {@link LogStore#flush()} and a clean {@link LogStore#close()} force everything, and sealed
 * segments are always forced before the next one starts.
 *
 * <ul>
 *   <li>{@link #always()}: every append returns only once its batch is on disk. Appenders on
 *       several threads share fsyncs (group commit).</li>
 *   <li>{@link #everyRecords(int)}: the append that brings the unforced count to N forces.</li>
 *   <li>{@link #interval(Duration)}: a background thread forces dirty partitions every T.</li>
 *   <li>{@link #onFlush()}: only explicit flushes, rolls and close force; fastest, and a crash
 *       may lose what the OS had not yet written back.</li>
 * </ul>
 * After a crash a partition always reopens as a clean prefix of what was appended: never a torn
 * or corrupt batch, never a hole.
 */
public final class Durability {

    /** The kind of policy. */
    public enum Mode { ALWAYS, EVERY_RECORDS, INTERVAL, ON_FLUSH }

    private final Mode mode;
    private final int records;
    private final Duration interval;

    private Durability(Mode mode, int records, Duration interval) {
        this.mode = mode;
        this.records = records;
        this.interval = interval;
    }

    public static Durability always() {
        return new Durability(Mode.ALWAYS, 1, null);
    }

    public static Durability everyRecords(int records) {
        if (records < 1) {
            throw new IllegalArgumentException("fsync every " + records + " records: the count must be at least 1");
        }
        return new Durability(Mode.EVERY_RECORDS, records, null);
    }

    public static Durability interval(Duration interval) {
        Objects.requireNonNull(interval, "interval");
        if (interval.isNegative() || interval.isZero()) {
            throw new IllegalArgumentException("fsync interval " + interval + " must be positive");
        }
        return new Durability(Mode.INTERVAL, 0, interval);
    }

    public static Durability onFlush() {
        return new Durability(Mode.ON_FLUSH, 0, null);
    }

    public Mode mode() {
        return mode;
    }

    /** For {@link Mode#EVERY_RECORDS}: the record count. */
    public int records() {
        return records;
    }

    /** For {@link Mode#INTERVAL}: the period. */
    public Duration interval() {
        return interval;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Durability d && mode == d.mode && records == d.records && Objects.equals(interval, d.interval);
    }

    @Override
    public int hashCode() {
        return Objects.hash(mode, records, interval);
    }

    @Override
    public String toString() {
        return switch (mode) {
            case ALWAYS -> "always";
            case EVERY_RECORDS -> "every " + records + " records";
            case INTERVAL -> "every " + interval.toMillis() + " ms";
            case ON_FLUSH -> "on flush";
        };
    }
}
