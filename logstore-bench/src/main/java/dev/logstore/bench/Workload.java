package dev.logstore.bench;

import dev.logstore.record.BatchEncoder;
import dev.logstore.record.Record;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * A fixed cycle of prebuilt batches (8-byte keys, random values of one size), and for the raw
 * baseline the same batches encoded, so every writer gets identical input and nobody pays for
 * generating it inside the timed loop.
 */
final class Workload {

    private static final int CYCLE = 128;

    final int valueSize;
    final int batchSize;
    final List<List<Record>> batches = new ArrayList<>();
    final List<ByteBuffer> encoded = new ArrayList<>();

    Workload(int valueSize, int batchSize) {
        this.valueSize = valueSize;
        this.batchSize = batchSize;
        Random random = new Random(valueSize * 31L + batchSize);
        BatchEncoder encoder = new BatchEncoder();
        long timestamp = 1_700_000_000_000L;
        for (int b = 0; b < CYCLE; b++) {
            List<Record> batch = new ArrayList<>(batchSize);
            for (int i = 0; i < batchSize; i++) {
                byte[] value = new byte[valueSize];
                random.nextBytes(value);
                batch.add(Record.of(String.format("key-%04d", (b * batchSize + i) % 10_000).getBytes(), value, timestamp++));
            }
            batches.add(List.copyOf(batch));
            ByteBuffer bytes = encoder.encode(0, null, batch);
            ByteBuffer copy = ByteBuffer.allocateDirect(bytes.remaining());
            copy.put(bytes).flip();
            encoded.add(copy);
        }
    }

    /** Key and value bytes of one batch: the payload every writer stores. */
    long payloadBytesPerBatch() {
        return (long) batchSize * (8 + valueSize);
    }

    String describe() {
        return valueSize + " B values, batches of " + batchSize;
    }
}
