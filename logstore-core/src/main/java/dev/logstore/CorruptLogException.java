package dev.logstore;

import java.nio.file.Path;

/**
 * Bytes that are not a valid batch: a checksum mismatch, an impossible length, a torn write.
 * Carries the file (null for an in-memory buffer) and the byte position of the bad batch.
 */
public class CorruptLogException extends LogStoreException {

    private static final long serialVersionUID = 1L;

    private final transient Path file;
    private final long position;

    public CorruptLogException(Path file, long position, String reason) {
        this(describe(file, position, reason), file, position);
    }

    /** Damage to something other than a batch (a manifest, say), described whole by {@code message}. */
    public CorruptLogException(String message, Path file, long position) {
        super(message);
        this.file = file;
        this.position = position;
    }

    private static String describe(Path file, long position, String reason) {
        String where = file == null ? "buffer position " + position : file + " at byte " + position;
        return "Corrupt batch in " + where + ": " + reason;
    }

    /** The file holding the bad bytes, or null when they came from a caller's buffer. */
    public Path file() {
        return file;
    }

    /** Byte position of the bad batch in the file (or buffer). */
    public long position() {
        return position;
    }
}
