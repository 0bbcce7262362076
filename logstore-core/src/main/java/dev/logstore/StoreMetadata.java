package dev.logstore;

import dev.logstore.io.Directories;
import dev.logstore.io.FileLocks;
import dev.logstore.io.FileOpener;
import java.io.IOException;
import java.io.Reader;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Properties;

/**
 * The store's {@code logstore.properties}: format version, partition count and partitioner.
 * Written atomically (temporary file, fsync, rename, directory fsync) under {@code .meta.lock}, so
 * concurrent openers in several processes agree on one partition count. Format version 3 is
 * written; stores of versions 2 and 1 (LogStore 0.1) are read, and upgraded when opened for writing.
 */
record StoreMetadata(int formatVersion, int partitions, String partitioner) {

    static final String FILE_NAME = "logstore.properties";
    static final String LOCK_FILE_NAME = ".meta.lock";
    static final int FORMAT_VERSION = 3;
    static final int OLDEST_READABLE_VERSION = 1;
    static final String PARTITIONER = "murmur2";

    /** Reads the metadata, or returns null when the store has none yet. */
    static StoreMetadata read(Path storeDir) throws IOException {
        Properties properties = new Properties();
        try (Reader reader = Files.newBufferedReader(storeDir.resolve(FILE_NAME), StandardCharsets.UTF_8)) {
            properties.load(reader);
        } catch (NoSuchFileException e) {
            return null;
        }
        Path file = storeDir.resolve(FILE_NAME);
        int version = intProperty(properties, "format.version", file);
        int partitions = intProperty(properties, "partitions", file);
        String partitioner = properties.getProperty("partitioner", PARTITIONER);
        if (version < OLDEST_READABLE_VERSION || version > FORMAT_VERSION) {
            throw new LogStoreException("Store " + storeDir + " has format version " + version + "; this LogStore reads "
                    + "versions " + OLDEST_READABLE_VERSION + " to " + FORMAT_VERSION + ". Open it with a LogStore "
                    + "release that supports that version");
        }
        if (partitions < 1) {
            throw new CorruptLogException(file + " declares " + partitions + " partitions; it must be at least 1: the "
                    + "file is damaged", file, 0);
        }
        if (!PARTITIONER.equals(partitioner)) {
            throw new LogStoreException(file + " declares partitioner '" + partitioner + "'; only '" + PARTITIONER
                    + "' is known");
        }
        return new StoreMetadata(version, partitions, partitioner);
    }

    private static int intProperty(Properties properties, String key, Path file) {
        String value = properties.getProperty(key);
        if (value == null) {
            throw new CorruptLogException(file + " has no '" + key + "'; the file is damaged: restore it, or recreate "
                    + "it with format.version=" + FORMAT_VERSION + ", the partition count of the partition-N directories "
                    + "and partitioner=" + PARTITIONER, file, 0);
        }
        try {
            return Integer.parseInt(value.trim());
        } catch (NumberFormatException e) {
            throw new CorruptLogException(file + ": '" + key + "' is '" + value + "', not a whole number: the file is "
                    + "damaged", file, 0);
        }
    }

    void write(Path storeDir) throws IOException {
        Properties properties = new Properties();
        properties.setProperty("format.version", Integer.toString(formatVersion));
        properties.setProperty("partitions", Integer.toString(partitions));
        properties.setProperty("partitioner", partitioner);
        StringWriter text = new StringWriter();
        properties.store(text, "LogStore store metadata. Do not edit.");
        Directories.replaceAtomically(storeDir.resolve(FILE_NAME), StandardCharsets.UTF_8.encode(text.toString()));
        Directories.fsync(storeDir);
    }

    /** This metadata at the version written now. */
    StoreMetadata upgraded() {
        return new StoreMetadata(FORMAT_VERSION, partitions, partitioner);
    }

    /**
     * Grows the store at {@code storeDir} to at least {@code count} partitions (creating their
     * directories first), under the metadata lock; another handle may have grown it already.
     */
    static StoreMetadata grow(FileOpener opener, Path storeDir, int count) {
        try {
            return locked(opener, storeDir, () -> {
                StoreMetadata existing = read(storeDir);
                if (existing != null && existing.partitions() >= count) {
                    return existing;
                }
                for (int p = 0; p < count; p++) {
                    java.nio.file.Files.createDirectories(storeDir.resolve(LogStore.partitionDirectoryName(p)));
                }
                StoreMetadata grown = new StoreMetadata(FORMAT_VERSION, count, PARTITIONER);
                grown.write(storeDir);
                return grown;
            });
        } catch (IOException e) {
            throw new LogStoreException("Cannot grow store " + storeDir + " to " + count + " partitions: "
                    + e.getMessage() + ". Check that the directory is writable", e);
        }
    }

    /** Runs {@code action} holding the store's metadata lock (waits for other processes and threads). */
    static <T> T locked(FileOpener opener, Path storeDir, IOAction<T> action) throws IOException {
        try (FileLocks.Held ignored = FileLocks.lock(opener, storeDir.resolve(LOCK_FILE_NAME))) {
            return action.run();
        }
    }

    @FunctionalInterface
    interface IOAction<T> {
        T run() throws IOException;
    }
}
