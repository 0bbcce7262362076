package dev.logstore.log;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/** Durability of directory entries: new, renamed and deleted files survive a crash only after this. */
public final class Directories {

    private Directories() {
    }

    /** Forces a directory's entries to disk (fsync on the directory itself). */
    public static void fsync(Path dir) throws IOException {
        try (FileChannel channel = FileChannel.open(dir, StandardOpenOption.READ)) {
            channel.force(true);
        }
    }
}
