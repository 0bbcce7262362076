package dev.logstore.io;

import java.io.IOException;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.lang.reflect.Field;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Memory maps of file regions that are unmapped when their owner says so, not when the garbage
 * collector gets to them: a mapping keeps its file's pages, and its disk space once the file is
 * deleted, for as long as it lasts.
 *
 * <p>Java 17 has no public way to unmap. Three ways, the first the running Java offers:
 * <ol>
 *   <li>Java 22 and later: the region is mapped into a shared {@code java.lang.foreign.Arena},
 *       and closing the arena unmaps it. Any later use of the buffer fails with an exception.</li>
 *   <li>Java 17 to 21: {@code sun.misc.Unsafe.invokeCleaner} (module {@code jdk.unsupported},
 *       open to every class) unmaps the buffer at once. A use of the buffer after that would
 *       crash the JVM, so an owner unmaps only once no thread can touch the buffer again.</li>
 *   <li>Neither available: the mapping goes when the buffer is collected.</li>
 * </ol>
 * The API is reached through method handles, so the class compiles for and runs on Java 17.
 */
public final class FileMaps {

    private static final Logger log = LoggerFactory.getLogger(FileMaps.class);
    private static final Way WAY = Way.find();

    private FileMaps() {
    }

    /** A mapped region; its buffer is written at indexes relative to the region's start. */
    public static final class Mapping implements AutoCloseable {
        private final long position;
        private final ByteBuffer buffer;
        private final Object arena;
        private boolean unmapped;

        private Mapping(long position, ByteBuffer buffer, Object arena) {
            this.position = position;
            this.buffer = buffer;
            this.arena = arena;
        }

        /** Where the region starts in the file. */
        public long position() {
            return position;
        }

        /** Where the region ends in the file (exclusive). */
        public long end() {
            return position + buffer.capacity();
        }

        /** The region's bytes; not to be used after {@link #close}. */
        public ByteBuffer buffer() {
            return buffer;
        }

        /** Unmaps the region (once; later calls do nothing). The caller makes sure no thread uses the buffer again. */
        @Override
        public void close() {
            if (unmapped) {
                return;
            }
            unmapped = true;
            WAY.unmap(this);
        }
    }

    /**
     * Maps {@code [position, position + size)} of {@code channel} for reading and writing. The
     * channel must be open for both, and the file must already be at least that long: Java
     * extends a shorter file with a hole, and a write into a hole the filesystem cannot fill
     * would stop the JVM with SIGBUS instead of failing a call.
     */
    public static Mapping map(FileChannel channel, long position, int size) throws IOException {
        if (channel.size() < position + size) {
            throw new IOException("cannot map bytes " + position + " to " + (position + size) + " of a file of "
                    + channel.size() + " bytes: write the region first");
        }
        return WAY.map(channel, position, size);
    }

    /** How regions are unmapped on this Java: for logs and benchmark reports. */
    public static String unmapping() {
        return WAY.description;
    }

    private abstract static class Way {
        final String description;

        Way(String description) {
            this.description = description;
        }

        abstract Mapping map(FileChannel channel, long position, int size) throws IOException;

        abstract void unmap(Mapping mapping);

        static Way find() {
            if (Runtime.version().feature() >= 22) {
                try {
                    return new ArenaWay();
                } catch (ReflectiveOperationException | RuntimeException e) {
                    log.debug("java.lang.foreign is not usable here ({}); trying sun.misc.Unsafe", e.toString());
                }
            }
            try {
                return new CleanerWay();
            } catch (ReflectiveOperationException | RuntimeException e) {
                log.warn("Neither java.lang.foreign nor sun.misc.Unsafe.invokeCleaner is usable ({}): memory maps are "
                        + "unmapped by the garbage collector, so files removed while mapped keep their disk space "
                        + "until a collection", e.toString());
                return new CollectorWay();
            }
        }
    }

    /** Java 22+: {@code FileChannel.map(mode, position, size, Arena.ofShared())}, unmapped by {@code Arena.close()}. */
    private static final class ArenaWay extends Way {
        private final MethodHandle ofShared;
        private final MethodHandle mapInArena;
        private final MethodHandle asByteBuffer;
        private final MethodHandle close;

        ArenaWay() throws ReflectiveOperationException {
            super("closing a java.lang.foreign.Arena");
            MethodHandles.Lookup lookup = MethodHandles.publicLookup();
            Class<?> arena = Class.forName("java.lang.foreign.Arena");
            Class<?> segment = Class.forName("java.lang.foreign.MemorySegment");
            ofShared = lookup.findStatic(arena, "ofShared", MethodType.methodType(arena));
            mapInArena = lookup.findVirtual(FileChannel.class, "map", MethodType.methodType(segment,
                    FileChannel.MapMode.class, long.class, long.class, arena));
            asByteBuffer = lookup.findVirtual(segment, "asByteBuffer", MethodType.methodType(ByteBuffer.class));
            close = lookup.findVirtual(arena, "close", MethodType.methodType(void.class));
        }

        @Override
        Mapping map(FileChannel channel, long position, int size) throws IOException {
            Object arena;
            try {
                arena = ofShared.invoke();
            } catch (Throwable e) {
                throw new IOException("cannot make an arena to map " + size + " bytes: " + e, e);
            }
            try {
                Object segment = mapInArena.invoke(channel, FileChannel.MapMode.READ_WRITE, position, (long) size, arena);
                return new Mapping(position, (ByteBuffer) asByteBuffer.invoke(segment), arena);
            } catch (UnsupportedOperationException e) {
                // A FileChannel of its own (a test's wrapper) that maps only the Java 17 way.
                closeArena(arena);
                return new Mapping(position, channel.map(FileChannel.MapMode.READ_WRITE, position, size), null);
            } catch (IOException | RuntimeException | Error e) {
                closeArena(arena);
                throw e;
            } catch (Throwable e) {
                closeArena(arena);
                throw new IOException(e);
            }
        }

        @Override
        void unmap(Mapping mapping) {
            if (mapping.arena == null) {
                CleanerWay.FALLBACK.unmap(mapping);
                return;
            }
            closeArena(mapping.arena);
        }

        private void closeArena(Object arena) {
            try {
                close.invoke(arena);
            } catch (Throwable e) {
                log.warn("Could not unmap a memory-mapped region ({}); it is unmapped when collected", e.toString());
            }
        }
    }

    /** Java 17 to 21: {@code sun.misc.Unsafe.invokeCleaner}. */
    private static final class CleanerWay extends Way {
        static final Way FALLBACK = fallback();

        private final MethodHandle invokeCleaner;

        CleanerWay() throws ReflectiveOperationException {
            super("sun.misc.Unsafe.invokeCleaner");
            Class<?> unsafeClass = Class.forName("sun.misc.Unsafe");
            Field field = unsafeClass.getDeclaredField("theUnsafe");
            field.setAccessible(true);
            invokeCleaner = MethodHandles.lookup().findVirtual(unsafeClass, "invokeCleaner",
                    MethodType.methodType(void.class, ByteBuffer.class)).bindTo(field.get(null));
        }

        private static Way fallback() {
            try {
                return new CleanerWay();
            } catch (ReflectiveOperationException | RuntimeException e) {
                return new CollectorWay();
            }
        }

        @Override
        Mapping map(FileChannel channel, long position, int size) throws IOException {
            return new Mapping(position, channel.map(FileChannel.MapMode.READ_WRITE, position, size), null);
        }

        @Override
        void unmap(Mapping mapping) {
            try {
                invokeCleaner.invokeExact(mapping.buffer);
            } catch (Throwable e) {
                log.warn("Could not unmap a memory-mapped region ({}); it is unmapped when collected", e.toString());
            }
        }
    }

    /** No way to unmap: the collector does it. */
    private static final class CollectorWay extends Way {
        CollectorWay() {
            super("the garbage collector");
        }

        @Override
        Mapping map(FileChannel channel, long position, int size) throws IOException {
            return new Mapping(position, channel.map(FileChannel.MapMode.READ_WRITE, position, size), null);
        }

        @Override
        void unmap(Mapping mapping) {
            // dropped by its owner; collected later
        }
    }
}
