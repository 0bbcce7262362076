package dev.logstore.record;

import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * A record read back from a partition, with the offset it was stored at.
 *
 * <p>Arrays are fresh copies owned by the caller.
 */
public record LogRecord(long offset, long timestamp, byte[] key, byte[] value, List<Header> headers) {

    public LogRecord {
        headers = headers == null ? List.of() : headers;
    }

    /** The record as it was appended, without its offset. */
    public Record record() {
        return new Record(key, value, headers, timestamp);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof LogRecord r
                && offset == r.offset
                && timestamp == r.timestamp
                && Arrays.equals(key, r.key)
                && Arrays.equals(value, r.value)
                && headers.equals(r.headers);
    }

    @Override
    public int hashCode() {
        return Objects.hash(offset, Arrays.hashCode(key), Arrays.hashCode(value), headers, timestamp);
    }

    @Override
    public String toString() {
        return "LogRecord[offset=" + offset + ", key=" + Record.describe(key) + ", value="
                + Record.describe(value) + ", headers=" + headers.size() + ", timestamp=" + timestamp + "]";
    }
}
