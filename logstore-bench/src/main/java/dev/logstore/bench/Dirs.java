package dev.logstore.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;

/** Benchmarks write gigabytes; what they leave behind is removed. */
final class Dirs {

    private Dirs() {
    }

    /** Deletes {@code path} and everything under it; nothing when it does not exist. */
    static void deleteTree(Path path) throws IOException {
        if (!Files.exists(path)) {
            return;
        }
        try (Stream<Path> files = Files.walk(path)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }
}
