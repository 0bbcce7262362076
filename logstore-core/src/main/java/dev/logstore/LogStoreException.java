package dev.logstore;

/**
 * Base of every error LogStore raises. Messages name the store, partition, file and position
 * where they are known, and say what to do about the problem.
 */
public class LogStoreException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    public LogStoreException(String message) {
        super(message);
    }

    public LogStoreException(String message, Throwable cause) {
        super(message, cause);
    }
}
