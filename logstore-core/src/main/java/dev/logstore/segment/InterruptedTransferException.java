package dev.logstore.segment;

import java.io.InterruptedIOException;

/**
 * A zero-copy transfer cut short by an interrupt of the transferring thread while a transfer
 * call was under way: Java does not say how many bytes that call moved, so the target holds at
 * least {@link #bytesTransferred} bytes of the transfer, perhaps more, and may end inside a batch.
 */
public final class InterruptedTransferException extends InterruptedIOException {

    private static final long serialVersionUID = 1L;

    InterruptedTransferException(String message, int bytesBefore) {
        super(message);
        this.bytesTransferred = bytesBefore;
    }
}
