package dev.logstore.record;

import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * A record to append: key and value (both nullable; a null value is a tombstone), ordered
 * headers and a timestamp in milliseconds since the epoch ({@link #NO_TIMESTAMP} when unknown).
 *
 * <p>Arrays are not copied, so appending is allocation-free on the caller's side; do not modify
 * them after handing the record to the store.
 */
public record Record(byte[] key, byte[] value, List<Header> headers, long timestamp) {

    /** The timestamp of a record that has none, as in Kafka. */
    public static final long NO_TIMESTAMP = -1L;

    public Record {
        headers = headers == null ? List.of() : List.copyOf(headers);
    }

    /** A record without headers, stamped with the current wall-clock time. */
    public static Record of(byte[] key, byte[] value) {
        return new Record(key, value, List.of(), System.currentTimeMillis());
    }

    /** A record without headers and with the given timestamp. */
    public static Record of(byte[] key, byte[] value, long timestamp) {
        return new Record(key, value, List.of(), timestamp);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Record r
                && timestamp == r.timestamp
                && Arrays.equals(key, r.key)
                && Arrays.equals(value, r.value)
                && headers.equals(r.headers);
    }

    @Override
    public int hashCode() {
        return Objects.hash(Arrays.hashCode(key), Arrays.hashCode(value), headers, timestamp);
    }

    @Override
    public String toString() {
        return "Record[key=" + describe(key) + ", value=" + describe(value)
                + ", headers=" + headers.size() + ", timestamp=" + timestamp + "]";
    }

    static String describe(byte[] bytes) {
        return bytes == null ? "null" : bytes.length + " bytes";
    }
}
