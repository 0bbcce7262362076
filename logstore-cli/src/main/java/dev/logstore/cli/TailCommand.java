package dev.logstore.cli;

import dev.logstore.LogReader;
import dev.logstore.LogStore;
import dev.logstore.record.LogRecord;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Spec;

@Command(name = "tail", mixinStandardHelpOptions = true, description = "Print the last records of a partition; with -f, keep printing new ones as "
        + "they are appended (also by another process).")
final class TailCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Mixin
    OnePartition target;

    @Option(names = {"-n", "--lines"}, converter = Converters.NonNegativeLong.class, description = "How many of the last records to print first "
            + "(default: ${DEFAULT-VALUE}).")
    long last = 10;

    @Option(names = {"-f", "--follow"}, description = "Keep running and print records as they arrive.")
    boolean follow;

    @Option(names = "--max-wait", converter = Converters.Lasting.class, description = "With -f, stop after this long without new records: 500ms, 5s, 2m, 1h or PT30S "
            + "(default: never).")
    Duration maxWait;

    @Option(names = "--format", description = "text or json (default: ${DEFAULT-VALUE}).")
    RecordFormat.Style style = RecordFormat.Style.TEXT;

    @Override
    public Integer call() throws InterruptedException {
        PrintWriter out = spec.commandLine().getOut();
        RecordFormat format = new RecordFormat(style, RecordFormat.Encoding.UTF8);
        String name = target.storeName();
        try (LogStore store = target.open()) {
            try (LogReader reader = store.reader(target.partition)) {
                long end = store.nextOffset(target.partition);
                reader.seek(Math.max(reader.position(), end - last));
                List<LogRecord> batch;
                while (!(batch = Stores.pollUpToDamage(reader, 1000, 1 << 20)).isEmpty()) {
                    batch.forEach(record -> out.println(format.format(name, target.partition, record)));
                    OutputFailedException.check(out);
                }
                while (follow) {
                    batch = Stores.pollUpToDamage(reader, 1000, 1 << 20,
                            maxWait == null ? Duration.ofSeconds(1) : maxWait);
                    if (batch.isEmpty() && maxWait != null) {
                        break;
                    }
                    batch.forEach(record -> out.println(format.format(name, target.partition, record)));
                    OutputFailedException.check(out);
                }
            }
        } catch (dev.logstore.OffsetOutOfRangeException e) {
            throw e;
        } catch (dev.logstore.EncryptionKeyException e) {
            throw e; // not damage: the key is missing or wrong (exit 2, naming it)
        } catch (dev.logstore.LogStoreException e) {
            out.flush(); // the records before the damage are out
            spec.commandLine().getErr().println("logstore: " + e.getMessage() + ". The records before it were "
                    + "printed; logstore salvage copies every intact batch");
            return 1;
        }
        return 0;
    }
}
