package dev.logstore.fuzz;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.logstore.BufferTooSmallException;
import dev.logstore.CorruptLogException;
import dev.logstore.CorruptionPolicy;
import dev.logstore.LogReader;
import dev.logstore.LogStore;
import dev.logstore.LogStoreException;
import dev.logstore.record.BatchFormat;
import dev.logstore.record.BatchHeader;
import dev.logstore.record.RecordDecoder;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;

/**
 * Jazzer fuzz targets. In the default test command they run in regression mode: every input in
 * src/test/resources/dev/logstore/fuzz/FuzzTargetsTestInputs plus Jazzer's own seeds. The
 * extended run fuzzes for real, one target at a time:
 * {@code JAZZER_FUZZ=1 ./mvnw -pl logstore-core test -Dtest=FuzzTargetsTest#decoderOnlyThrowsDeclaredErrors}.
 *
 * <p>Any exception other than the declared ones, an out-of-memory error from a hostile length
 * field, or an input that runs past Jazzer's time limit is a finding.
 */
class FuzzTargetsTest {

    @FuzzTest(maxDuration = "60s")
    void decoderOnlyThrowsDeclaredErrors(byte[] input) {
        try {
            RecordDecoder.decode(ByteBuffer.wrap(input));
        } catch (CorruptLogException | BufferTooSmallException expected) {
            // what the decoder declares for bytes that are not whole, valid batches
        }
    }

    /**
     * Like {@link #decoderOnlyThrowsDeclaredErrors}, but with the batch's CRC made to match, so the
     * fuzzer gets past the checksum into the record parsing (hostile lengths, counts, varints).
     */
    @FuzzTest(maxDuration = "60s")
    void decoderWithValidChecksumsOnlyThrowsDeclaredErrors(byte[] input) {
        ByteBuffer bytes = ByteBuffer.wrap(input);
        if (input.length >= BatchFormat.HEADER_SIZE) {
            int claimed = bytes.getInt(BatchFormat.LENGTH_OFFSET) + BatchFormat.LOG_OVERHEAD;
            if (claimed >= BatchFormat.HEADER_SIZE && claimed <= input.length) {
                bytes.putInt(BatchFormat.CRC_OFFSET, BatchHeader.computeCrc(bytes, 0, claimed));
            }
        }
        try {
            RecordDecoder.decode(bytes);
        } catch (CorruptLogException | BufferTooSmallException expected) {
            // declared
        }
    }

    @FuzzTest(maxDuration = "60s")
    void openingArbitraryDirectoryContentsOnlyThrowsDeclaredErrors(FuzzedDataProvider data) throws IOException {
        Path dir = Files.createTempDirectory("logstore-fuzz");
        try {
            Path partition = Files.createDirectories(dir.resolve("partition-0"));
            Files.writeString(dir.resolve("logstore.properties"), data.consumeBoolean()
                    ? "format.version=1\npartitions=1\npartitioner=murmur2\n" : data.consumeString(64));
            if (data.consumeBoolean()) {
                Files.write(partition.resolve(".clean-shutdown"), new byte[0]);
            }
            Files.write(partition.resolve("00000000000000000000.index"), data.consumeBytes(data.consumeInt(0, 64)));
            Files.write(partition.resolve("00000000000000000000.timeindex"), data.consumeBytes(data.consumeInt(0, 64)));
            if (data.consumeBoolean()) {
                Files.write(partition.resolve("00000000000000000000.log"), data.consumeBytes(data.consumeInt(0, 4096)));
            }
            Files.write(partition.resolve(String.format("%020d.log", data.consumeLong(0, 1_000_000))),
                    data.consumeRemainingAsBytes());
            CorruptionPolicy policy = dir.hashCode() % 2 == 0 ? CorruptionPolicy.FAIL : CorruptionPolicy.TRUNCATE;
            try (LogStore store = LogStore.builder(dir).partitions(0).corruptionPolicy(policy).open();
                 LogReader reader = store.reader(0)) {
                while (!reader.poll(100, 1 << 16).isEmpty()) {
                    // read everything there is
                }
            } catch (LogStoreException expected) {
                // corrupt, inconsistent or unreadable contents are reported as LogStoreExceptions
            }
        } finally {
            try (Stream<Path> files = Files.walk(dir)) {
                files.sorted(Comparator.reverseOrder()).forEach(path -> path.toFile().delete());
            }
        }
    }
}
