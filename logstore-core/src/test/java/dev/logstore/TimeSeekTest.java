package dev.logstore;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.logstore.record.Record;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** seekToTimestamp against brute force: non-monotonic, missing and extreme timestamps, sparse and dense indexes, writer, follower and reopened views. */
class TimeSeekTest {

    @TempDir
    Path dir;

    private static long expected(List<Long> ts, long target) {
        for (int i = 0; i < ts.size(); i++) {
            if (ts.get(i) >= target) {
                return i;
            }
        }
        return ts.size();
    }

    private static long pick(Random r, long base) {
        switch (r.nextInt(12)) {
            case 0: return Long.MIN_VALUE;
            case 1: return -1;
            case 2: return base - r.nextInt(5000);
            default: return base + r.nextInt(100);
        }
    }

    private void check(LogStore store, List<Long> ts, String what) {
        TreeSet<Long> targets = new TreeSet<>();
        for (long t : ts) {
            targets.add(t);
            if (t > Long.MIN_VALUE) targets.add(t - 1);
            if (t < Long.MAX_VALUE) targets.add(t + 1);
        }
        targets.add(Long.MIN_VALUE);
        targets.add(Long.MAX_VALUE);
        targets.add(0L);
        try (LogReader reader = store.reader(0)) {
            for (long target : targets) {
                reader.seekToTimestamp(target);
                assertEquals(expected(ts, target), reader.position(), what + ": seek to " + target);
            }
        }
    }

    @Test
    void bruteForce() {
        for (int seed = 0; seed < 12; seed++) {
            Random r = new Random(seed);
            Path store = dir.resolve("s" + seed);
            int interval = 64 << r.nextInt(6);
            List<Long> ts = new ArrayList<>();
            try (LogStore w = LogStore.builder(store).partitions(1).segmentBytes(4096 << r.nextInt(3))
                    .indexIntervalBytes(interval).durability(Durability.onFlush()).open();
                 LogStore follower = LogStore.builder(store).readOnly().open()) {
                long base = 1_000_000;
                for (int b = 0; b < 300; b++) {
                    int n = 1 + r.nextInt(r.nextInt(10) == 0 ? 60 : 5);
                    List<Record> recs = new ArrayList<>();
                    int valueSize = r.nextInt(10) == 0 ? 3000 : r.nextInt(40);
                    for (int i = 0; i < n; i++) {
                        base += r.nextInt(30) - 5;
                        long t = pick(r, base);
                        ts.add(t);
                        recs.add(Record.of(null, new byte[valueSize], t));
                    }
                    w.append(0, recs);
                }
                w.flush();
                check(w, ts, "writer seed " + seed);
                check(follower, ts, "follower seed " + seed);
            }
            try (LogStore reopened = LogStore.builder(store).partitions(1).indexIntervalBytes(interval).open()) {
                check(reopened, ts, "reopened seed " + seed);
            }
            try (LogStore ro = LogStore.builder(store).readOnly().indexIntervalBytes(4096).open()) {
                check(ro, ts, "read-only other interval seed " + seed);
            }
        }
    }
}
