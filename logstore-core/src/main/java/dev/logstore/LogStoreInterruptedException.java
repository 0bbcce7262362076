package dev.logstore;

/**
 * The calling thread's interrupt flag was set when it read or appended, so LogStore did not do
 * the I/O (Java would close the file channel for every thread that shares it) or the I/O was cut
 * short. A read leaves the reader where it was; an append refused this way wrote nothing. The
 * interrupt flag stays set; clear it, or use another thread, and try again.
 */
public class LogStoreInterruptedException extends LogStoreException {

    private static final long serialVersionUID = 1L;

    public LogStoreInterruptedException(String message, Throwable cause) {
        super(message, cause);
    }
}
