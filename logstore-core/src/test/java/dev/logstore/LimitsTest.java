package dev.logstore;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.logstore.record.BatchFormat;
import dev.logstore.record.BatchHeader;
import dev.logstore.record.LogRecord;
import dev.logstore.record.Record;
import dev.logstore.record.RecordDecoder;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.Pipe;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The edges: the largest offset, segment age across reopens, small polls of a large batch, partial transfers. */
class LimitsTest {

    @TempDir
    Path dir;

    @Test
    void offsetsAreRefusedBeforeTheyCouldWrap() {
        long max = BatchFormat.MAX_OFFSET;
        try (LogStore store = LogStore.open(dir, 1)) {
            IllegalArgumentException atLongMax = assertThrows(IllegalArgumentException.class,
                    () -> store.append(0, Long.MAX_VALUE, List.of(Record.of(null, null, 1))));
            assertTrue(atLongMax.getMessage().contains("largest offset"), atLongMax.getMessage());
            assertThrows(IllegalArgumentException.class, () -> store.append(0, max,
                    List.of(Record.of(null, null, 1), Record.of(null, null, 2))), "a batch running past the limit");
            assertThrows(IllegalArgumentException.class,
                    () -> store.append(0, new long[] {max - 1, Long.MAX_VALUE}, List.of(Record.of(null, null, 1),
                            Record.of(null, null, 2))));
            assertEquals(0, store.nextOffset(0), "nothing was written");
            assertEquals(max, store.append(0, max, List.of(Record.of(null, TestRecords.bytes("last"), 1))).baseOffset());
            assertEquals(Long.MAX_VALUE, store.nextOffset(0));
            IllegalArgumentException full = assertThrows(IllegalArgumentException.class,
                    () -> store.append(0, List.of(Record.of(null, null, 1))));
            assertTrue(full.getMessage().contains("largest offset"), full.getMessage());
        }
        try (LogStore store = LogStore.open(dir, 1)) {
            assertEquals(Long.MAX_VALUE, store.nextOffset(0), "the reopen keeps the last record");
            List<LogRecord> records = TestRecords.readAll(store, 0);
            assertEquals(1, records.size());
            assertEquals(max, records.get(0).offset());
        }
    }

    @Test
    void segmentAgeAndAgeRetentionHoldAcrossReopens() throws Exception {
        // A writer reopened more often than the segment age still rolls (every open starts a
        // segment) and age retention still removes old segments, even of records without timestamps.
        long started = System.currentTimeMillis();
        for (int round = 0; round < 6; round++) {
            try (LogStore store = LogStore.builder(dir).partitions(1).segmentAge(Duration.ofMinutes(10))
                    .retentionAge(Duration.ofMillis(600)).open()) {
                store.append(0, List.of(Record.of(null, TestRecords.bytes("r" + round), Record.NO_TIMESTAMP)));
                store.enforceRetention();
            }
            Thread.sleep(200);
        }
        try (LogStore store = LogStore.open(dir, 1)) {
            PartitionInfo info = store.partitionInfo(0);
            assertTrue(info.startOffset() >= 2, "segments older than 600 ms were removed: " + info);
            assertEquals(6, info.nextOffset());
            assertTrue(System.currentTimeMillis() - started >= 1200);
        }
        // Within one open, a segment rolls once it is older than the segment age.
        try (LogStore store = LogStore.builder(dir).partitions(1).segmentAge(Duration.ofMillis(300)).open()) {
            store.append(0, List.of(Record.of(null, null, 1)));
            int before = store.partitionInfo(0).segments();
            Thread.sleep(350);
            store.append(0, List.of(Record.of(null, null, 1)));
            assertEquals(before + 1, store.partitionInfo(0).segments());
        }
    }

    @Test
    void pollingALargeBatchTenRecordsAtATimeReadsItOnce() {
        List<Record> batch = new ArrayList<>();
        for (int i = 0; i < 10_000; i++) {
            batch.add(TestRecords.numbered(i, i));
        }
        FaultyFiles files = new FaultyFiles();
        try (LogStore store = LogStore.builder(dir).partitions(1).fileOpener(files).open()) {
            store.append(0, batch);
            long batchBytes = store.partitionInfo(0).sizeInBytes();
            long before = files.bytesRead.get();
            try (LogReader reader = store.reader(0)) {
                assertEquals(10_000, reader.poll(20_000, 1 << 20).size());
            }
            long onePoll = files.bytesRead.get() - before;
            before = files.bytesRead.get();
            int polls = 0;
            try (LogReader reader = store.reader(0)) {
                long expected = 0;
                List<LogRecord> records;
                while (!(records = reader.poll(10, 1 << 20)).isEmpty()) {
                    polls++;
                    for (LogRecord record : records) {
                        assertEquals(expected++, record.offset());
                    }
                }
                assertEquals(10_000, expected);
            }
            long smallPolls = files.bytesRead.get() - before;
            assertEquals(1000, polls);
            assertTrue(onePoll >= batchBytes, "one poll reads the batch: " + onePoll);
            assertTrue(smallPolls <= 2 * onePoll, "1000 polls of 10 read " + smallPolls + " bytes, one poll of all "
                    + onePoll + ": the batch is read (and checked) once, not once per poll");
        }
    }

    @Test
    void aRandomReadOrSeekByOffsetTakesAtMostTwoPreads() {
        Random random = new Random(7);
        try (LogStore store = LogStore.builder(dir).partitions(1).segmentBytes(256 * 1024).open()) {
            for (int i = 0; i < 4000; i++) {
                // batches of 1 to 3 records of 20 to 400 bytes: a dozen or more batches per index interval
                store.append(0, TestRecords.random(random, 1 + random.nextInt(3), 400));
            }
        }
        FaultyFiles files = new FaultyFiles();
        try (LogStore store = LogStore.builder(dir).readOnly().fileOpener(files).open()) {
            long next = store.nextOffset(0);
            ByteBuffer buffer = ByteBuffer.allocate(64 * 1024);
            for (long offset = 0; offset < next; offset += 97) {
                store.read(0, offset, buffer.clear()); // opens the files and loads the indexes
            }
            for (int i = 0; i < 300; i++) {
                long offset = random.nextLong(next);
                long before = files.preads.get();
                int read = store.read(0, offset, buffer.clear());
                assertTrue(read > 0);
                long preads = files.preads.get() - before;
                assertTrue(preads <= 2, "read(" + offset + ") took " + preads + " preads");
                BatchHeader first = BatchHeader.read(buffer.flip(), 0);
                assertTrue(first.baseOffset() <= offset && first.lastOffset() >= offset, "the batch holding " + offset);
            }
            try (LogReader reader = store.reader(0)) {
                for (int i = 0; i < 300; i++) {
                    long offset = random.nextLong(next);
                    long before = files.preads.get();
                    List<LogRecord> one = reader.seek(offset).poll(1, 1);
                    long preads = files.preads.get() - before;
                    assertEquals(offset, one.get(0).offset());
                    assertTrue(preads <= 2, "seek(" + offset + ").poll(1, 1) took " + preads + " preads");
                }
            }
        }
    }

    @Test
    void aTransferThatANonBlockingChannelTakesInPartsResumesWithoutLosingOrRepeatingABatch() throws Exception {
        List<Record> written = new ArrayList<>();
        try (LogStore store = LogStore.builder(dir).partitions(1).segmentBytes(64 * 1024).open()) {
            for (int b = 0; b < 60; b++) {
                List<Record> batch = TestRecords.random(new java.util.Random(b), 1 + b % 5, 3000);
                store.append(0, batch);
                written.addAll(batch);
            }
            Pipe pipe = Pipe.open();
            pipe.sink().configureBlocking(false);
            ExecutorService drain = Executors.newSingleThreadExecutor();
            try {
                Future<byte[]> received = drain.submit(() -> {
                    ByteArrayOutputStream all = new ByteArrayOutputStream();
                    ByteBuffer chunk = ByteBuffer.allocate(4096);
                    while (pipe.source().read(chunk.clear()) >= 0) {
                        all.write(chunk.array(), 0, chunk.position());
                        Thread.sleep(0, 1000);
                    }
                    return all.toByteArray();
                });
                long end = store.nextOffset(0);
                Transfer transfer = store.transfer(0, 0, 256 * 1024, pipe.sink());
                int partial = 0;
                while (transfer.nextOffset() < end || !transfer.atBatchBoundary()) {
                    if (!transfer.atBatchBoundary()) {
                        partial++;
                    }
                    transfer = store.transfer(0, transfer, 256 * 1024, pipe.sink());
                }
                pipe.sink().close();
                byte[] bytes = received.get(30, TimeUnit.SECONDS);
                assertTrue(partial > 0, "the non-blocking pipe took batches in parts");
                List<LogRecord> records = RecordDecoder.decode(ByteBuffer.wrap(bytes));
                TestRecords.assertRecords(written, TestRecords.consecutive(0, written.size()), records);
            } finally {
                drain.shutdownNow();
            }
        }
    }
}
