package dev.logstore.connect.source;

import dev.logstore.LogReader;
import dev.logstore.OffsetOutOfRangeException;
import dev.logstore.record.Header;
import dev.logstore.record.LogRecord;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.connect.data.Schema;
import org.apache.kafka.connect.data.SchemaAndValue;
import org.apache.kafka.connect.header.ConnectHeaders;
import org.apache.kafka.connect.source.SourceRecord;

/**
 * The replay of one store partition: a reader moving from the start position towards the end
 * (exclusive; {@code Long.MAX_VALUE} when following), turning archived records into source
 * records whose offset is the next archive offset.
 */
final class PartitionReplay implements AutoCloseable {

    static final String OFFSET_KEY = "offset";

    private final StorePartition unit;
    private final LogReader reader;
    private final long end;
    private final String topic;
    private final LogStoreSourceConfig.Mapping mapping;
    private final int storePartitions;
    private final Map<String, Object> sourcePartition;
    private final RemovedRecords removed;
    private long roundRobin;
    // Read by metrics threads.
    private volatile long position;
    private volatile long bytesReplayed;

    PartitionReplay(StorePartition unit, LogReader reader, long end, String topic, LogStoreSourceConfig.Mapping mapping,
                    int storePartitions, RemovedRecords removed) {
        this.removed = removed;
        this.unit = unit;
        this.reader = reader;
        this.end = end;
        this.topic = topic;
        this.mapping = mapping;
        this.storePartitions = storePartitions;
        this.sourcePartition = unit.sourcePartition();
        this.roundRobin = unit.partition();
        this.position = reader.position();
    }

    StorePartition unit() {
        return unit;
    }

    /** True when a bounded replay has reached its end. */
    boolean finished() {
        return reader.position() >= end;
    }

    /** The next archive offset to replay (as of the last poll). */
    long position() {
        return position;
    }

    long bytesReplayed() {
        return bytesReplayed;
    }

    /** Offsets left to replay: to the planned end, or while following to the archive's end. */
    long remaining(dev.logstore.LogStore store) {
        long to = end != Long.MAX_VALUE ? end : store.nextOffset(unit.partition());
        return Math.max(0, to - position);
    }

    long end() {
        return end;
    }

    /** Adds up to {@code max} records to {@code out}; returns how many. */
    int poll(int max, int maxBytes, List<SourceRecord> out) {
        if (finished()) {
            return 0;
        }
        List<LogRecord> records;
        try {
            records = reader.poll(max, maxBytes);
        } catch (OffsetOutOfRangeException e) {
            removed.onRemoved(unit, reader.position(), e.startOffset());
            reader.seek(e.startOffset());
            records = reader.poll(max, maxBytes);
        }
        int added = 0;
        long bytes = 0;
        for (LogRecord record : records) {
            if (record.offset() >= end) {
                // Past the end: leave the reader there so finished() holds from now on.
                reader.seek(end);
                break;
            }
            out.add(toSourceRecord(record));
            bytes += (record.key() == null ? 0 : record.key().length) + (record.value() == null ? 0 : record.value().length);
            added++;
        }
        bytesReplayed += bytes;
        position = reader.position();
        return added;
    }

    /** Waits up to {@code millis} for records beyond the reader's position. */
    void awaitData(long millis) throws InterruptedException {
        reader.awaitData(Duration.ofMillis(millis));
    }

    private SourceRecord toSourceRecord(LogRecord record) {
        ConnectHeaders headers = new ConnectHeaders();
        for (Header header : record.headers()) {
            headers.add(header.key(), new SchemaAndValue(Schema.OPTIONAL_BYTES_SCHEMA, header.value()));
        }
        Map<String, Object> offset = new LinkedHashMap<>(4);
        offset.put(OFFSET_KEY, record.offset() + 1);
        return new SourceRecord(sourcePartition, offset, topic, targetPartition(), Schema.OPTIONAL_BYTES_SCHEMA,
                record.key(), Schema.OPTIONAL_BYTES_SCHEMA, record.value(),
                record.timestamp() < 0 ? null : record.timestamp(), headers);
    }

    private Integer targetPartition() {
        return switch (mapping) {
            case PRESERVE -> unit.partition();
            case KEY_HASH -> null;
            case ROUND_ROBIN -> (int) (roundRobin++ % storePartitions);
        };
    }

    @Override
    public void close() {
        reader.close();
    }
}
