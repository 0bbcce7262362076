package dev.logstore.record;

/**
 * Receives records in offset order as {@link RecordView}s: one view, moved from record to record,
 * valid only during the call. Throwing from {@link #onRecord} stops the read; the record it was
 * called with has not been consumed.
 */
@FunctionalInterface
public interface RecordHandler {

    void onRecord(RecordView record);
}
