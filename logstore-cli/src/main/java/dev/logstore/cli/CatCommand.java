package dev.logstore.cli;

import dev.logstore.LogReader;
import dev.logstore.LogStore;
import dev.logstore.record.RecordHandler;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.WritableByteChannel;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Spec;

@Command(name = "cat", mixinStandardHelpOptions = true, description = "Write the raw values of a partition to standard output, one per line "
        + "(for scripts; tombstones are skipped).")
final class CatCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Mixin
    OnePartition target;

    @ArgGroup(exclusive = true)
    StartPosition start = new StartPosition();

    @Option(names = {"-n", "--limit"}, converter = Converters.NonNegativeLong.class, description = "At most this many records.")
    long limit = Long.MAX_VALUE;

    @Option(names = {"-d", "--delimiter"}, description = "Written after each value (default: newline).")
    String delimiter = "\n";

    /** Standard output as bytes; tests replace it. */
    OutputStream stdout = System.out;

    @Override
    public Integer call() throws IOException {
        OutputStream out = new BufferedOutputStream(stdout, 1 << 16);
        byte[] separator = delimiter.getBytes(java.nio.charset.StandardCharsets.UTF_8);
        WritableByteChannel channel = Channels.newChannel(out);
        // Values go from the reader's buffer to the output; no record is copied into an array of its own.
        RecordHandler write = record -> {
            ByteBuffer value = record.value();
            if (value == null) {
                return;
            }
            try {
                while (value.hasRemaining()) {
                    channel.write(value);
                }
                out.write(separator);
            } catch (IOException e) {
                throw new OutputFailedException(e.getMessage());
            }
        };
        try (LogStore store = target.open(); LogReader reader = store.reader(target.partition)) {
            start.apply(reader);
            long written = 0;
            int handed;
            while (written < limit && (handed = Stores.pollUpToDamage(reader, write,
                    (int) Math.min(1000, limit - written), 1 << 20)) > 0) {
                written += handed;
                checkWritten(out);
            }
        } catch (dev.logstore.OffsetOutOfRangeException e) {
            throw e;
        } catch (dev.logstore.EncryptionKeyException e) {
            throw e; // not damage: the key is missing or wrong (exit 2, naming it)
        } catch (dev.logstore.LogStoreException e) {
            checkWritten(out); // the values before the damage are out
            spec.commandLine().getErr().println("logstore: " + e.getMessage() + ". The values before it were "
                    + "written; logstore salvage copies every intact batch");
            return 1;
        }
        checkWritten(out);
        return 0;
    }

    /** Flushes; {@code System.out} only records a failed write, so ask it, and stop reading for nobody. */
    private void checkWritten(OutputStream out) {
        try {
            out.flush();
        } catch (IOException e) {
            throw new OutputFailedException(e.getMessage());
        }
        if (stdout instanceof PrintStream printStream && printStream.checkError()) {
            throw new OutputFailedException(OutputFailedException.UNKNOWN_CAUSE);
        }
    }
}
