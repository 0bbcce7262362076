package dev.logstore.cli;

import dev.logstore.AppendResult;
import dev.logstore.Durability;
import dev.logstore.LogStore;
import dev.logstore.record.Header;
import dev.logstore.record.Record;
import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(name = "append", description = "Append records: the VALUE arguments, or each line of standard input. "
        + "Creates the store when --partitions is given.")
final class AppendCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "STORE", description = "The store directory.")
    Path storeDir;

    @Parameters(index = "1..*", paramLabel = "VALUE", description = "Values to append (default: lines of standard input).")
    List<String> values = new ArrayList<>();

    @Option(names = {"-p", "--partition"}, description = "Partition (default: chosen by the key's hash, "
            + "round-robin without a key).")
    Integer partition;

    @Option(names = {"-k", "--key"}, description = "Key of every appended record.")
    String key;

    @Option(names = {"-H", "--header"}, paramLabel = "NAME=VALUE", description = "A header (repeatable).")
    List<String> headers = new ArrayList<>();

    @Option(names = "--partitions", description = "Create the store with this many partitions if it does not exist.")
    int createPartitions;

    /** Standard input; tests replace it. */
    InputStream stdin = System.in;

    @Override
    public Integer call() throws Exception {
        List<Header> recordHeaders = new ArrayList<>();
        for (String header : headers) {
            int eq = header.indexOf('=');
            if (eq <= 0) {
                throw new picocli.CommandLine.ParameterException(spec.commandLine(), "header '" + header
                        + "' must be NAME=VALUE");
            }
            recordHeaders.add(new Header(header.substring(0, eq), header.substring(eq + 1).getBytes(StandardCharsets.UTF_8)));
        }
        if (createPartitions == 0 && !LogStore.isStore(storeDir)) {
            throw new picocli.CommandLine.ParameterException(spec.commandLine(), storeDir + " is not a LogStore store; "
                    + "give --partitions N to create it");
        }
        byte[] keyBytes = key == null ? null : key.getBytes(StandardCharsets.UTF_8);
        PrintWriter out = spec.commandLine().getOut();
        long count = 0;
        try (LogStore store = LogStore.builder(storeDir).partitions(createPartitions).durability(Durability.onFlush())
                .open()) {
            if (partition != null) {
                Stores.checkPartition(spec, store, partition);
            }
            if (values.isEmpty()) {
                BufferedReader lines = new BufferedReader(new InputStreamReader(stdin, StandardCharsets.UTF_8));
                String line;
                while ((line = lines.readLine()) != null) {
                    append(store, keyBytes, line, recordHeaders, out);
                    count++;
                }
            } else {
                for (String value : values) {
                    append(store, keyBytes, value, recordHeaders, out);
                    count++;
                }
            }
            store.flush();
        }
        spec.commandLine().getErr().println("appended " + count + " record(s)");
        return 0;
    }

    private void append(LogStore store, byte[] keyBytes, String value, List<Header> recordHeaders, PrintWriter out) {
        Record record = new Record(keyBytes, value.getBytes(StandardCharsets.UTF_8), recordHeaders,
                System.currentTimeMillis());
        AppendResult at = partition == null ? store.append(record) : store.append(partition, List.of(record));
        out.println(at.partition() + "@" + at.baseOffset());
    }
}
