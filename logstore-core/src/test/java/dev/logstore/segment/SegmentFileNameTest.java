package dev.logstore.segment;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** Segment file names: twenty digits, then the suffix; anything else is not a segment's file. */
class SegmentFileNameTest {

    @Test
    void namesRoundTripForEverySuffix() {
        for (String suffix : new String[] {Segment.LOG_SUFFIX, Segment.INDEX_SUFFIX, Segment.TIME_INDEX_SUFFIX}) {
            for (long base : new long[] {0, 1, 12345, 1L << 40, Long.MAX_VALUE}) {
                assertEquals(base, Segment.parseBaseOffset(Segment.fileName(base, suffix), suffix), base + suffix);
            }
        }
        assertEquals(7, Segment.parseBaseOffset("00000000000000000007.log"));
    }

    @Test
    void namesThatAreNotASegmentsFileParseToMinusOne() {
        String[] notSegments = {
            "0000000000000000007.log",        // nineteen digits
            "000000000000000000007.log",      // twenty-one
            "0000000000000000000x.log",       // not a digit
            "+0000000000000000007.log",       // a sign
            "-0000000000000000007.log",
            "99999999999999999999.log",       // past Long.MAX_VALUE
            "00000000000000000007.index",     // another suffix
            "00000000000000000007.log.tmp",
            "manifest.0000000001",
        };
        for (String name : notSegments) {
            assertEquals(-1, Segment.parseBaseOffset(name), name);
        }
        assertEquals(-1, Segment.parseBaseOffset("00000000000000000007.log", Segment.INDEX_SUFFIX));
        assertEquals(-1, Segment.parseBaseOffset("9223372036854775808.index", Segment.INDEX_SUFFIX));
    }
}
