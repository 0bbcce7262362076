package dev.logstore.segment;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.logstore.io.FileOpener;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The write side of a segment file. A force that returns at once when nothing was written since the last one must never count a
 * write still in progress as forced: that write's own force would then do nothing.
 */
class SegmentFileForceTest {

    @TempDir
    Path dir;

    @Test
    void aWriteInFlightDuringAForceIsNeverForced() throws Exception {
        CountDownLatch writing = new CountDownLatch(1);
        CountDownLatch finishWrite = new CountDownLatch(1);
        AtomicInteger forcesAfterWrite = new AtomicInteger();
        boolean[] written = {false};
        FileOpener opener = (file, options) -> new Hooked(FileChannel.open(file, options), writing, finishWrite,
                forcesAfterWrite, written);
        SegmentFile file = SegmentFile.create(opener, new OpenFiles(8), dir, 0, false);
        Thread appender = new Thread(() -> {
            try {
                file.write(ByteBuffer.wrap(new byte[100]), 0);
            } catch (IOException e) {
                throw new RuntimeException(e);
            }
        });
        appender.start();
        assertTrue(writing.await(10, TimeUnit.SECONDS));
        file.force(); // a group-commit fsync that began while the append was being written
        finishWrite.countDown();
        appender.join();
        file.force(); // the appender's own sync: must reach the disk
        assertTrue(forcesAfterWrite.get() > 0, "the write completed after the only fsync began, and no fsync followed");
    }

    /**
     * A sealed file keeps only its read side: writes and forces through it fail as closed, its
     * descriptors are given back to the pool, and its bytes stay readable.
     */
    @Test
    void aSealedFileRefusesWritesAndStaysReadable() throws Exception {
        OpenFiles pool = new OpenFiles(8);
        SegmentFile file = SegmentFile.create(FileOpener.DEFAULT, pool, dir, 42, false);
        assertEquals(dir.resolve("00000000000000000042.log"), file.path());
        file.write(ByteBuffer.wrap(new byte[] {1, 2, 3}), 0);
        file.force();
        file.closeWriter();
        assertFalse(file.writable());
        assertEquals(0, pool.open(), "the sealed file still holds its write channel");
        assertThrows(ClosedChannelException.class, () -> file.write(ByteBuffer.wrap(new byte[] {4}), 3));
        assertThrows(ClosedChannelException.class, file::force);
        file.writeBack(); // nothing to write back: no error
        ByteBuffer back = ByteBuffer.allocate(3);
        file.readFully(back, 0);
        assertArrayEquals(new byte[] {1, 2, 3}, back.array());
        assertEquals(1, pool.open(), "the read channel is not counted");
        file.close();
        assertEquals(0, pool.open());
    }

    private static final class Hooked extends FileChannel {
        private final FileChannel d;
        private final CountDownLatch writing;
        private final CountDownLatch finishWrite;
        private final AtomicInteger forcesAfterWrite;
        private final boolean[] written;

        Hooked(FileChannel d, CountDownLatch writing, CountDownLatch finishWrite, AtomicInteger forcesAfterWrite,
               boolean[] written) {
            this.d = d;
            this.writing = writing;
            this.finishWrite = finishWrite;
            this.forcesAfterWrite = forcesAfterWrite;
            this.written = written;
        }

        @Override
        public int write(ByteBuffer src, long position) throws IOException {
            writing.countDown();
            try {
                finishWrite.await();
            } catch (InterruptedException e) {
                throw new IOException(e);
            }
            int n = d.write(src, position);
            synchronized (written) {
                written[0] = true;
            }
            return n;
        }

        @Override
        public void force(boolean metaData) throws IOException {
            synchronized (written) {
                if (written[0]) {
                    forcesAfterWrite.incrementAndGet();
                }
            }
            d.force(metaData);
        }

        @Override public int read(ByteBuffer dst) throws IOException { return d.read(dst); }
        @Override public long read(ByteBuffer[] dsts, int o, int l) throws IOException { return d.read(dsts, o, l); }
        @Override public int write(ByteBuffer src) throws IOException { return d.write(src); }
        @Override public long write(ByteBuffer[] srcs, int o, int l) throws IOException { return d.write(srcs, o, l); }
        @Override public long position() throws IOException { return d.position(); }
        @Override public FileChannel position(long p) throws IOException { d.position(p); return this; }
        @Override public long size() throws IOException { return d.size(); }
        @Override public FileChannel truncate(long s) throws IOException { d.truncate(s); return this; }
        @Override public long transferTo(long p, long c, WritableByteChannel t) throws IOException { return d.transferTo(p, c, t); }
        @Override public long transferFrom(ReadableByteChannel s, long p, long c) throws IOException { return d.transferFrom(s, p, c); }
        @Override public int read(ByteBuffer dst, long p) throws IOException { return d.read(dst, p); }
        @Override public MappedByteBuffer map(MapMode m, long p, long s) throws IOException { return d.map(m, p, s); }
        @Override public FileLock lock(long p, long s, boolean sh) throws IOException { return d.lock(p, s, sh); }
        @Override public FileLock tryLock(long p, long s, boolean sh) throws IOException { return d.tryLock(p, s, sh); }
        @Override protected void implCloseChannel() throws IOException { d.close(); }
    }
}
