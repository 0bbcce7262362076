package dev.logstore.record;

/**
 * Where a walk through one batch stands, so a reader can hand out a large batch a few records
 * at a time without reading, checking or parsing its first records again: the index of the
 * next record, its byte position relative to the start of the batch's records, and the offset delta of the
 * record before it. {@link RecordView#walk} moves it; a fresh or {@linkplain #reset() reset}
 * cursor stands before the first record.
 */
public final class BatchCursor {

    int record;
    int position;
    int previousDelta = -1;

    /** Back to before the first record of a batch. */
    public void reset() {
        record = 0;
        position = 0;
        previousDelta = -1;
    }

    /** True when every record of the batch with this header has been walked. */
    public boolean finished(BatchHeader header) {
        return record >= header.recordCount();
    }

    /** True when no record has been walked yet. */
    public boolean atStart() {
        return record == 0;
    }
}
