package dev.logstore.segment;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The candidate queue that the caps on open files and on index memory share. */
class ClockQueueTest {

    private static final class Held extends ClockQueue.Entry {
        volatile boolean live = true;

        @Override
        boolean live() {
            return live;
        }
    }

    @Test
    void anEntryOfferedTwiceIsQueuedOnceAndCanBeQueuedAgainOncePolled() {
        ClockQueue<Held> queue = new ClockQueue<>();
        Held a = new Held();
        queue.offer(a);
        queue.offer(a);
        assertEquals(1, queue.size());
        assertSame(a, queue.poll());
        assertNull(queue.poll(), "an entry offered twice came out twice");
        queue.offer(a);
        assertSame(a, queue.poll(), "a polled entry could not be offered back");
    }

    @Test
    void staleEntriesAreSweptOnceTheyOutnumberLiveOnes() {
        ClockQueue<Held> queue = new ClockQueue<>();
        List<Held> all = new ArrayList<>();
        for (int i = 0; i < 200; i++) {
            Held h = new Held();
            all.add(h);
            queue.offer(h);
        }
        for (int i = 0; i < 190; i++) {
            all.get(i).live = false;
        }
        queue.sweepIfStale(190); // not outnumbered yet: nothing happens
        assertEquals(200, queue.size());
        queue.sweepIfStale(10);
        assertEquals(10, queue.size(), "stale entries were kept");
        Set<Held> left = new HashSet<>();
        for (Held h; (h = queue.poll()) != null; ) {
            assertTrue(h.live, "a stale entry survived the sweep");
            left.add(h);
        }
        assertEquals(Set.copyOf(all.subList(190, 200)), left);
        Held swept = all.get(0);
        swept.live = true;
        queue.offer(swept);
        assertSame(swept, queue.poll(), "an entry swept out could not be queued again once live");
    }

    @Test
    void segmentFileNamesAreTheBaseOffsetPaddedToTwentyDigits() {
        assertEquals("00000000000000000000.log", Segment.fileName(0, Segment.LOG_SUFFIX));
        assertEquals("00000000000000012345.index", Segment.fileName(12345, Segment.INDEX_SUFFIX));
        assertEquals("09223372036854775807.log", Segment.fileName(Long.MAX_VALUE, Segment.LOG_SUFFIX));
        assertEquals(12345, Segment.parseBaseOffset(Segment.fileName(12345, Segment.LOG_SUFFIX)));
        assertThrows(IllegalArgumentException.class, () -> Segment.fileName(-1, Segment.LOG_SUFFIX));
    }
}
