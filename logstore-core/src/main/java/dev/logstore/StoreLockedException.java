package dev.logstore;

/** Another writer (in this process or another) already owns the partition. */
public class StoreLockedException extends LogStoreException {

    private static final long serialVersionUID = 1L;

    public StoreLockedException(String message) {
        super(message);
    }
}
