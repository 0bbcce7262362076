package dev.logstore.record;

import static dev.logstore.TestRecords.assertRecords;
import static dev.logstore.TestRecords.consecutive;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.logstore.BufferTooSmallException;
import dev.logstore.CorruptLogException;
import dev.logstore.TestRecords;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.LongRange;
import org.junit.jupiter.api.Test;

class RecordDecoderTest {

    private final BatchEncoder encoder = new BatchEncoder();

    private static ByteBuffer copy(ByteBuffer batch) {
        ByteBuffer copy = ByteBuffer.allocate(batch.remaining());
        copy.put(batch.duplicate()).flip();
        return copy;
    }

    @Property(tries = 300)
    void randomBatchesDecodeToWhatWasEncoded(@ForAll("records") List<Record> records,
                                             @ForAll @LongRange(max = Long.MAX_VALUE / 2) long baseOffset) {
        ByteBuffer batch = copy(encoder.encode(baseOffset, null, records));
        assertRecords(records, consecutive(baseOffset, records.size()), RecordDecoder.decode(batch));
    }

    @Property(tries = 200)
    void explicitOffsetsWithGapsSurviveTheRoundTrip(@ForAll("records") List<Record> records,
                                                    @ForAll @IntRange(min = 1, max = 1000) int maxGap) {
        long[] offsets = new long[records.size()];
        Random random = new Random(maxGap);
        offsets[0] = random.nextInt(1000);
        for (int i = 1; i < offsets.length; i++) {
            offsets[i] = offsets[i - 1] + 1 + random.nextInt(maxGap);
        }
        ByteBuffer batch = copy(encoder.encode(offsets[0], offsets, records));
        BatchHeader header = BatchHeader.read(batch, 0);
        assertEquals(offsets[offsets.length - 1], header.lastOffset());
        assertRecords(records, offsets, RecordDecoder.decode(batch));
    }

    @Property(tries = 300)
    void anyFlippedBitIsDetected(@ForAll("records") List<Record> records, @ForAll int bitSeed) {
        ByteBuffer batch = copy(encoder.encode(42, null, records));
        int bit = Math.floorMod(bitSeed, batch.limit() * 8);
        int index = bit / 8;
        batch.put(index, (byte) (batch.get(index) ^ (1 << (bit % 8))));
        // The length field may grow past the buffer (looks like a partial batch) or shrink below a
        // record; every other bit is covered by the CRC. Nothing may decode as valid.
        RuntimeException e = assertThrows(RuntimeException.class, () -> RecordDecoder.decode(batch));
        assertTrue(e instanceof CorruptLogException || e instanceof BufferTooSmallException,
                "flipped bit " + bit + " gave " + e);
    }

    @Provide
    Arbitrary<List<Record>> records() {
        Arbitrary<byte[]> nullableBytes = Arbitraries.bytes().array(byte[].class).ofMaxSize(64).injectNull(0.2);
        Arbitrary<Header> header = Combinators.combine(Arbitraries.strings().ofMaxLength(10), nullableBytes)
                .as(Header::new);
        Arbitrary<Record> record = Combinators.combine(nullableBytes, nullableBytes,
                header.list().ofMaxSize(4), Arbitraries.longs().between(-1, 4_000_000_000_000L))
                .as(Record::new);
        return record.list().ofMinSize(1).ofMaxSize(20);
    }

    @Test
    void eightMebibyteValuesAndManyHeadersRoundTrip() {
        Random random = new Random(1);
        List<Header> headers = new ArrayList<>();
        for (int i = 0; i < 500; i++) {
            headers.add(new Header("k" + (i % 10), i % 3 == 0 ? null : TestRecords.randomBytes(random, 20)));
        }
        List<Record> records = List.of(
                new Record(TestRecords.randomBytes(random, 100), TestRecords.randomBytes(random, 8 << 20), headers, 5L),
                new Record(null, new byte[0], List.of(), 6L),
                new Record(new byte[0], null, List.of(), 4L));
        ByteBuffer batch = copy(encoder.encode(7, null, records));
        assertRecords(records, consecutive(7, 3), RecordDecoder.decode(batch));
        BatchHeader header = BatchHeader.read(batch, 0);
        assertEquals(5L, header.firstTimestamp());
        assertEquals(6L, header.maxTimestamp());
    }

    @Test
    void aBufferHoldingPartOfOneBatchSaysHowLargeItMustBe() {
        ByteBuffer batch = copy(encoder.encode(0, null, List.of(Record.of(null, new byte[500], 1L))));
        int size = batch.limit();
        batch.limit(size - 1);
        BufferTooSmallException e = assertThrows(BufferTooSmallException.class, () -> RecordDecoder.decode(batch));
        assertEquals(size, e.requiredBytes());
        assertTrue(e.getMessage().contains("at least " + size + " bytes"), e.getMessage());

        batch.limit(10);
        assertThrows(BufferTooSmallException.class, () -> RecordDecoder.decode(batch));
    }

    /** A batch of record "a", then all but the last 3 bytes of a batch of record "b"; and the first batch's size. */
    private record WholeThenPart(ByteBuffer bytes, int firstSize) {
    }

    private WholeThenPart wholeBatchThenPartOfOne() {
        ByteBuffer first = copy(encoder.encode(0, null, List.of(Record.of(null, TestRecords.bytes("a"), 1L))));
        ByteBuffer second = copy(encoder.encode(1, null, List.of(Record.of(null, TestRecords.bytes("b"), 1L))));
        ByteBuffer both = ByteBuffer.allocate(first.limit() + second.limit() - 3);
        both.put(first).put(second.limit(second.limit() - 3)).flip();
        return new WholeThenPart(both, first.limit());
    }

    @Test
    void aTrailingPartialBatchAfterWholeOnesIsLeftForTheNextRead() {
        ByteBuffer both = wholeBatchThenPartOfOne().bytes();
        List<LogRecord> decoded = RecordDecoder.decode(both);
        assertEquals(1, decoded.size());
        assertEquals("a", TestRecords.string(decoded.get(0).value()));
    }

    @Test
    void bytesThatAreWholeBatchesByContractReportATrailingPartAfterTheRecordsBeforeIt() {
        WholeThenPart bytes = wholeBatchThenPartOfOne();
        ByteBuffer both = bytes.bytes();
        List<LogRecord> decoded = new java.util.ArrayList<>();
        dev.logstore.CorruptLogException e = assertThrows(dev.logstore.CorruptLogException.class,
                () -> RecordDecoder.decodeWhole(both, decoded::add));
        assertEquals(1, decoded.size(), "the whole batch before it is handed over first");
        assertEquals(bytes.firstSize(), e.position());
        assertEquals(0, both.position(), "the buffer's position is not changed");
    }

    @Test
    void aCorruptBatchNamesItsPosition() {
        ByteBuffer first = copy(encoder.encode(0, null, List.of(Record.of(null, TestRecords.bytes("a"), 1L))));
        ByteBuffer second = copy(encoder.encode(1, null, List.of(Record.of(null, TestRecords.bytes("b"), 1L))));
        ByteBuffer both = ByteBuffer.allocate(first.limit() + second.limit());
        both.put(first).put(second).flip();
        int last = both.limit() - 1;
        both.put(last, (byte) (both.get(last) ^ 0x10));
        CorruptLogException e = assertThrows(CorruptLogException.class, () -> RecordDecoder.decode(both));
        assertEquals(first.limit(), e.position());
        assertTrue(e.getMessage().contains("CRC-32C mismatch"), e.getMessage());
    }

    @Test
    void hostileLengthsAreRejectedWithoutHugeAllocations() {
        ByteBuffer batch = copy(encoder.encode(0, null, List.of(Record.of(TestRecords.bytes("k"),
                TestRecords.bytes("v"), 1L))));
        // Claim a 2 GiB batch: must be reported as not fitting, never allocated.
        batch.putInt(BatchFormat.LENGTH_OFFSET, Integer.MAX_VALUE - 100);
        BufferTooSmallException e = assertThrows(BufferTooSmallException.class, () -> RecordDecoder.decode(batch));
        assertTrue(e.requiredBytes() > 1 << 30);
        batch.putInt(BatchFormat.LENGTH_OFFSET, -5);
        assertThrows(CorruptLogException.class, () -> RecordDecoder.decode(batch));
    }

    @Test
    void decodingLeavesTheBufferPositionAlone() {
        ByteBuffer batch = copy(encoder.encode(0, null, List.of(Record.of(null, new byte[3], 1L))));
        RecordDecoder.decode(batch);
        assertEquals(0, batch.position());
    }

    @Test
    void varintsRoundTripAtTheirLimits() {
        ByteBuffer buffer = ByteBuffer.allocate(64);
        for (long v : new long[] {0, -1, 1, Long.MIN_VALUE, Long.MAX_VALUE, Integer.MIN_VALUE, Integer.MAX_VALUE}) {
            buffer.clear();
            Varints.writeVarlong(v, buffer);
            assertEquals(Varints.sizeOfVarlong(v), buffer.position());
            assertEquals(v, reader(buffer).readVarlong(buffer.position()));
        }
        for (int v : new int[] {0, -1, 1, Integer.MIN_VALUE, Integer.MAX_VALUE, 63, 64, -64, -65}) {
            buffer.clear();
            Varints.writeVarint(v, buffer);
            assertEquals(Varints.sizeOfVarint(v), buffer.position());
            assertEquals(v, reader(buffer).readVarint(buffer.position()));
        }
    }

    @Test
    void malformedVarintsAreRefused() {
        ByteBuffer tooLong = ByteBuffer.wrap(new byte[] {(byte) 0x80, (byte) 0x80, (byte) 0x80, (byte) 0x80, 0x10});
        assertThrows(IllegalArgumentException.class, () -> reader(tooLong).readVarint(5));
        ByteBuffer cut = ByteBuffer.wrap(new byte[] {(byte) 0x80, (byte) 0x80});
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> reader(cut).readVarlong(2));
        assertTrue(e.getMessage().contains("past the end"), e.getMessage());
    }

    private static Varints.Reader reader(ByteBuffer bytes) {
        Varints.Reader reader = new Varints.Reader();
        reader.bytes = bytes;
        return reader;
    }

    @Test
    void utf8LengthMatchesTheEncoder() {
        for (String s : List.of("", "abc", "\u00e9t\u00e9", "\u4e2d\u6587", "\ud83d\ude00", "bad\ud800x")) {
            assertEquals(s.getBytes(java.nio.charset.StandardCharsets.UTF_8).length, BatchEncoder.utf8Length(s), s);
        }
    }
}
