package dev.logstore.cli;

import dev.logstore.LogReader;
import dev.logstore.LogStore;
import dev.logstore.record.LogRecord;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(name = "dump", mixinStandardHelpOptions = true, description = "Print records of a store as text or JSON lines. "
        + "A damaged partition is reported and the others dumped; the exit code is then 1.")
final class DumpCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Parameters(paramLabel = "STORE", description = "The store directory.")
    Path storeDir;

    @Option(names = {"-p", "--partition"}, converter = Converters.NonNegativeInt.class, description = "Partition to dump (default: all, one after another).")
    Integer partition;

    @ArgGroup(exclusive = true)
    StartPosition start = new StartPosition();

    @Mixin
    KeyOptions keys = new KeyOptions();

    @Option(names = {"-n", "--limit"}, converter = Converters.NonNegativeLong.class, description = "At most this many records per partition.")
    long limit = Long.MAX_VALUE;

    @Option(names = "--format", description = "text or json (default: ${DEFAULT-VALUE}).")
    RecordFormat.Style style = RecordFormat.Style.TEXT;

    @Option(names = "--encoding", description = "How bytes are shown: utf8 (base64 when not valid UTF-8), base64 or "
            + "hex (default: ${DEFAULT-VALUE}).")
    RecordFormat.Encoding encoding = RecordFormat.Encoding.UTF8;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        RecordFormat format = new RecordFormat(style, encoding);
        try (LogStore store = Stores.openReadOnly(spec, storeDir, keys.provider())) {
            int from = partition == null ? 0 : partition;
            int to = partition == null ? store.partitionCount() - 1 : partition;
            Stores.checkPartition(spec, store, from);
            List<String> damaged = new java.util.ArrayList<>();
            for (int p = from; p <= to; p++) {
                try (LogReader reader = store.reader(p)) {
                    start.apply(reader);
                    long printed = 0;
                    List<LogRecord> batch;
                    while (printed < limit && !(batch = Stores.pollUpToDamage(reader,
                            (int) Math.min(1000, limit - printed), 1 << 20)).isEmpty()) {
                        for (LogRecord record : batch) {
                            out.println(format.format(storeDir.getFileName().toString(), p, record));
                        }
                        printed += batch.size();
                        OutputFailedException.check(out);
                    }
                } catch (dev.logstore.EncryptionKeyException e) {
                    throw e; // not damage: the key is missing or wrong (exit 2, naming it)
                } catch (dev.logstore.LogStoreException e) {
                    // Damage, or a file missing: the records before it are printed; the other partitions follow.
                    out.flush();
                    spec.commandLine().getErr().println("logstore: partition " + p + ": " + e.getMessage());
                    damaged.add(String.valueOf(p));
                }
            }
            out.flush();
            if (!damaged.isEmpty()) {
                spec.commandLine().getErr().println("logstore: stopped at damage in partition(s) " + String.join(", ",
                        damaged) + " of " + storeDir + "; the other partitions were dumped whole. "
                        + "Run logstore verify for every damaged batch, and logstore salvage to copy every intact one");
                return 1;
            }
        }
        out.flush();
        return 0;
    }
}
