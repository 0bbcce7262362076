package dev.logstore.connect.sink;

import dev.logstore.connect.config.DurableFiles;
import dev.logstore.LogStore;
import dev.logstore.PartitionInfo;
import dev.logstore.record.Record;
import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.Properties;
import org.apache.kafka.connect.errors.ConnectException;

/**
 * Topic partition p archived into store partition p, at the record's own Kafka offset. The
 * archive's next offset is therefore exactly the Kafka offset to resume at: the archive is its own
 * progress record, and exactly-once needs nothing else. Records after the last archived one that
 * were deliberately not archived are the exception: how far those go is kept in
 * {@code sink-handled-<p>.properties} beside the store, together with the archive's end when it
 * was written, and trusted only while the archive still ends there.
 */
final class KafkaMappedArchive implements TopicPartitionArchive {

    private static final String ARCHIVE_NEXT = "archive.next";
    private static final String HANDLED = "handled";

    private final LogStore store;
    private final int partition;
    private final Runnable release;
    private final Path handledFile;
    private long recordedHandled = -1;

    /** The archive of store partition {@code partition}, which {@code store} owns; {@code release} gives it back. */
    KafkaMappedArchive(LogStore store, int partition, Runnable release) {
        this.store = store;
        this.partition = partition;
        this.release = release;
        this.handledFile = store.directory().resolve("sink-handled-" + partition + ".properties");
    }

    @Override
    public long resumeOffset() {
        long next = store.nextOffset(partition);
        long handled = readHandled(next);
        if (handled > next) {
            return handled;
        }
        return next == 0 ? -1 : next;
    }

    /** The handled offset recorded while the archive ended at {@code next}, or -1. */
    private long readHandled(long next) {
        Properties properties = new Properties();
        try (Reader reader = Files.newBufferedReader(handledFile, StandardCharsets.UTF_8)) {
            properties.load(reader);
            if (Long.parseLong(properties.getProperty(ARCHIVE_NEXT, "-1").trim()) != next) {
                return -1; // written before later records were archived (or before the archive lost some)
            }
            return Long.parseLong(properties.getProperty(HANDLED, "-1").trim());
        } catch (NoSuchFileException e) {
            return -1;
        } catch (IOException | NumberFormatException e) {
            throw new ConnectException("Cannot read " + handledFile + " (" + e.getMessage() + "); delete it: the sink "
                    + "then resumes where the archive ends", e);
        }
    }

    @Override
    public void append(long[] kafkaOffsets, List<Record> records) {
        store.append(partition, kafkaOffsets, records);
    }

    @Override
    public void flush() {
        store.flush(partition);
    }

    @Override
    public void handledUpTo(long handled) {
        long next = store.nextOffset(partition);
        if (handled <= next || handled == recordedHandled) {
            return; // the archive's own end says it
        }
        Properties properties = new Properties();
        properties.setProperty(ARCHIVE_NEXT, Long.toString(next));
        properties.setProperty(HANDLED, Long.toString(handled));
        try {
            DurableFiles.write(handledFile, properties, "Kafka offsets below 'handled' were handled by "
                    + "LogStoreSinkConnector while the archive ended at 'archive.next'");
            recordedHandled = handled;
        } catch (IOException e) {
            throw new ConnectException("Cannot write " + handledFile + ": " + e.getMessage(), e);
        }
    }

    @Override
    public PartitionInfo info() {
        return store.partitionInfo(partition);
    }

    @Override
    public void close() {
        release.run();
    }
}
