package dev.logstore.cli;

import dev.logstore.LogReader;
import dev.logstore.LogStore;
import dev.logstore.PartitionInfo;
import dev.logstore.record.LogRecord;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(name = "stats", mixinStandardHelpOptions = true, description = "Show stores, partitions, offsets, bytes, segments and time range.")
final class StatsCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Parameters(paramLabel = "PATH", description = "A store, or an archive directory holding stores.")
    Path path;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        List<Path> stores = Stores.find(spec, path); // a wrong path is reported before any output
        out.printf("%-24s %4s %14s %14s %14s %8s  %-24s  %-24s%n", "STORE", "PART", "START", "NEXT", "BYTES",
                "SEGMENTS", "FIRST RECORD TIME", "NEWEST RECORD TIME");
        long totalBytes = 0;
        int damaged = 0;
        int unopened = 0;
        for (Path storeDir : stores) {
            LogStore opened;
            try {
                opened = LogStore.builder(storeDir).readOnly().open();
            } catch (dev.logstore.CorruptLogException e) {
                out.printf("%-24s %4s  DAMAGED (see standard error)%n", storeDir.getFileName(), "-");
                spec.commandLine().getErr().println("logstore: " + storeDir.getFileName() + ": " + e.getMessage());
                damaged++;
                continue;
            } catch (dev.logstore.LogStoreException | IllegalArgumentException e) {
                out.printf("%-24s %4s  CANNOT OPEN (see standard error)%n", storeDir.getFileName(), "-");
                spec.commandLine().getErr().println("logstore: " + storeDir.getFileName() + ": " + e.getMessage());
                unopened++;
                continue;
            }
            try (LogStore store = opened) {
                for (int p = 0; p < store.partitionCount(); p++) {
                    try {
                        store.nextOffset(p);
                        PartitionInfo info = store.partitionInfo(p);
                        String first = time(firstTimestamp(store, p));
                        totalBytes += info.sizeInBytes();
                        out.printf("%-24s %4d %14d %14d %14d %8d  %-24s  %-24s%n", storeDir.getFileName(), p,
                                info.startOffset(), info.nextOffset(), info.sizeInBytes(), info.segments(), first,
                                time(info.maxTimestamp()));
                    } catch (dev.logstore.LogStoreException e) {
                        out.printf("%-24s %4d  DAMAGED (see standard error)%n", storeDir.getFileName(), p);
                        spec.commandLine().getErr().println("logstore: " + storeDir.getFileName() + " partition " + p
                                + ": " + e.getMessage());
                        damaged++;
                    }
                }
            }
        }
        out.printf("total %d bytes%n", totalBytes);
        if (unopened > 0) {
            spec.commandLine().getErr().println("logstore: " + unopened + " store(s) could not be opened (see above)");
            return 2;
        }
        if (damaged > 0) {
            spec.commandLine().getErr().println("logstore: " + damaged + " damaged partition(s) or store(s); run "
                    + "logstore verify for every damaged batch, and logstore salvage to copy every intact one");
            return 1;
        }
        return 0;
    }

    private static long firstTimestamp(LogStore store, int partition) {
        try (LogReader reader = store.reader(partition)) {
            List<LogRecord> first = reader.poll(1, 1);
            return first.isEmpty() ? Long.MIN_VALUE : first.get(0).timestamp();
        }
    }

    private static String time(long millis) {
        return millis == Long.MIN_VALUE ? "-" : millis < 0 ? "none" : Instant.ofEpochMilli(millis).toString();
    }
}
