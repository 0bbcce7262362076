package dev.logstore;

import dev.logstore.io.FileOpener;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;

/**
 * A FileOpener with hooks around opens, positional reads, writes and forces, and a model of an
 * operating-system crash: files keep what was written, directories only the entries they had at
 * their last fsync.
 */
final class HookedFiles implements FileOpener {

    interface Hook {
        void run(Path path) throws IOException;
    }

    volatile Hook onOpen = p -> { };
    volatile Hook beforeRead = p -> { };
    volatile Hook beforeWrite = p -> { };
    volatile Hook beforeForce = p -> { };
    volatile Hook afterForce = p -> { };
    volatile Hook afterWrite = p -> { };
    final AtomicLong dirForces = new AtomicLong();
    final AtomicLong seq = new AtomicLong();
    /** Directory -> its state at its last successful fsync. */
    final Map<Path, DirState> durable = new ConcurrentHashMap<>();

    record DirState(Map<String, Object> keys, Map<String, byte[]> bytes) {
    }

    /** True when the current thread is inside {@code PartitionWriter.method}: a hook's way to tell whose I/O it sees. */
    static boolean calledFromWriter(String method) {
        return calledFrom("PartitionWriter", method);
    }

    /** True when the current thread is inside {@code method} of a class whose name ends with {@code classSuffix}. */
    static boolean calledFrom(String classSuffix, String method) {
        for (StackTraceElement e : Thread.currentThread().getStackTrace()) {
            if (e.getClassName().endsWith(classSuffix) && e.getMethodName().equals(method)) {
                return true;
            }
        }
        return false;
    }

    static DirState snapshot(Path dir) throws IOException {
        Map<String, Object> keys = new TreeMap<>();
        Map<String, byte[]> bytes = new TreeMap<>();
        try (Stream<Path> files = Files.list(dir)) {
            for (Path f : (Iterable<Path>) files::iterator) {
                if (Files.isRegularFile(f)) {
                    String name = f.getFileName().toString();
                    keys.put(name, Files.readAttributes(f, BasicFileAttributes.class).fileKey());
                    bytes.put(name, Files.readAllBytes(f));
                }
            }
        }
        return new DirState(keys, bytes);
    }

    /**
     * Writes to {@code out} the store {@code storeDir} as an OS crash now would leave it, the
     * partition directory {@code partDir} being restored to {@code state}.
     */
    static void crashImage(Path storeDir, Path partDir, DirState state, Path out) throws IOException {
        Files.createDirectories(out);
        try (Stream<Path> walk = Files.walk(storeDir)) {
            for (Path p : (Iterable<Path>) walk::iterator) {
                if (p.startsWith(partDir)) {
                    continue;
                }
                Path target = out.resolve(storeDir.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(target);
                } else {
                    Files.copy(p, target);
                }
            }
        }
        Path partOut = out.resolve(storeDir.relativize(partDir).toString());
        Files.createDirectories(partOut);
        for (Map.Entry<String, Object> e : state.keys().entrySet()) {
            Path live = partDir.resolve(e.getKey());
            byte[] content = state.bytes().get(e.getKey());
            if (Files.isRegularFile(live)
                    && e.getValue().equals(Files.readAttributes(live, BasicFileAttributes.class).fileKey())) {
                content = Files.readAllBytes(live); // same inode: its data as of now
            }
            Files.write(partOut.resolve(e.getKey()), content);
        }
    }

    @Override
    public FileChannel open(Path file, OpenOption... options) throws IOException {
        onOpen.run(file);
        return new Channel(file, FileChannel.open(file, options));
    }

    private final class Channel extends DelegatingFileChannel {
        Channel(Path path, FileChannel delegate) {
            super(path, delegate);
        }

        @Override
        public int write(ByteBuffer src) throws IOException {
            beforeWrite.run(path);
            return delegate.write(src);
        }

        @Override
        public long write(ByteBuffer[] srcs, int offset, int length) throws IOException {
            beforeWrite.run(path);
            return delegate.write(srcs, offset, length);
        }

        @Override
        public int write(ByteBuffer src, long position) throws IOException {
            beforeWrite.run(path);
            int n = delegate.write(src, position);
            afterWrite.run(path);
            return n;
        }

        @Override
        public int read(ByteBuffer dst, long position) throws IOException {
            beforeRead.run(path);
            return delegate.read(dst, position);
        }

        @Override
        public void force(boolean metaData) throws IOException {
            beforeForce.run(path);
            delegate.force(metaData);
            afterForce.run(path);
            if (Files.isDirectory(path)) {
                dirForces.incrementAndGet();
                durable.put(path, snapshot(path));
            }
        }
    }
}
