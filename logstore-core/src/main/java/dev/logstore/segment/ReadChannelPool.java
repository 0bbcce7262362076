package dev.logstore.segment;

import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A cap on the read channels a store keeps open, so the descriptors it holds follow what is being
 * read, not how many segments exist. When a new read channel would pass the cap, the one opened
 * longest ago is closed. That is always safe: a reader whose channel is closed under it opens it
 * again and goes on (see {@link SegmentFile}); a segment read again soon costs one more open.
 */
public final class ReadChannelPool {

    private final int max;
    private final ConcurrentLinkedQueue<SegmentFile> opened = new ConcurrentLinkedQueue<>();
    private final AtomicInteger open = new AtomicInteger();

    /** A pool of at most {@code max} open read channels ({@code Integer.MAX_VALUE}: no cap). */
    public ReadChannelPool(int max) {
        if (max < 1) {
            throw new IllegalArgumentException("at least one read channel must be allowed, not " + max);
        }
        this.max = max;
    }

    /** Read channels open now. */
    public int open() {
        return open.get();
    }

    void opened(SegmentFile file) {
        opened.add(file);
        if (open.incrementAndGet() > max) {
            evict();
        }
    }

    void closed() {
        open.decrementAndGet();
    }

    private void evict() {
        while (open.get() > max) {
            SegmentFile oldest = opened.poll();
            if (oldest == null) {
                return;
            }
            oldest.closeReader(); // counts itself out when it had one open
        }
    }
}
