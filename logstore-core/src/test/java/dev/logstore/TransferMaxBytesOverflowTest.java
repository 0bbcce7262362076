package dev.logstore;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.logstore.record.Record;
import java.io.ByteArrayOutputStream;
import java.nio.channels.Channels;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** maxBytes Long.MAX_VALUE ("send all there is") overflows position + skipBytes + maxBytes: one batch goes. */
/** A transfer's maxBytes may be as large as a long: the limit does not overflow (nothing is damaged here). */
class TransferMaxBytesOverflowTest {

    @TempDir
    Path dir;

    @Test
    void longMaxValueSendsAsMuchAsOneTebibyte() {
        try (LogStore store = LogStore.builder(dir).partitions(1).segmentBytes(1 << 20).open()) {
            for (int i = 0; i < 100; i++) {
                store.append(0, List.of(Record.of(null, new byte[100], 1000)));
            }
            Transfer huge = store.transfer(0, 10, Long.MAX_VALUE, Channels.newChannel(new ByteArrayOutputStream()));
            Transfer big = store.transfer(0, 10, 1L << 40, Channels.newChannel(new ByteArrayOutputStream()));
            assertEquals(big, huge, "maxBytes Long.MAX_VALUE vs 1 TiB from offset 10");
        }
    }
}
