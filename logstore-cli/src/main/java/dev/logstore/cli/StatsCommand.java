package dev.logstore.cli;

import dev.logstore.LogStore;
import dev.logstore.PartitionInfo;
import dev.logstore.StoredBytes;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(name = "stats", mixinStandardHelpOptions = true, description = "Show stores, partitions, offsets, bytes stored against bytes of records (how well they compress), "
        + "segments and time range. Reads batch headers only: an encrypted store needs no key.")
final class StatsCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Parameters(paramLabel = "PATH", description = "A store, or an archive directory holding stores.")
    Path path;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        List<Path> stores = Stores.find(spec, path); // a wrong path is reported before any output
        out.printf("%-24s %4s %14s %14s %14s %14s %6s %8s  %-24s  %-24s%n", "STORE", "PART", "START", "NEXT", "BYTES",
                "RECORD BYTES", "RATIO", "SEGMENTS", "FIRST RECORD TIME", "NEWEST RECORD TIME");
        long totalBytes = 0;
        long totalRecordBytes = 0;
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
                        // From the batch headers alone: an encrypted store's statistics need no key.
                        StoredBytes stored = store.storedBytes(p);
                        totalBytes += info.sizeInBytes();
                        totalRecordBytes += stored.recordBytes();
                        out.printf("%-24s %4d %14d %14d %14d %14d %6s %8d  %-24s  %-24s%n", storeDir.getFileName(), p,
                                info.startOffset(), info.nextOffset(), info.sizeInBytes(), stored.recordBytes(),
                                ratio(stored.recordBytes(), stored.storedBytes()), info.segments(),
                                time(stored.firstTimestamp()), time(info.maxTimestamp()));
                    } catch (dev.logstore.LogStoreException e) {
                        out.printf("%-24s %4d  DAMAGED (see standard error)%n", storeDir.getFileName(), p);
                        spec.commandLine().getErr().println("logstore: " + storeDir.getFileName() + " partition " + p
                                + ": " + e.getMessage());
                        damaged++;
                    }
                }
            }
        }
        out.printf("total %d bytes stored, %d bytes of records (%s)%n", totalBytes, totalRecordBytes,
                ratio(totalRecordBytes, totalBytes));
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

    /** How many times smaller the records are stored, as "3.2x"; "-" when nothing is stored. */
    private static String ratio(long recordBytes, long storedBytes) {
        return storedBytes == 0 ? "-" : String.format(java.util.Locale.ROOT, "%.1fx", (double) recordBytes / storedBytes);
    }

    private static String time(long millis) {
        return millis == Long.MIN_VALUE ? "-" : millis < 0 ? "none" : Instant.ofEpochMilli(millis).toString();
    }
}
