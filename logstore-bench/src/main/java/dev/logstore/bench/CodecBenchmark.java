package dev.logstore.bench;

import dev.logstore.record.BatchEncoder;
import dev.logstore.record.LogRecord;
import dev.logstore.record.Record;
import dev.logstore.record.RecordDecoder;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.RecordBatch;
import org.apache.kafka.common.record.internal.SimpleRecord;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;

/**
 * The CPU cost of the batch format, without any I/O: encoding and decoding a batch with LogStore's
 * codec against Kafka's record format v2 ({@code MemoryRecords}), same records.
 *
 * <pre>bin/bench jmh CodecBenchmark</pre>
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class CodecBenchmark {

    @Param({"100", "1024"})
    int valueSize;

    @Param({"1", "64"})
    int batchSize;

    private List<Record> records;
    private SimpleRecord[] kafkaRecords;
    private final BatchEncoder encoder = new BatchEncoder();
    private ByteBuffer encoded;
    private MemoryRecords kafkaEncoded;

    @Setup
    public void setUp() {
        Workload workload = new Workload(valueSize, batchSize);
        records = workload.batches.get(0);
        kafkaRecords = new SimpleRecord[batchSize];
        for (int i = 0; i < batchSize; i++) {
            Record record = records.get(i);
            kafkaRecords[i] = new SimpleRecord(record.timestamp(), record.key(), record.value());
        }
        ByteBuffer bytes = encoder.encode(0, null, records);
        encoded = ByteBuffer.allocate(bytes.remaining()).put(bytes).flip();
        kafkaEncoded = MemoryRecords.withRecords(0L, Compression.NONE, kafkaRecords);
    }

    @Benchmark
    public ByteBuffer logStoreEncode() {
        return encoder.encode(0, null, records);
    }

    @Benchmark
    public MemoryRecords kafkaEncode() {
        return MemoryRecords.withRecords(0L, Compression.NONE, kafkaRecords);
    }

    @Benchmark
    public void logStoreDecode(Blackhole blackhole) {
        for (LogRecord record : RecordDecoder.decode(encoded)) {
            blackhole.consume(record);
        }
    }

    @Benchmark
    public void kafkaDecode(Blackhole blackhole) {
        List<Object> out = new ArrayList<>(batchSize);
        for (RecordBatch batch : kafkaEncoded.batches()) {
            batch.ensureValid();
            for (org.apache.kafka.common.record.internal.Record record : batch) {
                byte[] key = new byte[record.keySize()];
                record.key().get(key);
                byte[] value = new byte[record.valueSize()];
                record.value().get(value);
                out.add(value);
                blackhole.consume(key);
            }
        }
        blackhole.consume(out);
    }
}
