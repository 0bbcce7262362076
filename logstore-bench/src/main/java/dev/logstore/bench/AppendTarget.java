package dev.logstore.bench;

import dev.logstore.Durability;
import dev.logstore.LogStore;
import dev.logstore.record.BatchEncoder;
import dev.logstore.record.BatchFormat;
import dev.logstore.record.Record;
import java.io.File;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import net.openhft.chronicle.bytes.Bytes;
import net.openhft.chronicle.queue.ChronicleQueue;
import net.openhft.chronicle.queue.ExcerptAppender;
import net.openhft.chronicle.queue.impl.single.SingleChronicleQueueBuilder;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.record.internal.FileRecords;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.SimpleRecord;

/**
 * Something that appends batches of records to one log file: LogStore, or a baseline measured
 * against it in the same run. Each does its own encoding per append, as a real writer would;
 * the raw FileChannel baseline writes pre-encoded bytes of the same size and is the machine's limit.
 */
interface AppendTarget extends AutoCloseable {

    /** Appends one batch; forces it to disk first when {@code fsync}. */
    void append(List<Record> batch, ByteBuffer encoded, boolean fsync) throws Exception;

    /** LogStore: one partition, explicit batch appends. */
    static AppendTarget logStore(Path dir, int partitions, boolean fsync) {
        return logStore(dir, partitions, fsync, false);
    }

    /** LogStore as above, with small batches copied into a memory map when {@code mapped}. */
    static AppendTarget logStore(Path dir, int partitions, boolean fsync, boolean mapped) {
        LogStore store = LogStore.builder(dir).partitions(partitions).mappedAppends(mapped)
                .durability(fsync ? Durability.always() : Durability.onFlush()).open();
        return new AppendTarget() {
            @Override
            public void append(List<Record> batch, ByteBuffer encoded, boolean sync) {
                store.append(0, batch);
            }

            @Override
            public void close() {
                store.close();
            }
        };
    }

    /** LogStore's encoding alone: each batch encoded (copy and CRC-32C) into memory, written nowhere. */
    static AppendTarget encodeOnly() {
        BatchEncoder encoder = new BatchEncoder();
        return new AppendTarget() {
            private long checksums;

            @Override
            public void append(List<Record> batch, ByteBuffer encoded, boolean fsync) {
                checksums += encoder.encode(0, null, batch).getInt(BatchFormat.CRC_OFFSET);
            }

            @Override
            public void close() {
                if (checksums == 42) {
                    System.out.print(""); // keeps the encoding observable
                }
            }
        };
    }

    /** The limit: FileChannel.write of the same number of bytes per batch, then force if asked. */
    static AppendTarget rawChannel(Path file) throws IOException {
        FileChannel channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
        return new AppendTarget() {
            private long position;

            @Override
            public void append(List<Record> batch, ByteBuffer encoded, boolean fsync) throws IOException {
                ByteBuffer bytes = encoded.duplicate();
                while (bytes.hasRemaining()) {
                    position += channel.write(bytes, position);
                }
                if (fsync) {
                    channel.force(false);
                }
            }

            @Override
            public void close() throws IOException {
                channel.close();
            }
        };
    }

    /** Kafka's own log file: FileRecords appending a MemoryRecords batch (record format v2). */
    static AppendTarget kafkaFileRecords(Path file) throws IOException {
        FileRecords records = FileRecords.open(file.toFile());
        return new AppendTarget() {
            private long offset;

            @Override
            public void append(List<Record> batch, ByteBuffer encoded, boolean fsync) throws IOException {
                SimpleRecord[] simple = new SimpleRecord[batch.size()];
                for (int i = 0; i < simple.length; i++) {
                    Record record = batch.get(i);
                    simple[i] = new SimpleRecord(record.timestamp(), record.key(), record.value(),
                            new org.apache.kafka.common.header.Header[0]);
                }
                records.append(MemoryRecords.withRecords(offset, Compression.NONE, simple));
                offset += simple.length;
                if (fsync) {
                    records.flush();
                }
            }

            @Override
            public void close() throws IOException {
                records.close();
            }
        };
    }

    /** Chronicle Queue: each record one excerpt (memory-mapped; it has no fsync of its own). */
    static AppendTarget chronicleQueue(Path dir) {
        ChronicleQueue queue = SingleChronicleQueueBuilder.single(dir.toFile()).build();
        ExcerptAppender appender = queue.createAppender();
        Bytes<?> bytes = Bytes.allocateElasticDirect(2048);
        return new AppendTarget() {
            @Override
            public void append(List<Record> batch, ByteBuffer encoded, boolean fsync) {
                for (Record record : batch) {
                    bytes.clear();
                    bytes.writeLong(record.timestamp());
                    bytes.write(record.key());
                    bytes.write(record.value());
                    appender.writeBytes(bytes);
                }
            }

            @Override
            public void close() {
                appender.close();
                queue.close();
                bytes.releaseLast();
            }
        };
    }

    /** Square's tape QueueFile: each record one element; tape writes synchronously ("rwd"), so it is always durable. */
    static AppendTarget tape(Path file) throws IOException {
        File target = file.toFile();
        com.squareup.tape2.QueueFile queue = new com.squareup.tape2.QueueFile.Builder(target).build();
        return new AppendTarget() {
            @Override
            public void append(List<Record> batch, ByteBuffer encoded, boolean fsync) throws IOException {
                for (Record record : batch) {
                    queue.add(record.value());
                }
            }

            @Override
            public void close() throws IOException {
                queue.close();
                Files.deleteIfExists(file);
            }
        };
    }
}
