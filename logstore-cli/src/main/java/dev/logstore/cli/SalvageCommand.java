package dev.logstore.cli;

import dev.logstore.Durability;
import dev.logstore.LogStore;
import dev.logstore.log.PartitionLayout;
import dev.logstore.record.BatchHeader;
import dev.logstore.record.BatchUnpacker;
import dev.logstore.record.Codec;
import dev.logstore.record.LogRecord;
import dev.logstore.record.Record;
import dev.logstore.record.RecordDecoder;
import dev.logstore.record.RecordView;
import dev.logstore.segment.SegmentScanner;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * Copies every intact batch of a damaged store into a new one, with the same offsets, keys,
 * values, headers and timestamps, and says exactly which offsets could not be copied and why.
 * Past a damaged stretch it finds the next intact batch by trying every byte position for a
 * batch header whose checksum holds.
 */
@Command(name = "salvage", mixinStandardHelpOptions = true, description = "Copy every intact batch of a damaged "
        + "store into a new store (same offsets), and print exactly which offset ranges were lost and why. The source "
        + "is only read. Exit code 1 when something was lost.")
final class SalvageCommand implements Callable<Integer> {

    private static final int WINDOW = 1 << 20;

    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "STORE", description = "The damaged store directory.")
    Path source;

    @Parameters(index = "1", paramLabel = "TARGET", description = "A new store directory (must not exist).")
    Path target;

    @Mixin
    KeyOptions keys = new KeyOptions();

    @Option(names = "--compression", paramLabel = "CODEC", description = "How the copy stores its batches: none, lz4 "
            + "or zstd (default: ${DEFAULT-VALUE}). Salvage re-encodes every record it copies.")
    String compression = "zstd";

    @Option(names = "--encrypt-with", paramLabel = "KEY_ID", description = "Encrypt the copy with this key of "
            + "--key-file or --keystore (default: the copy is not encrypted).")
    String encryptWith;

    /** Unpacks the batches copied, decrypting with the keys given. */
    private BatchUnpacker unpacker;

    /** One stretch of offsets that could not be copied. */
    private record Lost(int partition, long from, long to, String why) {
        @Override
        public String toString() {
            String range = to == Long.MAX_VALUE ? "offsets from " + from + " on" : from == to ? "offset " + from
                    : "offsets " + from + " to " + to;
            return "partition " + partition + ": lost " + range + ": " + why;
        }
    }

    @Override
    public Integer call() throws Exception {
        if (!LogStore.isStore(source)) {
            throw new ParameterException(spec.commandLine(), source + (Files.exists(source) ? " is not a LogStore store "
                    + "(no logstore.properties)" : " does not exist"));
        }
        if (Files.exists(target)) {
            throw new ParameterException(spec.commandLine(), target + " exists; salvage writes a new store: give a "
                    + "path that does not exist yet");
        }
        dev.logstore.KeyProvider keyProvider = keys.provider();
        if (encryptWith != null && keyProvider == null) {
            throw new ParameterException(spec.commandLine(), "--encrypt-with needs --key-file or --keystore holding "
                    + "the key " + encryptWith);
        }
        Codec codec;
        try {
            codec = Codec.parse(compression);
        } catch (IllegalArgumentException e) {
            throw new ParameterException(spec.commandLine(), "--compression: " + e.getMessage());
        }
        unpacker = new BatchUnpacker(keyProvider);
        LogStore.Builder copyBuilder = LogStore.builder(target).durability(Durability.onFlush()).compression(codec);
        if (encryptWith != null) {
            copyBuilder.encryption(keyProvider, encryptWith);
        }
        int partitions;
        try (LogStore store = LogStore.builder(source).readOnly().open()) {
            partitions = store.partitionCount();
        }
        PrintWriter out = spec.commandLine().getOut();
        List<Lost> lost = new ArrayList<>();
        List<String> skippedCheckpoints = new ArrayList<>();
        long copied = 0;
        try (LogStore copy = copyBuilder.partitions(partitions).open()) {
            for (int p = 0; p < partitions; p++) {
                Path dir = source.resolve(LogStore.partitionDirectoryName(p));
                if (!Files.isDirectory(dir)) {
                    lost.add(new Lost(p, 0, Long.MAX_VALUE, dir + " is missing: the whole partition"));
                    continue;
                }
                try {
                    copied += salvagePartition(p, dir, copy, lost);
                } catch (dev.logstore.CorruptLogException e) {
                    lost.add(new Lost(p, 0, Long.MAX_VALUE, "cannot read the partition's manifest: " + e.getMessage()));
                }
            }
            copy.flush();
            // The sink's marker and checkpoints go along: the copy is still that topic's archive.
            try (java.util.stream.Stream<Path> files = Files.list(source)) {
                for (Path file : (Iterable<Path>) files::iterator) {
                    String name = file.getFileName().toString();
                    if (name.startsWith("sink-") && name.endsWith(".properties") && Files.isRegularFile(file)) {
                        // A checkpoint tells the sink which topic offsets are archived: only true of a whole copy.
                        if (name.equals("sink-archive.properties") || lost.isEmpty()) {
                            Files.copy(file, target.resolve(name));
                        } else {
                            skippedCheckpoints.add(name);
                        }
                    }
                }
            }
        } catch (IOException | RuntimeException e) {
            throw new IOException(e.getMessage() + ". " + target + " holds what was copied before this; delete it before "
                    + "running salvage again", e);
        }
        for (Lost range : lost) {
            out.println(range);
        }
        if (!skippedCheckpoints.isEmpty()) {
            out.println("not copied: the sink's " + String.join(", ", skippedCheckpoints) + ", which would claim the "
                    + "lost offsets as archived; a sink archiving into the copy starts from what the copy holds");
        }
        out.println("salvaged " + copied + " record(s) into " + target + (lost.isEmpty() ? "; nothing was lost"
                : "; " + lost.size() + " lost range(s)"));
        out.flush();
        return lost.isEmpty() ? 0 : 1;
    }

    private long salvagePartition(int partition, Path dir, LogStore copy, List<Lost> lost) throws IOException {
        PartitionLayout layout = PartitionLayout.read(dir);
        List<PartitionLayout.SegmentEntry> segments = layout.segments();
        long copied = 0;
        long next = layout.startOffset();
        for (int i = 0; i < segments.size(); i++) {
            PartitionLayout.SegmentEntry entry = segments.get(i);
            long segmentEnd = i + 1 < segments.size() ? segments.get(i + 1).baseOffset() - 1 : Long.MAX_VALUE;
            next = Math.max(next, entry.baseOffset());
            long fileSize;
            try {
                fileSize = Files.size(entry.file());
            } catch (NoSuchFileException e) {
                lost.add(new Lost(partition, next, segmentEnd, entry.file() + " is missing"));
                continue;
            }
            long end = entry.recordedSize() >= 0 ? Math.min(fileSize, entry.recordedSize()) : fileSize;
            boolean lostToEnd = false;
            try (FileChannel channel = FileChannel.open(entry.file(), StandardOpenOption.READ)) {
                long position = 0;
                while (position < end) {
                    long[] count = {0};
                    SegmentScanner.Result result = SegmentScanner.scan((dst, at) -> dev.logstore.io.Directories.readFully(channel, dst, at),
                            position, end, next, SegmentScanner.ANY_EPOCH,
                            (at, header) -> count[0] += copyBatch(channel, at, header, partition, copy, entry.file(),
                                    lost));
                    copied += count[0];
                    next = result.nextOffset();
                    if (result.clean()) {
                        break;
                    }
                    // The damaged batch's own header, when it still makes sense, says where the batch
                    // ends and which offsets it held: resume right after it if an intact batch is there.
                    BatchHeader damaged = plausibleHeader(channel, result.validEnd(), end, next, segmentEnd);
                    long resume = -1;
                    if (damaged != null && intactAt(channel, result.validEnd() + damaged.sizeInBytes(), end,
                            damaged.lastOffset() + 1, segmentEnd)) {
                        resume = result.validEnd() + damaged.sizeInBytes();
                    }
                    if (resume < 0) {
                        resume = findIntactBatch(channel, result.validEnd() + 1, end, next, segmentEnd);
                    }
                    String where = result.problem() + " at byte " + result.validEnd() + " of " + entry.file();
                    if (resume < 0 && result.reserved() && entry.recordedSize() < 0) {
                        break; // zeros past the active segment's data: its end, nothing lost
                    }
                    if (resume < 0) {
                        lost.add(new Lost(partition, next, segmentEnd, where + (result.torn()
                                && entry.recordedSize() < 0 ? " (the torn end of the active segment)" : "")
                                + "; no intact batch after it in this segment"));
                        lostToEnd = true;
                        break;
                    }
                    long base = headerAt(channel, resume).baseOffset();
                    if (damaged != null && damaged.lastOffset() < base) {
                        lost.add(new Lost(partition, Math.max(next, damaged.baseOffset()), damaged.lastOffset(),
                                where + "; intact again at byte " + resume));
                    } else {
                        lost.add(new Lost(partition, next, base - 1, where + "; intact again at byte " + resume
                                + " (at most these offsets: the damaged bytes do not say which of them were written)"));
                    }
                    position = resume;
                    next = base;
                }
            }
            if (!lostToEnd && entry.recordedSize() >= 0 && fileSize < entry.recordedSize() && next <= segmentEnd) {
                lost.add(new Lost(partition, next, segmentEnd, entry.file() + " is " + fileSize + " bytes, "
                        + entry.recordedSize() + " when sealed: its end was cut off"));
            }
            if (i + 1 < segments.size()) {
                next = segments.get(i + 1).baseOffset();
            }
        }
        return copied;
    }

    /**
     * Appends the batch at {@code position} to the copy, records and offsets as they are; returns
     * its record count. A batch whose checksum holds but whose records do not unpack (damage made
     * before the checksum was computed, or a ciphertext that fails authentication) is lost alone,
     * and said so; a key that was not given stops the salvage, since every batch of it needs it.
     */
    private long copyBatch(FileChannel channel, long position, BatchHeader header, int partition, LogStore copy,
                           Path file, List<Lost> lost) {
        try {
            ByteBuffer bytes = ByteBuffer.allocate(header.sizeInBytes());
            readFully(channel, bytes, position);
            List<Record> records = new ArrayList<>();
            List<Long> offsets = new ArrayList<>();
            RecordDecoder.decodeBatch(bytes, 0, header, file, position, Long.MIN_VALUE, Integer.MAX_VALUE,
                    unpacker, new RecordView(), view -> {
                        LogRecord record = view.toLogRecord();
                        records.add(record.record());
                        offsets.add(record.offset());
                    });
            if (!records.isEmpty()) {
                copy.append(partition, offsets.stream().mapToLong(Long::longValue).toArray(), records);
            }
            return records.size();
        } catch (dev.logstore.CorruptLogException e) {
            lost.add(new Lost(partition, header.baseOffset(), header.lastOffset(), "the batch at byte " + position + " of "
                    + file + " does not unpack: " + e.getMessage()));
            return 0;
        } catch (dev.logstore.EncryptionKeyException e) {
            if (e.missing()) {
                throw e;
            }
            lost.add(new Lost(partition, header.baseOffset(), header.lastOffset(), "the batch at byte " + position + " of "
                    + file + " fails to decrypt: " + e.getMessage()));
            return 0;
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /**
     * The position of the first intact batch at or after {@code from}: a header that checks out,
     * an offset not below {@code minOffset}, within the segment, and a matching checksum; -1 when none.
     */
    private static long findIntactBatch(FileChannel channel, long from, long end, long minOffset, long maxOffset)
            throws IOException {
        ByteBuffer window = ByteBuffer.allocate((int) Math.min(WINDOW, Math.max(1, end - from)));
        for (long start = from; start < end; start += Math.max(1, window.capacity() - dev.logstore.record.BatchFormat.MAX_HEADER_SIZE)) {
            window.clear().limit((int) Math.min(window.capacity(), end - start));
            readFully(channel, window, start);
            int limit = window.limit();
            for (int i = 0; i < limit; i++) {
                // A cheap look in the window first; the full check only for a header that makes sense.
                BatchHeader header = BatchHeader.readIfComplete(window, i, limit - i);
                if (header == null || header.problem() != null || header.baseOffset() < minOffset
                        || header.lastOffset() > maxOffset) {
                    continue;
                }
                if (intactAt(channel, start + i, end, minOffset, maxOffset)) {
                    return start + i;
                }
            }
            if (start + limit >= end) {
                break;
            }
        }
        return -1;
    }

    /**
     * True when an intact batch starts at {@code position}: its header checks out, its offsets lie
     * in {@code [minOffset, maxOffset]}, its checksum matches, and what follows it is the end of
     * the segment or another header that checks out with later offsets. (A batch stored inside a
     * record's value passes the first tests; what follows it is the rest of that value.)
     */
    private static boolean intactAt(FileChannel channel, long position, long end, long minOffset, long maxOffset)
            throws IOException {
        BatchHeader header = plausibleHeader(channel, position, end, minOffset, maxOffset);
        if (header == null) {
            return false;
        }
        ByteBuffer whole = ByteBuffer.allocate(header.sizeInBytes());
        readFully(channel, whole, position);
        if (BatchHeader.computeCrc(whole, 0, header.sizeInBytes()) != header.crc()) {
            return false;
        }
        long after = position + header.sizeInBytes();
        return after == end || plausibleHeader(channel, after, end, header.lastOffset() + 1, maxOffset) != null;
    }

    /** The header at {@code position} if it checks out and its offsets lie in {@code [minOffset, maxOffset]}; else null. */
    private static BatchHeader plausibleHeader(FileChannel channel, long position, long end, long minOffset,
                                               long maxOffset) throws IOException {
        int max = dev.logstore.record.BatchFormat.MAX_HEADER_SIZE;
        if (position < 0 || end - position < dev.logstore.record.BatchFormat.MIN_HEADER_SIZE) {
            return null;
        }
        ByteBuffer bytes = ByteBuffer.allocate((int) Math.min(max, end - position));
        readFully(channel, bytes, position);
        BatchHeader header = BatchHeader.readIfComplete(bytes, 0, bytes.limit());
        if (header == null || header.problem() != null || header.baseOffset() < minOffset
                || header.lastOffset() > maxOffset || position + header.sizeInBytes() > end) {
            return null;
        }
        return header;
    }

    private static BatchHeader headerAt(FileChannel channel, long position) throws IOException {
        ByteBuffer bytes = ByteBuffer.allocate(dev.logstore.record.BatchFormat.MAX_HEADER_SIZE);
        bytes.limit((int) Math.min(bytes.capacity(), channel.size() - position));
        readFully(channel, bytes, position);
        return BatchHeader.read(bytes, 0);
    }

    /** Fills {@code dst} from {@code position} and flips it for reading. */
    private static void readFully(FileChannel channel, ByteBuffer dst, long position) throws IOException {
        dev.logstore.io.Directories.readFully(channel, dst, position);
        dst.flip();
    }
}
