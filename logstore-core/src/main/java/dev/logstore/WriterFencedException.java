package dev.logstore;

/**
 * Another writer opened the partition since this one did (it claimed a newer writer epoch), so
 * this writer may no longer acknowledge anything: its late appends are never data. This happens
 * when the partition's OS lock did not hold, as on a shared filesystem whose locks are off or
 * expired, or when someone removed the lock file. The partition stops taking appends; close this
 * handle. What the newer writer recovered is the partition's content.
 */
public class WriterFencedException extends PartitionFailedException {

    private static final long serialVersionUID = 1L;

    public WriterFencedException(String message) {
        super(message, null);
    }
}
