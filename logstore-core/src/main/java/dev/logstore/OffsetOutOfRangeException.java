package dev.logstore;

/** An offset below a partition's start offset (never written, or removed by retention). */
public class OffsetOutOfRangeException extends LogStoreException {

    private static final long serialVersionUID = 1L;

    private final long startOffset;

    public OffsetOutOfRangeException(String message, long startOffset) {
        super(message);
        this.startOffset = startOffset;
    }

    /** The partition's start offset when the error was raised: the lowest offset that can be read. */
    public long startOffset() {
        return startOffset;
    }
}
