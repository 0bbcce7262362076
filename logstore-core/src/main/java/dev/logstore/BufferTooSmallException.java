package dev.logstore;

/** A caller's buffer cannot hold even the first whole batch; {@link #requiredBytes()} says how much would. */
public class BufferTooSmallException extends LogStoreException {

    private static final long serialVersionUID = 1L;

    private final int requiredBytes;

    public BufferTooSmallException(String message, int requiredBytes) {
        super(message);
        this.requiredBytes = requiredBytes;
    }

    /** The size of the batch that did not fit; a buffer with this much room will hold it. */
    public int requiredBytes() {
        return requiredBytes;
    }
}
