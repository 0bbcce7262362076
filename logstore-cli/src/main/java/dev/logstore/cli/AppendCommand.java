package dev.logstore.cli;

import dev.logstore.AppendResult;
import dev.logstore.Durability;
import dev.logstore.LogStore;
import dev.logstore.record.Header;
import dev.logstore.record.Record;
import java.io.InputStream;
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

@Command(name = "append", mixinStandardHelpOptions = true, description = "Append records: the VALUE arguments, or each line of standard input. "
        + "Creates the store when --partitions is given.")
final class AppendCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "STORE", description = "The store directory.")
    Path storeDir;

    @Parameters(index = "1..*", paramLabel = "VALUE", description = "Values to append (default: each line of "
            + "standard input, its bytes as they are).")
    List<String> values = new ArrayList<>();

    @Option(names = {"-p", "--partition"}, converter = Converters.NonNegativeInt.class, description = "Partition (default: chosen by the key's hash, "
            + "round-robin without a key).")
    Integer partition;

    @Option(names = {"-k", "--key"}, description = "Key of every appended record.")
    String key;

    @Option(names = {"-H", "--header"}, paramLabel = "NAME=VALUE", description = "A header (repeatable).")
    List<String> headers = new ArrayList<>();

    @Option(names = "--partitions", converter = Converters.NonNegativeInt.class, description = "Create the store with this many partitions if it does not exist.")
    int createPartitions;

    @Option(names = "--into-sink-archive", description = "Append even to a store the LogStore sink connector "
            + "archives a topic into. Its offsets are the topic's: each appended record takes the offset of a topic "
            + "record that the sink then never archives.")
    boolean intoSinkArchive;

    /** Standard input; tests replace it. */
    InputStream stdin = System.in;

    /**
     * What marks {@code storeDir} as a sink's archive: {@code sink-archive.properties} (written by
     * the sink when it opens the store) or, for archives the sink last wrote before it wrote that
     * marker, its other files; null when nothing does.
     */
    static String sinkArchiveMarker(Path storeDir) throws java.io.IOException {
        if (!java.nio.file.Files.isDirectory(storeDir)) {
            return null;
        }
        try (java.util.stream.Stream<Path> files = java.nio.file.Files.list(storeDir)) {
            return files.map(file -> file.getFileName().toString())
                    .filter(name -> name.equals("sink-archive.properties") || name.equals("sink-checkpoint.properties")
                            || (name.startsWith("sink-handled-") && name.endsWith(".properties")))
                    .sorted().findFirst().orElse(null);
        }
    }

    @Override
    public Integer call() throws Exception {
        List<String> given = new ArrayList<>(values);
        given.addAll(headers);
        if (key != null) {
            given.add(key);
        }
        for (String argument : given) {
            if (argument.indexOf('\uFFFD') >= 0) {
                throw new picocli.CommandLine.ParameterException(spec.commandLine(), "argument '" + argument + "' holds "
                        + "\uFFFD, which is what this locale makes of bytes it cannot decode: stored, they would differ "
                        + "from what was given. Give such values on standard input, which is stored byte for byte (keys "
                        + "and headers must be valid text in a UTF-8 locale, e.g. LANG=C.UTF-8; a key or header holding "
                        + "a real U+FFFD cannot be given on the command line)");
            }
        }
        List<Header> recordHeaders = new ArrayList<>();
        for (String header : headers) {
            int eq = header.indexOf('=');
            if (eq <= 0) {
                throw new picocli.CommandLine.ParameterException(spec.commandLine(), "header '" + header
                        + "' must be NAME=VALUE");
            }
            recordHeaders.add(new Header(header.substring(0, eq), header.substring(eq + 1).getBytes(StandardCharsets.UTF_8)));
        }
        if (!LogStore.isStore(storeDir)) {
            List<String> inside = Stores.storesInside(storeDir);
            if (!inside.isEmpty()) {
                throw new picocli.CommandLine.ParameterException(spec.commandLine(), storeDir + " is an archive "
                        + "directory holding stores (" + String.join(", ", inside.subList(0, Math.min(5, inside.size())))
                        + (inside.size() > 5 ? ", ..." : "") + "), not a store; give one of them, e.g. "
                        + storeDir.resolve(inside.get(0)) + ", or a new directory");
            }
            if (createPartitions > 0 && partition != null && partition >= createPartitions) {
                throw new picocli.CommandLine.ParameterException(spec.commandLine(), "--partitions " + createPartitions
                        + " makes partitions 0 to " + (createPartitions - 1) + "; there is no partition " + partition);
            }
        }
        if (createPartitions == 0 && !LogStore.isStore(storeDir)) {
            throw new picocli.CommandLine.ParameterException(spec.commandLine(), storeDir + " is not a LogStore store; "
                    + "give --partitions N to create it");
        }
        String sinkArchive = sinkArchiveMarker(storeDir);
        if (sinkArchive != null && !intoSinkArchive) {
            throw new picocli.CommandLine.ParameterException(spec.commandLine(), storeDir + " is the archive of a Kafka "
                    + "topic, written by the LogStore sink connector (" + sinkArchive + "). Its offsets are the topic's: "
                    + "a record appended here takes the offset of a topic record that the sink then never archives. "
                    + "Append to a store of your own instead; --into-sink-archive appends anyway");
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
                // Lines as bytes, exactly as given (split at '\n' only): a value need not be UTF-8.
                InputStream in = new java.io.BufferedInputStream(stdin);
                java.io.ByteArrayOutputStream line = new java.io.ByteArrayOutputStream();
                int b;
                boolean pending = false;
                while ((b = in.read()) >= 0) {
                    if (b == '\n') {
                        append(store, keyBytes, line.toByteArray(), recordHeaders, out);
                        count++;
                        line.reset();
                        pending = false;
                    } else {
                        line.write(b);
                        pending = true;
                    }
                }
                if (pending) {
                    append(store, keyBytes, line.toByteArray(), recordHeaders, out);
                    count++;
                }
            } else {
                for (String value : values) {
                    append(store, keyBytes, value.getBytes(StandardCharsets.UTF_8), recordHeaders, out);
                    count++;
                }
            }
            store.flush();
        }
        spec.commandLine().getErr().println("appended " + count + " record(s)");
        return 0;
    }

    private void append(LogStore store, byte[] keyBytes, byte[] value, List<Header> recordHeaders, PrintWriter out) {
        Record record = new Record(keyBytes, value, recordHeaders, System.currentTimeMillis());
        AppendResult at = partition == null ? store.append(record) : store.append(partition, List.of(record));
        out.println(at.partition() + "@" + at.baseOffset());
    }
}
