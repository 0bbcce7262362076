package dev.logstore.cli;

import dev.logstore.verify.Finding;
import dev.logstore.verify.StoreVerifier;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(name = "verify", mixinStandardHelpOptions = true, description = "Check every batch (header, bounds, CRC-32C), offset order and indexes. "
        + "Exits 1 when anything is corrupt, naming file and byte position. Changes nothing and takes no lock.")
final class VerifyCommand implements Callable<Integer> {

    private static final long PROGRESS_FROM_BYTES = 64L << 20;

    @Spec
    CommandSpec spec;

    @Parameters(paramLabel = "PATH", description = "A store, or an archive directory holding stores.")
    Path path;

    @Option(names = "--progress", negatable = true, description = "Show a progress bar on standard error "
            + "(default: for archives over 64 MiB when standard error is a terminal).")
    Boolean progress;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        int corrupt = 0;
        int warnings = 0;
        List<Path> stores = new java.util.ArrayList<>();
        for (Path store : Stores.find(spec, path)) {
            stores.add(store);
            // Stores kept inside a store (a sink's consumer-groups snapshots) are part of the archive.
            for (String inside : Stores.storesInside(store)) {
                stores.add(store.resolve(inside));
            }
        }
        for (Path store : stores) {
            long total = StoreVerifier.logBytes(store);
            boolean show = progress != null ? progress : total >= PROGRESS_FROM_BYTES && System.console() != null;
            ProgressBar bar = new ProgressBar(err, store.getFileName().toString(), total, show);
            List<Finding> findings = new StoreVerifier(bar::update).verify(store);
            bar.finish();
            for (Finding finding : findings) {
                out.println(finding);
                if (finding.severity() == Finding.Severity.CORRUPT) {
                    corrupt++;
                } else {
                    warnings++;
                }
            }
            if (findings.isEmpty()) {
                out.println("OK " + store + " (" + total + " bytes)");
            }
        }
        out.println(corrupt == 0 ? "verified: no corruption" + (warnings > 0 ? ", " + warnings + " warning(s)" : "")
                : "verified: " + corrupt + " corrupt place(s)");
        return corrupt == 0 ? 0 : 1;
    }

    /** A one-line progress bar redrawn in place. */
    private static final class ProgressBar {
        private final PrintWriter err;
        private final String label;
        private final long total;
        private final boolean enabled;
        private int shown = -1;

        ProgressBar(PrintWriter err, String label, long total, boolean enabled) {
            this.err = err;
            this.label = label;
            this.total = Math.max(1, total);
            this.enabled = enabled;
        }

        void update(long done) {
            if (!enabled) {
                return;
            }
            int percent = (int) Math.min(100, done * 100 / total);
            if (percent != shown) {
                shown = percent;
                int filled = percent * 30 / 100;
                err.print("\r" + label + " [" + "#".repeat(filled) + " ".repeat(30 - filled) + "] " + percent + "%");
                err.flush();
            }
        }

        void finish() {
            if (enabled) {
                update(total);
                err.println();
            }
        }
    }
}
