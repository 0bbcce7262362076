package dev.logstore.io;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.OpenOption;
import java.nio.file.Path;

/**
 * How the engine opens every file channel it uses: segments, indexes, manifests, lock files and
 * directories to force. The default opens them with {@link FileChannel#open}; tests wrap the
 * channels to inject failed writes, fsyncs and opens where the real world would.
 */
@FunctionalInterface
public interface FileOpener {

    /** Opens files with {@link FileChannel#open}. */
    FileOpener DEFAULT = FileChannel::open;

    FileChannel open(Path file, OpenOption... options) throws IOException;

    /**
     * The names in directory {@code dir}, as {@link java.io.File#list} gives them: how a writer's
     * open, and its close, learn what a partition directory holds.
     *
     * @throws IOException when the directory is missing, not a directory, or not readable
     */
    default String[] list(Path dir) throws IOException {
        String[] names = dir.toFile().list();
        if (names == null) {
            throw new IOException("cannot list " + dir + " (missing, not a directory, or not readable)");
        }
        return names;
    }
}
