package dev.logstore.record;

import java.util.Arrays;
import java.util.Objects;

/**
 * One record header: a non-null UTF-8 key and a nullable value. A record's headers are ordered
 * and the same key may appear more than once, as in Kafka.
 *
 * <p>The value array is not copied; callers must not modify it after handing it to the store.
 */
public record Header(String key, byte[] value) {

    public Header {
        Objects.requireNonNull(key, "header key must not be null (use an empty string)");
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Header h && key.equals(h.key) && Arrays.equals(value, h.value);
    }

    @Override
    public int hashCode() {
        return 31 * key.hashCode() + Arrays.hashCode(value);
    }

    @Override
    public String toString() {
        return "Header[" + key + "=" + (value == null ? "null" : value.length + " bytes") + "]";
    }
}
