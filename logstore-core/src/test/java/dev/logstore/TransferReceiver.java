package dev.logstore;

import dev.logstore.record.BatchFormat;
import dev.logstore.record.RecordDecoder;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * The receiving end of a stream of transfers, as a receiver would decode it: each whole batch as
 * soon as all its bytes have arrived, with {@link RecordDecoder#decodeWhole}, keeping the offsets.
 */
final class TransferReceiver {

    /** The offsets decoded so far, in the order received. */
    final List<Long> decoded = new ArrayList<>();
    private int decodedUpTo;

    /**
     * Decodes the whole batches of {@code received} (every byte received so far) not decoded yet.
     *
     * @return false when the decoder reports damage
     */
    boolean decodeArrived(byte[] received) {
        ByteBuffer bytes = ByteBuffer.wrap(received);
        try {
            while (received.length - decodedUpTo >= BatchFormat.HEADER_SIZE) {
                int size = BatchFormat.LOG_OVERHEAD + bytes.getInt(decodedUpTo + BatchFormat.LENGTH_OFFSET);
                if (size <= 0 || received.length - decodedUpTo < size) {
                    break;
                }
                RecordDecoder.decodeWhole(ByteBuffer.wrap(received, decodedUpTo, size).slice(),
                        record -> decoded.add(record.offset()));
                decodedUpTo += size;
            }
            return true;
        } catch (CorruptLogException | BufferTooSmallException reported) {
            return false;
        }
    }

    /** True when every one of the {@code length} bytes received belongs to a batch decoded. */
    boolean decodedAll(int length) {
        return decodedUpTo == length;
    }
}
