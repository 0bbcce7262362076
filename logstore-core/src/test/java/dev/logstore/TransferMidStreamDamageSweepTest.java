package dev.logstore;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.logstore.record.BatchFormat;
import dev.logstore.record.Record;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.apache.commons.io.file.PathUtils;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Streams of transfer continuations over a partition with offset gaps, where one header field is
 * damaged in the middle of the stream: right after the call whose bytes completed batch k, the
 * field is damaged in batch k (the one just sent, before a gap: the batch a continuation does
 * not check again when it is unchanged), in batch k + 1, or (full sweep) in batch k + 2. The
 * stream then goes on by continuation, once with the {@code Transfer}s the store returned and
 * once with {@code Transfer}s the caller built from the same three values. Until the damage is
 * reported, the receiver must have exactly the partition's bytes from its start (as they are
 * after the damage), and a stream that ends without a report must have delivered every record.
 *
 * <p>Layouts: gaps of 3 offsets after every batch, or (full sweep) of 1000, or only where a
 * batch opens a new segment (so the batch sent is the last of its segment); an index interval of
 * 600 bytes (hops from index entries) or (full sweep) 1 MiB. The full sweep (about 50,000
 * streams, some 15 minutes) also closes and reopens the store between calls; run it with
 * {@code -Dlogstore.transfer.sweep=full}.
 */
class TransferMidStreamDamageSweepTest {

    private static final boolean FULL = "full".equals(System.getProperty("logstore.transfer.sweep"));
    private static final int BATCHES = 30;
    private static final int RECORDS = 4;
    private static final int SEGMENT_BYTES = 4096;

    @TempDir
    Path root;

    private final List<Long> written = new ArrayList<>();

    /** One kind of damage to one header field, applied at a batch's start. */
    private record Damage(String name, int field, int width, long delta) {
        void apply(RandomAccessFile file, long batch) throws IOException {
            file.seek(batch + field);
            long value = width == 8 ? file.readLong() : file.readInt();
            file.seek(batch + field);
            if (width == 8) {
                file.writeLong(Math.max(0, value + delta));
            } else if (field == BatchFormat.CRC_OFFSET) {
                file.writeInt((int) value ^ 1);
            } else {
                file.writeInt((int) (value + delta));
            }
        }
    }

    private static List<List<Damage>> damages() {
        List<List<Damage>> kinds = new ArrayList<>();
        for (long d : new long[] {-RECORDS, -1, 1, RECORDS, 1000}) {
            kinds.add(List.of(new Damage("base offset " + d, 0, 8, d)));
        }
        for (int d : new int[] {-100, -7, -1, 1, 7, 100}) {
            kinds.add(List.of(new Damage("length " + d, BatchFormat.LENGTH_OFFSET, 4, d)));
        }
        kinds.add(List.of(new Damage("crc", BatchFormat.CRC_OFFSET, 4, 0)));
        for (int d : new int[] {-1, 1, 5}) {
            kinds.add(List.of(new Damage("last offset delta " + d, BatchFormat.LAST_OFFSET_DELTA_OFFSET, 4, d)));
        }
        kinds.add(List.of(new Damage("record count -1", BatchFormat.RECORD_COUNT_OFFSET, 4, -1)));
        // Two fields at once, keeping the offset after the batch where it was.
        kinds.add(List.of(new Damage("last offset delta -1", BatchFormat.LAST_OFFSET_DELTA_OFFSET, 4, -1),
                new Damage("record count -1", BatchFormat.RECORD_COUNT_OFFSET, 4, -1)));
        kinds.add(List.of(new Damage("base offset +1", 0, 8, 1),
                new Damage("last offset delta -1", BatchFormat.LAST_OFFSET_DELTA_OFFSET, 4, -1)));
        return kinds;
    }

    /** Where a batch is: its segment file's index, its position there, where it ends in the whole partition. */
    private record Batch(int segment, long position, long endInPartition) {
    }

    /** Thirty batches of four records, with gaps of {@code gap} offsets after each, or only before a new segment. */
    private void write(Path dir, int gap, boolean gapsAtSegmentStarts, int interval) {
        written.clear();
        try (LogStore store = open(dir, interval)) {
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
                next += RECORDS;
                // Batches take about 260 bytes: a gap before the batch that opens the next segment.
                if (!gapsAtSegmentStarts || store.partitionInfo(0).sizeInBytes() % SEGMENT_BYTES > SEGMENT_BYTES - 600) {
                    next += gap;
                }
            }
        }
    }

    private static LogStore open(Path dir, int interval) {
        return LogStore.builder(dir).partitions(1).segmentBytes(SEGMENT_BYTES).indexIntervalBytes(interval).open();
    }

    private static List<Batch> batches(Path dir) throws IOException {
        List<Path> logs = TestFiles.segmentLogs(dir.resolve("partition-0"));
        List<Batch> batches = new ArrayList<>();
        long segmentStart = 0;
        for (int s = 0; s < logs.size(); s++) {
            List<Long> positions = TestFiles.batchPositions(logs.get(s));
            long size = Files.size(logs.get(s));
            for (int i = 0; i < positions.size(); i++) {
                long end = i + 1 < positions.size() ? positions.get(i + 1) : size;
                batches.add(new Batch(s, positions.get(i), segmentStart + end));
            }
            segmentStart += size;
        }
        return batches;
    }

    /** One stream of one case: null when it holds, else what went wrong. */
    private String stream(Path dir, int interval, Batch sentLast, Batch victim, List<Damage> damage, int perCall,
                          long maxBytes, boolean reopen, boolean rebuilt) throws IOException {
        ByteArrayOutputStream received = new ByteArrayOutputStream();
        byte[] reference = TestFiles.partitionBytes(dir.resolve("partition-0"));
        TransferReceiver receiver = new TransferReceiver();
        Transfer t = null;
        boolean damaged = false;
        String mismatch = null;
        LogStore store = open(dir, interval);
        try {
            for (int call = 0; call < 50_000; call++) {
                int before = received.size();
                try {
                    Transfer previous = t == null || !rebuilt ? t
                            : new Transfer(t.bytes(), t.nextOffset(), t.nextBatchBytesSent());
                    var channel = TransferPastIndexedDamageTest.PartialChannel.perCall(received, perCall);
                    t = previous == null ? store.transfer(0, 0, maxBytes, channel)
                            : store.transfer(0, previous, maxBytes, channel);
                } catch (CorruptLogException reported) {
                    return null;
                } catch (RuntimeException e) {
                    return "call " + call + " threw " + e;
                }
                byte[] got = received.toByteArray();
                if (mismatch == null && !(got.length <= reference.length
                        && Arrays.equals(got, before, got.length, reference, before, got.length))) {
                    mismatch = "call " + call + " (" + t + "): the bytes received are not the partition's";
                }
                if (!receiver.decodeArrived(got)) {
                    return null; // the receiver's decoder reports the damage
                }
                if (t.bytes() == 0 && received.size() == before) {
                    if (!receiver.decodedAll(got.length)) {
                        return null; // a batch cut short: the receiver reports it
                    }
                    if (mismatch != null) {
                        return "not reported: " + mismatch;
                    }
                    long end = store.partitionInfo(0).nextOffset();
                    List<Long> expected = written.stream().filter(o -> o < end).toList();
                    if (!receiver.decoded.equals(expected)) {
                        List<Long> missing = new ArrayList<>(expected);
                        missing.removeAll(receiver.decoded);
                        return "the stream ended at " + t + " without a report; missing " + missing;
                    }
                    return null;
                }
                if (!damaged && got.length >= sentLast.endInPartition()) {
                    damaged = true;
                    Path log = TestFiles.segmentLogs(dir.resolve("partition-0")).get(victim.segment());
                    try (RandomAccessFile file = new RandomAccessFile(log.toFile(), "rw")) {
                        for (Damage field : damage) {
                            field.apply(file, victim.position());
                        }
                    }
                    reference = TestFiles.partitionBytes(dir.resolve("partition-0"));
                }
                if (reopen) {
                    store.close();
                    try {
                        store = open(dir, interval);
                    } catch (LogStoreException refused) {
                        return null; // the open reports the damage
                    }
                }
            }
            return "no end after 50,000 calls, at " + t;
        } finally {
            store.close();
        }
    }

    @Test
    void damageAfterTheBatchWentOutIsReportedOrHarmless() throws IOException {
        List<String> problems = new ArrayList<>();
        List<List<Damage>> damages = damages();
        int streams = 0;
        int[] layouts = FULL ? new int[] {0, 1, 2} : new int[] {0, 2};
        int[] intervals = FULL ? new int[] {600, 1 << 20} : new int[] {600};
        int victims = FULL ? 2 : 1;
        boolean[] reopens = FULL ? new boolean[] {false, true} : new boolean[] {false};
        int[] channels = FULL ? new int[] {0, 7, 100} : new int[] {0, 100};
        long[] maxBytesEach = FULL ? new long[] {1, 700, 1 << 20} : new long[] {1, 1 << 20};
        for (int layout : layouts) {
            for (int interval : intervals) {
                Path pristine = root.resolve("pristine-" + layout + "-" + interval);
                write(pristine, layout == 1 ? 1000 : 3, layout == 2, interval);
                List<Batch> batches = batches(pristine);
                int perSegment = TestFiles.batchPositions(TestFiles.segmentLogs(pristine.resolve("partition-0")).get(0))
                        .size();
                int[] sentThrough = FULL ? new int[] {0, 3, perSegment - 1, perSegment, batches.size() - 3}
                        : new int[] {3, perSegment - 1};
                for (int k : sentThrough) {
                    for (int victim = k; victim <= k + victims && victim < batches.size(); victim++) {
                        for (List<Damage> damage : damages) {
                            for (boolean reopen : reopens) {
                                for (int perCall : channels) {
                                    for (long maxBytes : maxBytesEach) {
                                        if (reopen && perCall == 7) {
                                            continue;
                                        }
                                        for (boolean rebuilt : new boolean[] {false, true}) {
                                            Path dir = root.resolve("case");
                                            PathUtils.copyDirectory(pristine, dir);
                                            streams++;
                                            String problem = stream(dir, interval, batches.get(k), batches.get(victim),
                                                    damage, perCall, maxBytes, reopen, rebuilt);
                                            if (problem != null) {
                                                problems.add("layout " + layout + ", interval " + interval + ", sent "
                                                        + "through batch " + k + ", batch " + victim + " damaged ("
                                                        + damage.stream().map(Damage::name).toList() + "), channel "
                                                        + perCall + ", maxBytes " + maxBytes + ", reopen " + reopen
                                                        + (rebuilt ? ", Transfers built by the caller" : "") + ": "
                                                        + problem);
                                            }
                                            PathUtils.deleteDirectory(dir);
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        assertTrue(streams > 500, "streams run: " + streams);
        assertTrue(problems.isEmpty(), problems.size() + " of " + streams + " streams went wrong, first: "
                + (problems.isEmpty() ? "" : problems.get(0)));
    }
}
