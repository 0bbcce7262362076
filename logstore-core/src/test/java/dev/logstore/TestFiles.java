package dev.logstore;

import dev.logstore.record.BatchFormat;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/** A partition's files as the engine tests look at them: its segments, their base offsets and batches. */
public final class TestFiles {

    private TestFiles() {
    }

    /** The segment files of a partition directory, by base offset. */
    public static List<Path> segmentLogs(Path partitionDir) throws IOException {
        try (Stream<Path> files = Files.list(partitionDir)) {
            return files.filter(f -> f.toString().endsWith(".log")).sorted().toList();
        }
    }

    /** The bytes of every segment of a partition, in order: the partition as one stream. */
    public static byte[] partitionBytes(Path partitionDir) throws IOException {
        java.io.ByteArrayOutputStream all = new java.io.ByteArrayOutputStream();
        for (Path log : segmentLogs(partitionDir)) {
            all.write(Files.readAllBytes(log));
        }
        return all.toByteArray();
    }

    /** The base offset a segment file's name gives. */
    public static long baseOffset(Path log) {
        return Long.parseLong(log.getFileName().toString().substring(0, 20));
    }

    /** Positions of the batches of {@code log}, walked by their length fields. */
    public static List<Long> batchPositions(Path log) throws IOException {
        List<Long> positions = new ArrayList<>();
        try (RandomAccessFile file = new RandomAccessFile(log.toFile(), "r")) {
            long position = 0;
            while (position < file.length()) {
                positions.add(position);
                file.seek(position + BatchFormat.LENGTH_OFFSET);
                position += BatchFormat.LOG_OVERHEAD + file.readInt();
            }
        }
        return positions;
    }

    /** Writes {@code value} (big-endian) at byte {@code at} of {@code file}, as damage does. */
    public static void putLong(Path file, long at, long value) throws IOException {
        try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
            raf.seek(at);
            raf.writeLong(value);
        }
    }

    /** Writes {@code value} (big-endian) at byte {@code at} of {@code file}, as damage does. */
    public static void putInt(Path file, long at, int value) throws IOException {
        try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
            raf.seek(at);
            raf.writeInt(value);
        }
    }

    /** Writes byte {@code value} at byte {@code at} of {@code file}, as damage does. */
    public static void putByte(Path file, long at, int value) throws IOException {
        try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
            raf.seek(at);
            raf.writeByte(value);
        }
    }
}
