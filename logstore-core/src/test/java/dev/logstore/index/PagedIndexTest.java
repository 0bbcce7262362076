package dev.logstore.index;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.logstore.io.FileOpener;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An active segment's indexes keep at most two pages in memory, whatever the segment's size: the
 * writer's move older pages to a spill file and answer every lookup as a whole index would; a
 * read-only view's keep each moved page's first entry, and their answers are never past the exact
 * one. A spill that is lost or damaged costs precision, never a wrong answer.
 */
class PagedIndexTest {

    private static final long BASE = 1_000;
    private static final int ENTRIES = 40 * OffsetIndex.PAGE_ENTRIES + 123;
    private static final FileOpener FILES = FileChannel::open;

    @TempDir
    Path dir;

    /** Entry {@code i}: offset {@code BASE + 10 i}, position {@code 100 i}. */
    private static OffsetIndex offsets(OffsetIndex index, int entries) {
        for (int i = 0; i < entries; i++) {
            index.append(BASE + 10L * i, 100 * i);
            index.pageOutIfFull();
        }
        return index;
    }

    /** Entry {@code i}: timestamp {@code 5000 + 7 i}, offset {@code BASE + 10 i}. */
    private static TimeIndex times(TimeIndex index, int entries) {
        for (int i = 0; i < entries; i++) {
            index.maybeAppend(5_000 + 7L * i, BASE + 10L * i);
            index.pageOutIfFull();
        }
        return index;
    }

    @Test
    void aPagedOffsetIndexHoldsTwoPagesAndAnswersAsTheWholeIndexDoes() throws IOException {
        OffsetIndex whole = offsets(new OffsetIndex(BASE), ENTRIES);
        OffsetIndex paged = new OffsetIndex(BASE);
        PageSpill spill = new PageSpill(FILES, dir.resolve("0.index" + PageSpill.SUFFIX), OffsetIndex.ENTRY_SIZE);
        paged.pageOut(spill);
        offsets(paged, ENTRIES);

        assertTrue(paged.pagedOut());
        assertTrue(paged.memoryBytes() <= 2 * OffsetIndex.PAGE_ENTRIES * 8 + 8 * 41 + 64,
                "two pages and one long per moved page: " + paged.memoryBytes());
        assertTrue(whole.memoryBytes() > 20 * paged.memoryBytes(), whole.memoryBytes() + " vs " + paged.memoryBytes());
        assertEquals(whole.size(), paged.size());
        assertEquals(whole.lastOffset(), paged.lastOffset());
        assertEquals(whole.lastPosition(), paged.lastPosition());
        assertArrayEquals(whole.directory().firsts(), paged.directory().firsts());
        assertEquals(whole.directory().entries(), paged.directory().entries());

        Random random = new Random(7);
        for (int i = 0; i < 5_000; i++) {
            long target = BASE - 20 + random.nextInt(10 * ENTRIES + 40);
            assertEquals(whole.lookup(target), paged.lookup(target), "lookup " + target);
            long position = random.nextInt(100 * ENTRIES + 200) - 50;
            assertEquals(whole.floorPosition(position), paged.floorPosition(position), "floor of " + position);
        }
        assertEquals(whole.lookup(Long.MAX_VALUE), paged.lookup(Long.MAX_VALUE));

        Path wholeFile = dir.resolve("whole.index");
        Path pagedFile = dir.resolve("paged.index");
        whole.writeTo(FILES, wholeFile, 123_456_789);
        paged.writeTo(FILES, pagedFile, 123_456_789);
        assertArrayEquals(Files.readAllBytes(wholeFile), Files.readAllBytes(pagedFile),
                "the index file written from moved pages and memory is the whole index's");
    }

    @Test
    void aPagedTimeIndexAnswersAsTheWholeIndexDoes() throws IOException {
        TimeIndex whole = times(new TimeIndex(BASE), ENTRIES);
        TimeIndex paged = new TimeIndex(BASE);
        paged.pageOut(new PageSpill(FILES, dir.resolve("0.timeindex" + PageSpill.SUFFIX), TimeIndex.ENTRY_SIZE));
        times(paged, ENTRIES);

        assertTrue(paged.pagedOut());
        assertTrue(paged.memoryBytes() <= 2 * OffsetIndex.PAGE_ENTRIES * 12 + 12 * 41 + 96,
                "two pages and one entry per moved page: " + paged.memoryBytes());
        assertEquals(whole.maxTimestamp(), paged.maxTimestamp());
        Random random = new Random(8);
        for (int i = 0; i < 5_000; i++) {
            long target = 4_990 + random.nextInt(7 * ENTRIES + 30);
            assertEquals(whole.lookup(target), paged.lookup(target), "lookup " + target);
        }
        Path wholeFile = dir.resolve("whole.timeindex");
        Path pagedFile = dir.resolve("paged.timeindex");
        whole.writeTo(FILES, wholeFile, 42);
        paged.writeTo(FILES, pagedFile, 42);
        assertArrayEquals(Files.readAllBytes(wholeFile), Files.readAllBytes(pagedFile));
    }

    @Test
    void aLostOrDamagedSpillCostsPrecisionNeverACorrectAnswer() throws IOException {
        OffsetIndex whole = offsets(new OffsetIndex(BASE), ENTRIES);
        TimeIndex wholeTimes = times(new TimeIndex(BASE), ENTRIES);
        Path offsetSpill = dir.resolve("0.index" + PageSpill.SUFFIX);
        Path timeSpill = dir.resolve("0.timeindex" + PageSpill.SUFFIX);
        OffsetIndex paged = new OffsetIndex(BASE);
        paged.pageOut(new PageSpill(FILES, offsetSpill, OffsetIndex.ENTRY_SIZE));
        offsets(paged, ENTRIES);
        TimeIndex pagedTimes = new TimeIndex(BASE);
        pagedTimes.pageOut(new PageSpill(FILES, timeSpill, TimeIndex.ENTRY_SIZE));
        times(pagedTimes, ENTRIES);

        // One byte flipped in the third page of each spill; then the offset spill removed outright.
        for (Path spill : List.of(offsetSpill, timeSpill)) {
            try (FileChannel channel = FileChannel.open(spill, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
                long at = 2L * (OffsetIndex.PAGE_ENTRIES * (spill == offsetSpill ? 8 : 12) + 4) + 100;
                ByteBuffer one = ByteBuffer.allocate(1);
                channel.read(one, at);
                channel.write(one.put(0, (byte) (one.get(0) ^ 0x10)).rewind(), at);
            }
        }
        Random random = new Random(9);
        int coarse = 0;
        for (int i = 0; i < 3_000; i++) {
            long target = BASE + random.nextInt(10 * ENTRIES);
            int exact = whole.lookup(target);
            int answer = paged.lookup(target);
            assertTrue(answer <= exact && answer % 100 == 0, "never past the exact entry: " + answer + " vs " + exact);
            coarse += answer < exact ? 1 : 0;
            long timestamp = 5_000 + random.nextInt(7 * ENTRIES);
            long exactOffset = wholeTimes.lookup(timestamp);
            long offset = pagedTimes.lookup(timestamp);
            assertTrue(offset <= exactOffset && (offset - BASE) % 10 == 0, offset + " vs " + exactOffset);
        }
        assertTrue(coarse > 0, "the damaged page answered from its first entry");
        IOException e = assertThrows(IOException.class, () -> paged.writeTo(FILES, dir.resolve("x.index"), 1));
        assertTrue(e.getMessage().contains(offsetSpill.toString()), e.getMessage());
        assertTrue(Files.notExists(dir.resolve("x.index")), "no index file is written from a damaged spill");

        Files.delete(offsetSpill);
        for (int i = 0; i < 1_000; i++) {
            long target = BASE + random.nextInt(10 * ENTRIES);
            int answer = paged.lookup(target);
            assertTrue(answer <= whole.lookup(target));
            assertTrue(answer >= whole.lookup(target) - 100 * OffsetIndex.PAGE_ENTRIES,
                    "at most a page before the exact entry");
        }
    }

    @Test
    void pagesAnotherSpillLeftAtTheSameNameNeverCheckOut() {
        Path file = dir.resolve("7.index" + PageSpill.SUFFIX);
        PageSpill earlier = new PageSpill(FILES, file, OffsetIndex.ENTRY_SIZE);
        ByteBuffer page = ByteBuffer.allocate(OffsetIndex.PAGE_ENTRIES * OffsetIndex.ENTRY_SIZE);
        assertTrue(earlier.write(0, page.duplicate()));
        assertTrue(earlier.write(1, page.duplicate()));
        assertTrue(earlier.read(1) != null);
        PageSpill later = new PageSpill(FILES, file, OffsetIndex.ENTRY_SIZE);
        assertEquals(null, later.read(1), "a page of the earlier spill is not one of the later's");
        assertTrue(later.write(0, page.duplicate()));
        assertEquals(null, later.read(1), "the later spill's first page started the file afresh");
        assertTrue(later.read(0) != null);
    }

    @Test
    void aReadOnlyViewsIndexKeepsOnlyEachMovedPagesFirstEntry() {
        OffsetIndex whole = offsets(new OffsetIndex(BASE), ENTRIES);
        OffsetIndex paged = new OffsetIndex(BASE);
        paged.pageOut(PageSpill.NONE);
        offsets(paged, ENTRIES);
        assertTrue(paged.memoryBytes() <= 2 * OffsetIndex.PAGE_ENTRIES * 8 + 8 * 41 + 64);
        Random random = new Random(10);
        for (int i = 0; i < 3_000; i++) {
            long target = BASE + random.nextInt(10 * ENTRIES);
            int exact = whole.lookup(target);
            int answer = paged.lookup(target);
            assertTrue(answer <= exact && exact - answer < 100 * OffsetIndex.PAGE_ENTRIES, answer + " vs " + exact);
        }
        long recent = BASE + 10L * (ENTRIES - 5);
        assertEquals(whole.lookup(recent), paged.lookup(recent), "the newest pages answer exactly");
    }

    /**
     * One thread appends (moving pages out as it goes) while readers look up: every answer a reader
     * gets for an offset already indexed when it asked is the exact entry, whether it came from
     * memory or from a page just moved.
     */
    @Test
    void readersRacingPagesMovingOutGetExactAnswers() throws Exception {
        int entries = 200 * OffsetIndex.PAGE_ENTRIES;
        OffsetIndex paged = new OffsetIndex(BASE);
        paged.pageOut(new PageSpill(FILES, dir.resolve("race.index" + PageSpill.SUFFIX), OffsetIndex.ENTRY_SIZE));
        TimeIndex pagedTimes = new TimeIndex(BASE);
        pagedTimes.pageOut(new PageSpill(FILES, dir.resolve("race.timeindex" + PageSpill.SUFFIX),
                TimeIndex.ENTRY_SIZE));
        AtomicBoolean done = new AtomicBoolean();
        ConcurrentLinkedQueue<String> wrong = new ConcurrentLinkedQueue<>();
        List<Thread> readers = new ArrayList<>();
        long[] checked = new long[3];
        for (int r = 0; r < 3; r++) {
            int id = r;
            Thread reader = new Thread(() -> {
                Random random = new Random(id);
                while (!done.get()) {
                    int known = pagedTimes.size(); // appended after the offset entry of the same i
                    if (known < 2) {
                        continue;
                    }
                    int i = random.nextInt(known - 1);
                    long target = BASE + 10L * i + random.nextInt(10);
                    int position = paged.lookup(target);
                    if (position != 100 * i) {
                        wrong.add("offset " + target + " -> position " + position + ", not " + 100 * i);
                    }
                    long timestamp = 5_000 + 7L * (i + 1);
                    long offset = pagedTimes.lookup(timestamp);
                    if (offset != BASE + 10L * i) {
                        wrong.add("timestamp " + timestamp + " -> offset " + offset + ", not " + (BASE + 10L * i));
                    }
                    checked[id]++;
                }
            });
            reader.start();
            readers.add(reader);
        }
        for (int i = 0; i < entries; i++) {
            paged.append(BASE + 10L * i, 100 * i);
            paged.pageOutIfFull();
            pagedTimes.maybeAppend(5_000 + 7L * i, BASE + 10L * i);
            pagedTimes.pageOutIfFull();
        }
        done.set(true);
        for (Thread reader : readers) {
            reader.join();
        }
        assertEquals(List.of(), List.copyOf(wrong).subList(0, Math.min(5, wrong.size())));
        assertTrue(checked[0] + checked[1] + checked[2] > 1_000, "lookups checked: " + checked[0]);
    }
}
