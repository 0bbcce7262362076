package dev.logstore;

import static org.junit.jupiter.api.Assertions.fail;

import dev.logstore.record.BatchFormat;
import dev.logstore.record.RecordDecoder;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BiFunction;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Damage kinds beyond the magic byte (lengths, offsets, counts, timestamps, epochs), for
 * read(offset), transfer and a reader's list poll, in segments with and without index files,
 * compressed and encrypted, under a writer and a read-only view: each returns the intact records
 * before the damage and never a record past it unreported. Collects every violation instead of
 * stopping at the first.
 */
class LaterBatchDamageKindsTest {

    @TempDir
    Path dir;

    private List<Long> positions;

    record Kind(String name, int field, int width, BiFunction<Long, long[], Long> value) {
    }

    // value(old, {position, segmentSize}) -> new value of the field
    static final List<Kind> KINDS = List.of(
            new Kind("magic 0x7f", BatchFormat.MAGIC_OFFSET, 1, (o, c) -> 0x7fL),
            new Kind("magic 1 (v1 misread)", BatchFormat.MAGIC_OFFSET, 1, (o, c) -> 1L),
            new Kind("attributes 0x40", BatchFormat.ATTRIBUTES_OFFSET, 1, (o, c) -> 0x40L),
            new Kind("length -5", BatchFormat.LENGTH_OFFSET, 4, (o, c) -> -5L),
            new Kind("length 10", BatchFormat.LENGTH_OFFSET, 4, (o, c) -> 10L),
            new Kind("length 34 (smallest plausible)", BatchFormat.LENGTH_OFFSET, 4, (o, c) -> 34L),
            new Kind("length +1", BatchFormat.LENGTH_OFFSET, 4, (o, c) -> o + 1),
            new Kind("length -1", BatchFormat.LENGTH_OFFSET, 4, (o, c) -> o - 1),
            new Kind("length 1 byte past segment end", BatchFormat.LENGTH_OFFSET, 4,
                    (o, c) -> c[1] - c[0] - BatchFormat.LOG_OVERHEAD + 1),
            new Kind("length 0x7fffff00", BatchFormat.LENGTH_OFFSET, 4, (o, c) -> 0x7fffff00L),
            new Kind("lastOffsetDelta -1", BatchFormat.LAST_OFFSET_DELTA_OFFSET, 4, (o, c) -> -1L),
            new Kind("lastOffsetDelta +5", BatchFormat.LAST_OFFSET_DELTA_OFFSET, 4, (o, c) -> o + 5),
            new Kind("recordCount 0", BatchFormat.RECORD_COUNT_OFFSET, 4, (o, c) -> 0L),
            new Kind("recordCount 2", BatchFormat.RECORD_COUNT_OFFSET, 4, (o, c) -> 2L),
            new Kind("baseOffset backwards (0)", BatchFormat.BASE_OFFSET_OFFSET, 8, (o, c) -> 0L),
            new Kind("baseOffset -1", BatchFormat.BASE_OFFSET_OFFSET, 8, (o, c) -> -1L),
            new Kind("baseOffset +1000", BatchFormat.BASE_OFFSET_OFFSET, 8, (o, c) -> o + 1000),
            new Kind("maxTimestamp 0", BatchFormat.MAX_TIMESTAMP_OFFSET, 8, (o, c) -> 0L),
            new Kind("writerEpoch -1", BatchFormat.WRITER_EPOCH_OFFSET, 4, (o, c) -> -1L));

    private static long get(RandomAccessFile f, long at, int width) throws IOException {
        f.seek(at);
        return switch (width) {
            case 1 -> f.readByte();
            case 4 -> f.readInt();
            default -> f.readLong();
        };
    }

    private static void put(RandomAccessFile f, long at, int width, long v) throws IOException {
        f.seek(at);
        switch (width) {
            case 1 -> f.writeByte((int) v);
            case 4 -> f.writeInt((int) v);
            default -> f.writeLong(v);
        }
    }

    private static List<Long> range(long from, long to) {
        List<Long> r = new ArrayList<>();
        for (long o = from; o < to; o++) {
            r.add(o);
        }
        return r;
    }

    /** Decodes; returns the offsets and whether the decoder reported damage. */
    private KeyProvider keys;

    private boolean decode(byte[] bytes, List<Long> into) {
        try {
            RecordDecoder.forEachWhole(ByteBuffer.wrap(bytes), keys, r -> into.add(r.offset()));
            return false;
        } catch (CorruptLogException e) {
            return true;
        }
    }

    private void check(LogStore store, Path log, int k, String where, List<String> failures) throws IOException {
        long base = TestFiles.baseOffset(log);
        List<Long> positions = this.positions;
        long at = positions.get(k);
        List<Long> intact = range(base, base + k);

        // read(offset)
        for (int bufferSize : new int[] {1 << 20, (int) at + 45, (int) at + 46, (int) at + 60, 4096}) {
            ByteBuffer read = ByteBuffer.allocate(bufferSize);
            int n;
            try {
                n = store.read(0, base, read);
            } catch (CorruptLogException e) {
                if (k > 0) {
                    failures.add(where + " read(base) buffer " + bufferSize + " threw: " + e.getMessage());
                }
                continue;
            } catch (BufferTooSmallException e) {
                continue;
            }
            byte[] bytes = new byte[n];
            read.flip().get(bytes);
            if (k == 0) {
                List<Long> got0 = new ArrayList<>();
                if (!decode(bytes, got0) || !got0.isEmpty()) {
                    failures.add(where + " read(base) of damaged first batch returned " + n + " bytes decoding to "
                            + got0.size() + " records without error");
                }
                continue;
            }
            List<Long> got = new ArrayList<>();
            boolean reported = decode(bytes, got);
            List<Long> expect = bufferSize >= at ? intact : null;
            if (expect != null && !got.equals(expect) && !(n < at && intact.subList(0, got.size()).equals(got))) {
                failures.add(where + " read(base) buffer " + bufferSize + " decoded " + got.size() + " records, not " + k);
            } else if (n > at && !reported) {
                failures.add(where + " read(base) buffer " + bufferSize + " returned " + n + " bytes past the damage at "
                        + at + " and its decoding reported nothing");
            } else if (!intact.containsAll(got)) {
                failures.add(where + " read(base) decoded offsets outside the intact ones: " + got);
            }
        }
        // the read that starts at the damage
        if (k > 0) {
            try {
                ByteBuffer next = ByteBuffer.allocate(1 << 20);
                int n = store.read(0, base + k, next);
                byte[] bytes = new byte[n];
                next.flip().get(bytes);
                List<Long> got = new ArrayList<>();
                if (!decode(bytes, got) || !got.isEmpty()) {
                    failures.add(where + " read(" + (base + k) + ") at the damage returned " + n
                            + " bytes decoding to " + got.size() + " records without error");
                }
            } catch (CorruptLogException | BufferTooSmallException e) {
                // reported (BufferTooSmall only for a huge claimed length: noted separately)
            }
        }

        // transfer, whole and limited
        for (long maxBytes : new long[] {1 << 20, at, at + 1, at - 1, 4096, 100}) {
            if (maxBytes <= 0) {
                continue;
            }
            ByteArrayOutputStream sent = new ByteArrayOutputStream();
            Transfer t;
            try {
                t = store.transfer(0, base, maxBytes, Channels.newChannel(sent));
            } catch (CorruptLogException e) {
                if (k > 0) {
                    failures.add(where + " transfer(base, " + maxBytes + ") threw: " + e.getMessage());
                }
                continue;
            }
            List<Long> got = new ArrayList<>();
            boolean reported = decode(sent.toByteArray(), got);
            if (k == 0) {
                if (!reported || !got.isEmpty()) {
                    failures.add(where + " transfer of damaged first batch sent " + t.bytes() + " bytes decoding to "
                            + got.size() + " records without error");
                }
                continue;
            }
            if (!intact.subList(0, Math.min(got.size(), intact.size())).equals(got) || got.size() > k) {
                failures.add(where + " transfer(base, " + maxBytes + ") decoded " + got + " not a prefix of intact");
            } else if (t.bytes() > at && !reported) {
                failures.add(where + " transfer(base, " + maxBytes + ") sent " + t.bytes() + " bytes past the damage at "
                        + at + ", decoding reported nothing, next transfer at " + t.nextOffset() + " (damaged batch's "
                        + "offset " + (base + k) + ")");
            } else if (t.bytes() <= at && !reported) {
                long expectNext = base + got.size();
                if (t.nextOffset() != expectNext) {
                    failures.add(where + " transfer(base, " + maxBytes + ") nextOffset " + t.nextOffset() + " after "
                            + got.size() + " records");
                } else if (t.bytes() == at) {
                    try {
                        ByteArrayOutputStream againBytes = new ByteArrayOutputStream();
                        Transfer again = store.transfer(0, t.nextOffset(), 1 << 20, Channels.newChannel(againBytes));
                        List<Long> got2 = new ArrayList<>();
                        if (!decode(againBytes.toByteArray(), got2) || !got2.isEmpty()) {
                            failures.add(where + " transfer at the damage did not report it: " + again + " decoding to "
                                    + got2.size() + " records without error");
                        }
                    } catch (CorruptLogException e) {
                        // reported
                    }
                }
            }
        }

        // a reader's list poll, in several shapes
        for (int[] shape : new int[][] {{1000, 1 << 20}, {1, 1}, {3, 1 << 20}, {1000, 100}, {7, 1 << 20}}) {
            try (LogReader reader = store.reader(0)) {
                reader.seek(base);
                List<Long> polled = new ArrayList<>();
                int throwsSeen = 0;
                for (int i = 0; i < 2000 && throwsSeen < 3; i++) {
                    try {
                        List<dev.logstore.record.LogRecord> records = reader.poll(shape[0], shape[1]);
                        if (records.isEmpty()) {
                            break;
                        }
                        records.forEach(r -> polled.add(r.offset()));
                        if (polled.size() > k + 5) {
                            break;
                        }
                    } catch (CorruptLogException e) {
                        throwsSeen++;
                        if (reader.position() != base + k) {
                            failures.add(where + " poll" + java.util.Arrays.toString(shape) + " position "
                                    + reader.position() + " after the damage report, not " + (base + k));
                        }
                    }
                }
                if (!polled.equals(intact.subList(0, Math.min(polled.size(), intact.size()))) || polled.size() != k) {
                    failures.add(where + " poll" + java.util.Arrays.toString(shape) + " returned "
                            + (polled.size() > 12 ? polled.size() + " records" : polled) + ", expected the " + k
                            + " before the damage");
                } else if (throwsSeen < 3) {
                    failures.add(where + " poll" + java.util.Arrays.toString(shape) + " stopped reporting the damage");
                }
            }
        }
    }

    private void run(int segmentBytes, int segmentIndex, boolean view) throws IOException {
        run(segmentBytes, segmentIndex, view, b -> b);
    }

    private void run(int segmentBytes, int segmentIndex, boolean view,
                     java.util.function.UnaryOperator<LogStore.Builder> packing) throws IOException {
        TestRecords.appendNumbered(packing.apply(LogStore.builder(dir).segmentBytes(segmentBytes)), 400);
        Path log = TestFiles.segmentLogs(dir.resolve("partition-0")).get(segmentIndex);
        List<Long> positions = TestFiles.batchPositions(log);
        this.positions = positions;
        long size = Files.size(log);
        List<String> failures = new ArrayList<>();
        int[] ks = {0, 1, 2, 5, positions.size() / 2, positions.size() - 2, positions.size() - 1};
        LogStore.Builder builder = packing.apply(LogStore.builder(dir).partitions(1).segmentBytes(segmentBytes));
        if (view) {
            builder.readOnly();
        }
        try (LogStore store = builder.open()) {
            for (Kind kind : KINDS) {
                for (int k : ks) {
                    long at = positions.get(k);
                    long fieldAt = at + kind.field();
                    long old;
                    try (RandomAccessFile f = new RandomAccessFile(log.toFile(), "rw")) {
                        old = get(f, fieldAt, kind.width());
                        long damaged = kind.value().apply(old, new long[] {at, size});
                        if (damaged == old) {
                            continue; // no damage (e.g. base offset 0 of the partition's first batch)
                        }
                        put(f, fieldAt, kind.width(), damaged);
                    }
                    try {
                        check(store, log, k, log.getFileName() + (view ? " (view)" : "") + " [" + kind.name()
                                + "] batch " + k + "/" + positions.size(), failures);
                    } catch (RuntimeException e) {
                        StackTraceElement top = java.util.Arrays.stream(e.getStackTrace())
                                .filter(f -> f.getClassName().startsWith("dev.logstore") && !f.getClassName().contains("LaterBatchDamageKindsTest"))
                                .findFirst().orElse(null);
                        failures.add(log.getFileName() + (view ? " (view)" : "") + " [" + kind.name() + "] batch " + k
                                + ": unexpected " + e + " at " + top + " (caller " + java.util.Arrays.stream(e.getStackTrace())
                                .filter(f -> f.getClassName().contains("LaterBatchDamageKindsTest")).findFirst().orElse(null) + ")");
                    } finally {
                        try (RandomAccessFile f = new RandomAccessFile(log.toFile(), "rw")) {
                            put(f, fieldAt, kind.width(), old);
                        }
                    }
                }
            }
        }
        if (!failures.isEmpty()) {
            fail(failures.size() + " violations:\n" + String.join("\n", failures));
        }
    }

    @Test
    void withIndexFilesWriter() throws IOException {
        run(20_000, 0, false);
    }

    @Test
    void withIndexFilesView() throws IOException {
        run(20_000, 0, true);
    }

    @Test
    void withoutIndexFilesWriter() throws IOException {
        run(2_000, 2, false);
    }

    @Test
    void zstdWriter() throws IOException {
        run(20_000, 0, false, b -> b.compression(dev.logstore.record.Codec.ZSTD));
    }

    @Test
    void encryptedLz4Writer() throws IOException {
        keys = Keys.of("k1", new byte[32]);
        run(20_000, 0, false, b -> b.compression(dev.logstore.record.Codec.LZ4).encryption(keys, "k1"));
    }

    @Test
    void activeSegmentWriter() throws IOException {
        run(20_000, 1, false);
    }
}
