package dev.logstore;

/**
 * A write, fsync or roll of the partition failed, so the partition stopped taking appends: after
 * such an error the bytes on disk are no longer known to match what the writer believes, and
 * going on could acknowledge data the disk lost. Everything acknowledged before the failure is
 * kept. Reopen the store (its recovery finds the last valid batch) once the cause (a full disk, a
 * failing device, lost permissions) is dealt with. The cause is attached.
 */
public class PartitionFailedException extends LogStoreException {

    private static final long serialVersionUID = 1L;

    public PartitionFailedException(String message, Throwable cause) {
        super(message, cause);
    }
}
