package dev.logstore.connect.sink;

import dev.logstore.PartitionInfo;
import dev.logstore.record.Record;
import java.util.List;

/** Where the records of one topic partition are archived, and how far that archive has got. */
interface TopicPartitionArchive extends AutoCloseable {

    /** The Kafka offset to resume consuming at, or -1 when the archive holds nothing of this partition yet. */
    long resumeOffset();

    /** Appends records of this topic partition, with their Kafka offsets (strictly increasing). */
    void append(long[] kafkaOffsets, List<Record> records);

    /** Forces what was appended to disk; returns when it is there. */
    void flush();

    /**
     * After a flush: every Kafka offset below {@code next} was handled, archived or deliberately
     * not (a tombstone ignored, a record sent to the dead letter queue or dropped by a transform,
     * a transaction marker), so a restart resumes there instead of delivering those again.
     */
    void handledUpTo(long next);

    /** Offsets, bytes and segments of the store partition, or null when it is shared with other topic partitions. */
    PartitionInfo info();

    @Override
    void close();
}
