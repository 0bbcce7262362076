package dev.logstore;

import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.logstore.record.BatchFormat;
import dev.logstore.record.Record;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.channels.Channels;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A partial send that stops inside the first batch of the call names that batch's base offset
 * as where to resume, so it checks that batch first. Batch 1 (offsets 4..7) has its base offset
 * damaged to 3: the continuation was refused with IllegalArgumentException ("pass the Transfer
 * the previous call returned", which the caller did) instead of the damage being reported.
 */
class TransferPartialFirstBatchTest {

    @TempDir
    Path dir;

    @Test
    void continuationOfAPartialSendInADamagedFirstBatchReportsDamage() throws IOException {
        try (LogStore store = LogStore.builder(dir).partitions(1).open()) {
            for (int b = 0; b < 4; b++) {
                List<Record> batch = new ArrayList<>();
                for (int r = 0; r < 4; r++) {
                    batch.add(TestRecords.named(b * 4 + r));
                }
                store.append(0, b * 4L, batch);
            }
        }
        Path log = TestFiles.segmentLogs(dir.resolve("partition-0")).get(0);
        TestFiles.putLong(log, TestFiles.batchPositions(log).get(1) + BatchFormat.BASE_OFFSET_OFFSET, 3);
        try (LogStore store = LogStore.builder(dir).partitions(1).open()) {
            Transfer first = store.transfer(0, 0, 1, Channels.newChannel(new ByteArrayOutputStream())); // batch 0 whole
            TransferPastIndexedDamageTest.PartialChannel seven = new TransferPastIndexedDamageTest.PartialChannel(7);
            Transfer partial = store.transfer(0, first, 1, seven); // 7 bytes of batch 1
            assertThrows(CorruptLogException.class, () -> store.transfer(0, partial, 1,
                    new TransferPastIndexedDamageTest.PartialChannel(7)));
        }
    }
}
