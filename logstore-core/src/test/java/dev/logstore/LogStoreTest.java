package dev.logstore;

import static dev.logstore.TestRecords.assertRecords;
import static dev.logstore.TestRecords.bytes;
import static dev.logstore.TestRecords.consecutive;
import static dev.logstore.TestRecords.readAll;
import static dev.logstore.TestRecords.string;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.logstore.record.LogRecord;
import dev.logstore.record.Record;
import dev.logstore.record.RecordDecoder;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LogStoreTest {

    @TempDir
    Path dir;

    @Test
    void theOriginalExampleWorks() {
        // open logs/ with 10 partitions, append "Hello World!" with key "10084", look at partition 5,
        // read partition 0 from offset 0 into a 2024-byte buffer and decode it.
        Path logs = dir.resolve("logs");
        int partition;
        try (LogStore store = LogStore.open(logs, 10)) {
            AppendResult result = store.append(bytes("10084"), bytes("Hello World!"));
            partition = result.partition();
            assertEquals(Partitioner.partition(bytes("10084"), 10), result.partition());
            assertEquals(0, result.baseOffset());
            PartitionInfo five = store.partitionInfo(5);
            assertEquals(5, five.partition());
            ByteBuffer buffer = ByteBuffer.allocate(2024);
            int n = store.read(result.partition(), 0, buffer);
            assertTrue(n > 0);
            List<LogRecord> records = RecordDecoder.decode(buffer.flip());
            assertEquals(1, records.size());
            assertEquals("Hello World!", string(records.get(0).value()));
            assertEquals("10084", string(records.get(0).key()));
        }
        assertTrue(Files.exists(logs.resolve("partition-" + partition).resolve("00000000000000000000.log")));
    }

    @Test
    void isStoreRecognisesAStoreDirectoryOnly() throws Exception {
        Path logs = dir.resolve("logs");
        assertFalse(LogStore.isStore(logs), "nothing there yet");
        try (LogStore store = LogStore.open(logs, 2)) {
            assertTrue(LogStore.isStore(logs));
            assertFalse(LogStore.isStore(logs.resolve("partition-0")), "a partition is not a store");
        }
        assertFalse(LogStore.isStore(Files.createDirectories(dir.resolve("other"))));
        assertFalse(LogStore.isStore(Files.writeString(dir.resolve("file"), "x")));
    }

    @Test
    void randomRecordsRoundTripThroughReadersAndRead() {
        Random random = new Random(7);
        List<Record> all = new ArrayList<>();
        try (LogStore store = LogStore.builder(dir).partitions(2).segmentBytes(64 * 1024).open()) {
            for (int batch = 0; batch < 60; batch++) {
                List<Record> records = TestRecords.random(random, 1 + random.nextInt(20), 2000);
                store.append(1, records);
                all.addAll(records);
            }
            assertRecords(all, consecutive(0, all.size()), readAll(store, 1));
            assertTrue(store.partitionInfo(1).segments() > 3, "should have rolled segments");

            List<LogRecord> viaRead = new ArrayList<>();
            ByteBuffer buffer = ByteBuffer.allocate(64 * 1024);
            long offset = 0;
            while (true) {
                buffer.clear();
                if (store.read(1, offset, buffer) == 0) {
                    break;
                }
                List<LogRecord> decoded = RecordDecoder.decode(buffer.flip());
                viaRead.addAll(decoded);
                offset = decoded.get(decoded.size() - 1).offset() + 1;
            }
            assertRecords(all, consecutive(0, all.size()), viaRead);
            assertTrue(readAll(store, 0).isEmpty());
        }
    }

    @Test
    void nullKeysAreSpreadRoundRobinAndKeyedRecordsFollowTheHash() {
        try (LogStore store = LogStore.open(dir, 3)) {
            Set<Integer> used = new HashSet<>();
            for (int i = 0; i < 3; i++) {
                used.add(store.append(null, bytes("x" + i)).partition());
            }
            assertEquals(Set.of(0, 1, 2), used);
            for (int i = 0; i < 20; i++) {
                byte[] key = bytes("k" + i);
                assertEquals(Partitioner.partition(key, 3), store.append(key, bytes("v")).partition());
            }
        }
    }

    @Test
    void explicitOffsetsKeepGapsAndReadersSkipThem() {
        try (LogStore store = LogStore.open(dir, 1)) {
            store.append(0, 100, List.of(Record.of(null, bytes("a"), 1), Record.of(null, bytes("b"), 2)));
            store.append(0, new long[] {105, 109, 110}, List.of(Record.of(null, bytes("c"), 3),
                    Record.of(null, bytes("d"), 4), Record.of(null, bytes("e"), 5)));
            AppendResult next = store.append(0, List.of(Record.of(null, bytes("f"), 6)));
            assertEquals(111, next.baseOffset());
            assertEquals(100, store.startOffset(0), "the unused empty first segment gives way to offset 100");

            List<LogRecord> records = readAll(store, 0);
            assertArrayEquals(new long[] {100, 101, 105, 109, 110, 111},
                    records.stream().mapToLong(LogRecord::offset).toArray());
            try (LogReader reader = store.reader(0)) {
                reader.seek(102);
                assertEquals("c", string(reader.poll(1, 1000).get(0).value()));
                assertEquals(106, reader.position());
                assertEquals("d", string(reader.poll(1, 1000).get(0).value()));
            }
            ByteBuffer buffer = ByteBuffer.allocate(1000);
            store.read(0, 107, buffer);
            List<LogRecord> batch = RecordDecoder.decode(buffer.flip());
            assertArrayEquals(new long[] {105, 109, 110, 111}, batch.stream().mapToLong(LogRecord::offset).toArray(),
                    "read in a gap starts with the whole batch holding the next offset");

            IllegalArgumentException below = assertThrows(IllegalArgumentException.class,
                    () -> store.append(0, 50, List.of(Record.of(null, null, 1))));
            assertTrue(below.getMessage().contains("below the next offset 112"), below.getMessage());
            assertThrows(IllegalArgumentException.class,
                    () -> store.append(0, new long[] {200, 200}, List.of(Record.of(null, null, 1), Record.of(null, null, 1))));
            assertEquals(112, store.nextOffset(0), "a refused append changes nothing");
        }
    }

    @Test
    void reopeningKeepsTheNextOffsetAndTheData() {
        try (LogStore store = LogStore.open(dir, 2)) {
            for (int i = 0; i < 10; i++) {
                store.append(1, List.of(TestRecords.numbered(i, 1000 + i)));
            }
        }
        try (LogStore store = LogStore.open(dir, 2)) {
            assertEquals(10, store.nextOffset(1));
            assertEquals(10, store.append(1, List.of(TestRecords.numbered(10, 2000))).baseOffset());
            assertEquals(11, readAll(store, 1).size());
        }
        try (LogStore store = LogStore.builder(dir).open()) {
            assertEquals(2, store.partitionCount(), "partition count 0 means as stored");
        }
    }

    @Test
    void reopeningWithAnotherPartitionCountIsAClearError() {
        LogStore.open(dir, 4).close();
        LogStoreException e = assertThrows(LogStoreException.class, () -> LogStore.open(dir, 5));
        assertTrue(e.getMessage().contains("has 4 partitions but was opened with 5"), e.getMessage());
        try (LogStore grown = LogStore.builder(dir).partitions(6).growPartitions().open()) {
            assertEquals(6, grown.partitionCount());
            grown.append(5, List.of(Record.of(null, bytes("new"), 1)));
        }
        try (LogStore store = LogStore.open(dir, 6)) {
            assertEquals(1, readAll(store, 5).size());
        }
    }

    @Test
    void badArgumentsGetClearErrors() {
        try (LogStore store = LogStore.open(dir, 3)) {
            store.append(0, List.of(Record.of(null, new byte[100], 1)));
            IllegalArgumentException noPartition = assertThrows(IllegalArgumentException.class,
                    () -> store.reader(3));
            assertTrue(noPartition.getMessage().contains("there is no partition 3"), noPartition.getMessage());
            assertThrows(IllegalArgumentException.class, () -> store.append(-1, List.of(Record.of(null, null, 1))));
            assertThrows(NullPointerException.class, () -> store.read(0, 0, null));
            assertThrows(IllegalArgumentException.class, () -> store.read(0, -1, ByteBuffer.allocate(10)));
            assertThrows(IllegalArgumentException.class, () -> store.append(0, List.of()));

            BufferTooSmallException tooSmall = assertThrows(BufferTooSmallException.class,
                    () -> store.read(0, 0, ByteBuffer.allocate(20)));
            assertTrue(tooSmall.requiredBytes() > 100);
            assertTrue(tooSmall.getMessage().contains("read with a buffer of at least"), tooSmall.getMessage());
            assertThrows(BufferTooSmallException.class, () -> store.read(0, 0, ByteBuffer.allocate(60)));
            assertThrows(IllegalArgumentException.class, () -> store.reader(0).poll(0, 10));
        }
        assertThrows(IllegalArgumentException.class, () -> LogStore.builder(dir).partitions(-1));
        assertThrows(IllegalArgumentException.class, () -> LogStore.builder(dir).segmentBytes(10));
        LogStoreException fileNotDir = assertThrows(LogStoreException.class, () -> {
            Path file = Files.createFile(dir.resolve("plain-file"));
            LogStore.open(file, 1);
        });
        assertTrue(fileNotDir.getMessage().contains("not a directory"), fileNotDir.getMessage());
        LogStoreException missing = assertThrows(LogStoreException.class,
                () -> LogStore.builder(dir.resolve("nope")).readOnly().open());
        assertTrue(missing.getMessage().contains("No LogStore at"), missing.getMessage());
    }

    @Test
    void offsetsBelowTheStartAreOutOfRange() {
        try (LogStore store = LogStore.open(dir, 1)) {
            store.append(0, 10, List.of(Record.of(null, bytes("x"), 1)));
            OffsetOutOfRangeException e = assertThrows(OffsetOutOfRangeException.class,
                    () -> store.read(0, 3, ByteBuffer.allocate(1000)));
            assertEquals(10, e.startOffset());
            assertTrue(e.getMessage().contains("below the start offset 10"), e.getMessage());
            try (LogReader reader = store.reader(0)) {
                assertThrows(OffsetOutOfRangeException.class, () -> reader.seek(9));
                assertEquals(10, reader.position());
            }
            assertEquals(0, store.read(0, 11, ByteBuffer.allocate(1000)), "past the end reads nothing");
        }
    }

    @Test
    void transferToSendsWholeBatchesWithinTheLimit() throws Exception {
        try (LogStore store = LogStore.builder(dir).partitions(1).indexIntervalBytes(256).open()) {
            for (int i = 0; i < 50; i++) {
                store.append(0, List.of(TestRecords.numbered(i, 1000 + i)));
            }
            ByteArrayOutputStream sink = new ByteArrayOutputStream();
            long sent = store.transferTo(0, 10, 1000, Channels.newChannel(sink));
            assertTrue(sent > 0 && sent <= 1000, "sent " + sent);
            List<LogRecord> records = RecordDecoder.decode(ByteBuffer.wrap(sink.toByteArray()));
            assertEquals(10, records.get(0).offset());
            assertEquals(sent, sink.size());
            // Everything from 0: batches must be whole, and all of them arrive.
            sink.reset();
            long offset = 0;
            List<LogRecord> all = new ArrayList<>();
            while (true) {
                ByteArrayOutputStream chunk = new ByteArrayOutputStream();
                Transfer step = store.transfer(0, offset, 300, Channels.newChannel(chunk));
                if (step.bytes() == 0) {
                    assertEquals(offset, step.nextOffset());
                    break;
                }
                assertEquals(chunk.size(), step.bytes());
                List<LogRecord> decoded = RecordDecoder.decode(ByteBuffer.wrap(chunk.toByteArray()));
                all.addAll(decoded);
                assertEquals(decoded.get(decoded.size() - 1).offset() + 1, step.nextOffset(),
                        "transfer says where to continue without decoding");
                offset = step.nextOffset();
            }
            assertEquals(50, all.size());
            long one = store.transferTo(0, 0, 1, Channels.newChannel(sink));
            assertTrue(one > 1, "a limit below one batch still sends that whole batch");
            assertEquals(1, RecordDecoder.decode(ByteBuffer.wrap(sink.toByteArray())).size());
        }
    }

    @Test
    void partitionInfoDescribesThePartition() {
        try (LogStore store = LogStore.builder(dir).partitions(1).segmentBytes(2048).open()) {
            assertTrue(store.partitionInfo(0).isEmpty());
            for (int i = 0; i < 40; i++) {
                store.append(0, List.of(Record.of(null, new byte[100], 5000 + i)));
            }
            PartitionInfo info = store.partitionInfo(0);
            assertEquals(0, info.startOffset());
            assertEquals(40, info.nextOffset());
            assertEquals(5039, info.maxTimestamp());
            assertTrue(info.segments() > 1);
            assertTrue(info.sizeInBytes() > 4000);
            assertFalse(info.isEmpty());
        }
    }

    @Test
    void tombstonesAndEmptyValuesAreDistinct() {
        try (LogStore store = LogStore.open(dir, 1)) {
            store.append(0, List.of(Record.of(bytes("k"), null, 1), Record.of(bytes("k"), new byte[0], 2)));
            List<LogRecord> records = readAll(store, 0);
            assertNull(records.get(0).value());
            assertArrayEquals(new byte[0], records.get(1).value());
        }
    }
}
