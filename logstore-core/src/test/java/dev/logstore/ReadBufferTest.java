package dev.logstore;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.logstore.record.Record;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** read(offset): damage detection, BufferTooSmallException sizes, and buffers of either byte order. */
class ReadBufferTest {

    @TempDir
    Path dir;

    private Path logFile() throws Exception {
        try (Stream<Path> s = Files.walk(dir)) {
            return s.filter(p -> p.toString().endsWith(".log")).sorted().findFirst().orElseThrow();
        }
    }

    @Test
    void tooSmallNamesTheBatchSize() {
        try (LogStore store = LogStore.builder(dir).partitions(1).open()) {
            store.append(0, List.of(Record.of(null, new byte[500], 1)));
            store.append(0, List.of(Record.of(null, new byte[10], 2)));
            int all = store.read(0, 0, ByteBuffer.allocate(4096));
            int size = store.read(0, 0, ByteBuffer.allocate(600));
            for (int room : new int[] {1, 41, 42, 45, 46, 100, size - 1}) {
                ByteBuffer b = ByteBuffer.allocate(room);
                BufferTooSmallException e = assertThrows(BufferTooSmallException.class, () -> store.read(0, 0, b));
                assertEquals(size, e.requiredBytes(), "room " + room);
                assertEquals(0, b.position());
            }
            ByteBuffer little = ByteBuffer.allocate(4096).order(java.nio.ByteOrder.LITTLE_ENDIAN);
            assertEquals(all, store.read(0, 0, little),
                    "a little-endian buffer");
        }
    }

    @Test
    void damagedFirstHeaderIsDamageNotTooSmall() throws Exception {
        try (LogStore store = LogStore.builder(dir).partitions(1).open()) {
            store.append(0, List.of(Record.of(null, new byte[500], 1)));
        }
        Path log = logFile();
        try (FileChannel ch = FileChannel.open(log, StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.allocate(4).putInt(0, 100_000), 8); // length field: past the end
        }
        try (LogStore store = LogStore.builder(dir).readOnly().open()) {
            for (int room : new int[] {50, 4096, 200_000}) {
                LogStoreException e = assertThrows(LogStoreException.class,
                        () -> store.read(0, 0, ByteBuffer.allocate(room)));
                assertEquals(CorruptLogException.class, e.getClass(), "room " + room + ": " + e);
            }
        }
    }
}
