package dev.logstore.connect.config;

import dev.logstore.io.Directories;
import java.io.IOException;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Properties;

/**
 * The small files the connectors keep beside stores (checkpoints, plans, markers, metadata):
 * each replaced whole, never half written, and on disk, rename included, when the write returns.
 */
public final class DurableFiles {

    private DurableFiles() {
    }

    /** Replaces {@code file} (creating its directory) with {@code text} in UTF-8, durably. */
    public static void write(Path file, String text) throws IOException {
        Files.createDirectories(file.getParent());
        Directories.replaceAtomically(file, StandardCharsets.UTF_8.encode(text));
        Directories.fsync(file.getParent());
    }

    /** Replaces {@code file} with {@code properties}, headed by {@code comment}, durably. */
    public static void write(Path file, Properties properties, String comment) throws IOException {
        StringWriter text = new StringWriter();
        properties.store(text, comment);
        write(file, text.toString());
    }
}
