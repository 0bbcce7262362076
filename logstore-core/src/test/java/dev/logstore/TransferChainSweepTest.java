package dev.logstore;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.logstore.record.BatchFormat;
import dev.logstore.record.Record;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.apache.commons.io.file.PathUtils;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * One header field of one batch damaged; a consumer streams the partition with
 * transfer then transfer(partition, previous, ...) through channels taking all, or a few bytes a
 * call, and decodes every batch it has whole with decodeWhole. Until the damage is reported (by
 * the store, or by the receiver's decoder) the bytes received must be exactly the partition's
 * bytes from its start (never back, never twice, never skipped); a chain that ends without any
 * report must have delivered every record.
 */
class TransferChainSweepTest {

    @TempDir
    Path root;

    private static final int BATCHES = 40;
    private static final int RECORDS = 4;

    private final List<Long> written = new ArrayList<>();

    private void write(Path dir, int gap) {
        written.clear();
        try (LogStore store = LogStore.builder(dir).partitions(1).segmentBytes(4096).indexIntervalBytes(600).open()) {
            long next = 0;
            for (int b = 0; b < BATCHES; b++) {
                List<Record> batch = new ArrayList<>();
                long[] offsets = new long[RECORDS];
                for (int r = 0; r < RECORDS; r++) {
                    offsets[r] = next + r;
                    written.add(next + r);
                    batch.add(TestRecords.named(next + r));
                }
                store.append(0, offsets, batch);
                next += RECORDS + gap;
            }
        }
    }

    /** Returns null when fine, else a description of the problem. */
    private String stream(LogStore store, byte[] original, int perCall, long maxBytes) {
        ByteArrayOutputStream received = new ByteArrayOutputStream();
        TransferReceiver receiver = new TransferReceiver();
        Transfer t = null;
        for (int call = 0; call < 50_000; call++) {
            int before = received.size();
            try {
                var channel = TransferPastIndexedDamageTest.PartialChannel.perCall(received, perCall);
                t = t == null ? store.transfer(0, 0, maxBytes, channel) : store.transfer(0, t, maxBytes, channel);
            } catch (CorruptLogException reported) {
                return null;
            } catch (RuntimeException e) {
                return "call " + call + " threw " + e;
            }
            byte[] got = received.toByteArray();
            // never back, twice or skipped: the bytes so far are the partition's bytes from its start
            boolean prefix = got.length <= original.length
                    && Arrays.equals(got, 0, got.length, original, 0, got.length);
            if (!receiver.decodeArrived(got)) {
                return null; // the receiver found it
            }
            if (!prefix) {
                return "STREAM: call " + call + " (" + t + "): the " + got.length + " bytes received are not the partition's bytes "
                        + "from its start (the receiver has found nothing wrong yet); decoded so far " + receiver.decoded.size();
            }
            if (t.bytes() == 0 && received.size() == before) {
                if (!receiver.decodedAll(got.length)) {
                    return null; // left-over bytes: the receiver knows
                }
                long storeNext = store.partitionInfo(0).nextOffset(); // recovery may have cut the last batch
                List<Long> expected = written.stream().filter(o -> o < storeNext).toList();
                if (!receiver.decoded.equals(expected)) {
                    List<Long> missing = new ArrayList<>(expected);
                    missing.removeAll(receiver.decoded);
                    return "SILENT LOSS: chain ended at " + t + " without a report; missing offsets " + missing;
                }
                return null;
            }
        }
        return "no end after 50000 calls (loop?) at " + t;
    }

    private interface Damage {
        void apply(RandomAccessFile f, long at) throws IOException;
    }

    @Test
    void everyStreamOfContinuationsIsTheStoredBytesUntilTheDamageIsReported() throws IOException {
        List<String> problems = new ArrayList<>();
        int caseNo = 0;
        for (int gap : new int[] {0, 3}) {
            Path pristine = root.resolve("pristine-" + gap);
            write(pristine, gap);
            List<Path> logs = TestFiles.segmentLogs(pristine.resolve("partition-0"));
            List<long[]> batches = new ArrayList<>(); // {segment, position}
            for (int s = 0; s < logs.size(); s++) {
                for (long p : TestFiles.batchPositions(logs.get(s))) {
                    batches.add(new long[] {s, p});
                }
            }
            int perSegment = TestFiles.batchPositions(logs.get(0)).size();
            int[] targets = {1, 5, perSegment - 1, perSegment, perSegment + 3, batches.size() - 1};
            List<String> names = new ArrayList<>();
            List<Damage> damages = new ArrayList<>();
            for (long d : new long[] {-RECORDS - gap, -1, 1, RECORDS + gap, 1000}) {
                names.add("baseOffset" + (d > 0 ? "+" : "") + d);
                damages.add((f, at) -> {
                    f.seek(at);
                    long v = f.readLong();
                    f.seek(at);
                    f.writeLong(Math.max(0, v + d));
                });
            }
            for (int d : new int[] {-100, -7, -1, 1, 7, 100}) {
                names.add("length" + (d > 0 ? "+" : "") + d);
                damages.add((f, at) -> {
                    f.seek(at + BatchFormat.LENGTH_OFFSET);
                    int v = f.readInt();
                    f.seek(at + BatchFormat.LENGTH_OFFSET);
                    f.writeInt(v + d);
                });
            }
            names.add("magic");
            damages.add((f, at) -> { f.seek(at + BatchFormat.MAGIC_OFFSET); f.writeByte(9); });
            names.add("crc");
            damages.add((f, at) -> { f.seek(at + BatchFormat.CRC_OFFSET); int v = f.readInt(); f.seek(at + BatchFormat.CRC_OFFSET); f.writeInt(v ^ 1); });
            for (int d : new int[] {-1, 1, 5}) {
                names.add("lastOffsetDelta" + d);
                damages.add((f, at) -> { f.seek(at + BatchFormat.LAST_OFFSET_DELTA_OFFSET); int v = f.readInt(); f.seek(at + BatchFormat.LAST_OFFSET_DELTA_OFFSET); f.writeInt(v + d); });
            }
            names.add("recordCount-1");
            damages.add((f, at) -> { f.seek(at + BatchFormat.RECORD_COUNT_OFFSET); int v = f.readInt(); f.seek(at + BatchFormat.RECORD_COUNT_OFFSET); f.writeInt(v - 1); });
            for (int k : targets) {
                for (int i = 0; i < damages.size(); i++) {
                    Path dir = root.resolve("case-" + caseNo++);
                    PathUtils.copyDirectory(pristine, dir);
                    long[] b = batches.get(k);
                    Path log = TestFiles.segmentLogs(dir.resolve("partition-0")).get((int) b[0]);
                    try (RandomAccessFile f = new RandomAccessFile(log.toFile(), "rw")) {
                        damages.get(i).apply(f, b[1]);
                    }
                    LogStore store;
                    try {
                        store = LogStore.builder(dir).partitions(1).segmentBytes(4096).indexIntervalBytes(600).open();
                    } catch (LogStoreException e) {
                        continue; // refused at open: reported
                    }
                    byte[] original = TestFiles.partitionBytes(dir.resolve("partition-0")); // after open: recovery may cut the active segment
                    try (store) {
                        for (int perCall : new int[] {0, 7, 100, 1000}) {
                            for (long maxBytes : new long[] {1, 700, 1 << 20}) {
                                String p = stream(store, original, perCall, maxBytes);
                                if (p != null) {
                                    problems.add("gap " + gap + ", batch " + k + " (segment " + b[0] + "), " + names.get(i)
                                            + ", channel " + perCall + ", maxBytes " + maxBytes + ": " + p);
                                }
                            }
                        }
                    }
                }
            }
        }
        problems.forEach(System.out::println);
        assertTrue(problems.isEmpty(), problems.size() + " problems, first: " + (problems.isEmpty() ? "" : problems.get(0)));
    }
}
