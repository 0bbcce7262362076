package dev.logstore.log;

import dev.logstore.CorruptLogException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.CRC32C;

/**
 * A partition's manifest: the one record of which segments make up the partition and how far
 * each may be read. Readers learn the partition's shape from it and nothing else, so a racing
 * directory listing can never make them skip a segment, and a sealed segment is never read past
 * the size recorded here. Written by the writer of epoch {@link #epoch()} into the file named
 * after that epoch (see {@link Manifests}).
 *
 * <pre>
 *  offset size field          meaning
 *  ------ ---- -------------- ---------------------------------------------------------------
 *       0    4 magic          "LSMF" (0x4C534D46)
 *       4    2 version        1
 *       6    2 flags          bit 0: clean shutdown (the last segment's entry is final);
 *                              bits 1 to 15: a random tag of the writer (0 when none), which
 *                              tells apart manifests that are otherwise the same (the first
 *                              manifest of every new partition is): see {@link CleanCloses}
 *       8    4 epoch          writer epoch that wrote this manifest
 *      12    8 sequence       counts the manifests this epoch wrote: 0 for the first, then 1, 2...
 *      20    8 startOffset    offsets below it were removed (or never written)
 *      28    4 segmentCount   at least 1
 *      32   44 segment        segmentCount entries, by ascending base offset:
 *                              int64 baseOffset
 *                              int32 epoch          writer epoch whose batches the segment holds (0: before epochs)
 *                              int64 createdMillis  when its first batch was written, -1 while empty
 *                              int64 size           bytes of whole batches; -1 for the active segment
 *                              int64 nextOffset     offset after its last record; -1 for the active segment
 *                              int64 maxTimestamp   greatest record timestamp, Long.MIN_VALUE when empty
 *    32+44n  4 crc            CRC-32C of every byte before it
 * </pre>
 *
 * Epoch and sequence together name one manifest: a reader that finds them unchanged (reading
 * the first 20 bytes) knows the manifest is unchanged. Every entry but the last is sealed. The last is the active segment: its size and next offset
 * are -1 unless the clean-shutdown flag is set, when they are its final values.
 */
public record Manifest(int epoch, long sequence, boolean clean, long startOffset, List<Entry> segments, int tag) {

    static final int MAGIC = 0x4C534D46;
    static final short VERSION = 1;
    /** Bytes before the first segment entry; the first {@link #IDENTITY} of them say which manifest this is. */
    private static final int HEADER = 32;
    static final int IDENTITY = 20;
    private static final int ENTRY = 44;

    /** One segment as the manifest records it. */
    public record Entry(long baseOffset, int epoch, long createdMillis, long size, long nextOffset,
                        long maxTimestamp) {
        /** True when the size and next offset are known (a sealed segment, or the last one after a clean close). */
        public boolean complete() {
            return size >= 0;
        }
    }

    /** The largest tag: 15 bits. */
    static final int MAX_TAG = 0x7FFF;

    public Manifest {
        segments = List.copyOf(segments);
        if (tag < 0 || tag > MAX_TAG) {
            throw new IllegalArgumentException("manifest tag " + tag + " is not a 15-bit number");
        }
    }

    /** A manifest without a tag. */
    public Manifest(int epoch, long sequence, boolean clean, long startOffset, List<Entry> segments) {
        this(epoch, sequence, clean, startOffset, segments, 0);
    }

    /** A random tag for a writer's manifests. */
    static int randomTag() {
        return 1 + java.util.concurrent.ThreadLocalRandom.current().nextInt(MAX_TAG);
    }

    /** The last entry: the active segment (or, after a clean close, the one that was). */
    public Entry last() {
        return segments.get(segments.size() - 1);
    }

    /** The CRC-32C its file ends with. */
    int checksum() {
        ByteBuffer bytes = encode();
        return bytes.getInt(bytes.limit() - Integer.BYTES);
    }

    ByteBuffer encode() {
        ByteBuffer bytes = ByteBuffer.allocate(HEADER + ENTRY * segments.size() + Integer.BYTES);
        bytes.putInt(MAGIC).putShort(VERSION).putShort((short) ((tag << 1) | (clean ? 1 : 0))).putInt(epoch)
                .putLong(sequence)
                .putLong(startOffset).putInt(segments.size());
        for (Entry e : segments) {
            bytes.putLong(e.baseOffset()).putInt(e.epoch()).putLong(e.createdMillis()).putLong(e.size())
                    .putLong(e.nextOffset()).putLong(e.maxTimestamp());
        }
        CRC32C crc = new CRC32C();
        crc.update(bytes.array(), 0, bytes.position());
        bytes.putInt((int) crc.getValue());
        return bytes.flip();
    }

    /**
     * Decodes a manifest file's bytes.
     *
     * @throws CorruptLogException naming the file when the bytes are not a whole, intact manifest
     */
    static Manifest decode(ByteBuffer bytes, Path file) {
        int size = bytes.remaining();
        if (size < HEADER + Integer.BYTES) {
            throw corrupt(file, "it is " + size + " bytes, shorter than any manifest");
        }
        CRC32C crc = new CRC32C();
        crc.update(bytes.duplicate().limit(bytes.position() + size - Integer.BYTES));
        if ((int) crc.getValue() != bytes.getInt(bytes.position() + size - Integer.BYTES)) {
            throw corrupt(file, "its CRC-32C does not match");
        }
        if (bytes.getInt() != MAGIC) {
            throw corrupt(file, "it does not start with the manifest magic");
        }
        short version = bytes.getShort();
        if (version != VERSION) {
            throw corrupt(file, "manifest version " + version + " is not known to this LogStore (it reads " + VERSION
                    + "); read the store with the LogStore version that wrote it");
        }
        int flags = bytes.getShort() & 0xFFFF;
        boolean clean = (flags & 1) != 0;
        int epoch = bytes.getInt();
        long sequence = bytes.getLong();
        long startOffset = bytes.getLong();
        int count = bytes.getInt();
        if (count < 1 || count != (size - HEADER - Integer.BYTES) / ENTRY || (size - HEADER - Integer.BYTES) % ENTRY != 0) {
            throw corrupt(file, "it declares " + count + " segments in " + size + " bytes");
        }
        List<Entry> entries = new ArrayList<>(count);
        long previousEnd = -1;
        for (int i = 0; i < count; i++) {
            Entry e = new Entry(bytes.getLong(), bytes.getInt(), bytes.getLong(), bytes.getLong(), bytes.getLong(),
                    bytes.getLong());
            boolean last = i == count - 1;
            if (e.baseOffset() < 0 || e.baseOffset() < previousEnd || e.epoch() < 0
                    || (!last && !e.complete()) || (e.complete() && e.nextOffset() < e.baseOffset())) {
                throw corrupt(file, "segment entry " + i + " is inconsistent: " + e);
            }
            previousEnd = e.complete() ? e.nextOffset() : e.baseOffset();
            entries.add(e);
        }
        return new Manifest(epoch, sequence, clean, startOffset, entries, flags >>> 1);
    }

    /**
     * Epoch and sequence, from the first {@link #IDENTITY} bytes of a manifest file; null when
     * they are not a manifest's.
     */
    static long[] identity(ByteBuffer bytes) {
        if (bytes.remaining() < IDENTITY || bytes.getInt(0) != MAGIC) {
            return null;
        }
        return new long[] {bytes.getInt(8), bytes.getLong(12)};
    }

    private static CorruptLogException corrupt(Path file, String why) {
        return new CorruptLogException(file + " is not a valid partition manifest: " + why + ". Restore the file "
                + "from a copy; if LogStore did not write it (a stray file of that name), remove it", file, 0);
    }
}
