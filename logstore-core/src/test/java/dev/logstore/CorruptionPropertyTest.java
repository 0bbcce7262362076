package dev.logstore;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.logstore.log.Crashes;
import dev.logstore.record.LogRecord;
import dev.logstore.record.Record;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;
import org.apache.commons.io.file.PathUtils;

/**
 * Random damage to a store's files (a flipped bit or a truncation, in a sealed or the active
 * segment, in an index or time index file, after a clean or an unclean shutdown), thousands of
 * times. Whatever happens, no record is ever returned that differs from what was written at its
 * offset; every error is a LogStoreException, and a corruption error names an existing file and
 * a position; damaged indexes are rebuilt, so seeks still land right.
 */
class CorruptionPropertyTest {

    private static final int RECORDS = 300;
    private static Path template;
    private static List<Record> written;

    @BeforeContainer
    static void writeTemplate() throws IOException {
        template = Files.createTempDirectory("logstore-corruption-template");
        written = new ArrayList<>();
        Random random = new Random(99);
        try (LogStore store = LogStore.builder(template).partitions(1).segmentBytes(4096).indexIntervalBytes(256).open()) {
            while (written.size() < RECORDS) {
                List<Record> batch = TestRecords.random(random, 1 + random.nextInt(4), 120);
                store.append(0, batch);
                written.addAll(batch);
            }
        }
    }

    @AfterContainer
    static void removeTemplate() throws IOException {
        PathUtils.deleteDirectory(template);
    }

    /** 2000 trials by default (junit-platform.properties); more with -Djqwik.tries.default=N. */
    @Property
    void damageIsNeverReturnedAsData(@ForAll long seed) throws IOException {
        Random random = new Random(seed);
        Path dir = Files.createTempDirectory("logstore-corruption");
        try {
            PathUtils.copyDirectory(template, dir);
            Path partition = dir.resolve("partition-0");
            if (random.nextBoolean()) {
                Crashes.forgetCleanClose(partition);
            }
            List<Path> files;
            try (Stream<Path> list = Files.list(partition)) {
                files = list.filter(f -> f.getFileName().toString().matches("\\d{20}\\.(log|index|timeindex)"))
                        .sorted().toList();
            }
            Path victim = files.get(random.nextInt(files.size()));
            damage(victim, random);
            CorruptionPolicy policy = random.nextBoolean() ? CorruptionPolicy.FAIL : CorruptionPolicy.TRUNCATE;
            check(dir, policy, random);
        } finally {
            PathUtils.deleteDirectory(dir);
        }
    }

    private static void damage(Path file, Random random) throws IOException {
        try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
            long length = raf.length();
            if (length == 0) {
                return;
            }
            if (random.nextInt(3) == 0) {
                raf.setLength(random.nextLong(length));
            } else {
                long position = random.nextLong(length);
                raf.seek(position);
                int b = raf.read();
                raf.seek(position);
                raf.write(b ^ (1 << random.nextInt(8)));
            }
        }
    }

    private static void check(Path dir, CorruptionPolicy policy, Random random) {
        LogStore store;
        try {
            store = LogStore.builder(dir).partitions(1).segmentBytes(4096).indexIntervalBytes(256)
                    .corruptionPolicy(policy).open();
        } catch (CorruptLogException e) {
            assertNamesAFile(e);
            return;
        }
        try (store; LogReader reader = store.reader(0)) {
            try {
                List<LogRecord> batch;
                while (!(batch = reader.poll(1 + random.nextInt(50), 1 + random.nextInt(4096))).isEmpty()) {
                    batch.forEach(CorruptionPropertyTest::assertAsWritten);
                }
            } catch (CorruptLogException e) {
                assertNamesAFile(e);
            }
            for (int i = 0; i < 5; i++) {
                long offset = store.startOffset(0) + random.nextInt(written.size());
                try {
                    List<LogRecord> found = reader.seek(offset).poll(1, 4096);
                    if (!found.isEmpty()) {
                        assertAsWritten(found.get(0));
                        assertEquals(offset, found.get(0).offset(), "a seek lands on the record asked for");
                    }
                } catch (CorruptLogException e) {
                    assertNamesAFile(e);
                } catch (OffsetOutOfRangeException e) {
                    assertTrue(offset < store.startOffset(0) || e.startOffset() >= 0);
                }
            }
        }
    }

    private static void assertAsWritten(LogRecord record) {
        assertTrue(record.offset() >= 0 && record.offset() < written.size(), "offset " + record.offset() + " was written");
        assertEquals(written.get((int) record.offset()), record.record(), "record at offset " + record.offset());
    }

    private static void assertNamesAFile(CorruptLogException e) {
        assertNotNull(e.file(), e.getMessage());
        assertTrue(e.position() >= 0, e.getMessage());
        assertTrue(e.getMessage().contains(e.file().toString()), e.getMessage());
    }
}
