package dev.logstore;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class PartitionerTest {

    @Test
    void murmur2MatchesKafkasReferenceValues() {
        // Reference values of Kafka's Utils.murmur2, so keys land where Kafka would put them.
        assertEquals(-973932308, Partitioner.murmur2("21".getBytes(StandardCharsets.UTF_8)));
        assertEquals(-790332482, Partitioner.murmur2("foobar".getBytes(StandardCharsets.UTF_8)));
        assertEquals(-985981536, Partitioner.murmur2("a-little-bit-long-string".getBytes(StandardCharsets.UTF_8)));
        assertEquals(-1486304829, Partitioner.murmur2("a-little-bit-longer-string".getBytes(StandardCharsets.UTF_8)));
        assertEquals(-58897971, Partitioner.murmur2(
                "lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8".getBytes(StandardCharsets.UTF_8)));
        assertEquals(479470107, Partitioner.murmur2("abc".getBytes(StandardCharsets.UTF_8)));
    }

    @Test
    void partitionIsThePositiveModulo() {
        byte[] key = "foobar".getBytes(StandardCharsets.UTF_8);
        assertEquals((-790332482 & 0x7fffffff) % 10, Partitioner.partition(key, 10));
        for (int n = 1; n < 50; n++) {
            int p = Partitioner.partition(key, n);
            assertEquals(true, p >= 0 && p < n, "partition " + p + " of " + n);
        }
    }
}
