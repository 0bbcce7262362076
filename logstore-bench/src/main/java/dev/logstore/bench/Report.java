package dev.logstore.bench;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** Collects result rows and writes them as a Markdown results file (and to standard output). */
final class Report {

    private final List<String> sections = new ArrayList<>();
    private final String title;
    private final String command;

    Report(String title, String command) {
        this.title = title;
        this.command = command;
    }

    void section(String title, String header, List<String> rows, String note) {
        StringBuilder text = new StringBuilder("### ").append(title).append("\n\n").append(header).append('\n');
        text.append(header.replaceAll("[^|]", "-").replace("--", "-")).append('\n');
        rows.forEach(row -> text.append(row).append('\n'));
        if (note != null) {
            text.append('\n').append(note).append('\n');
        }
        sections.add(text.toString());
        System.out.println(text);
        System.out.flush();
    }

    static String ratio(double value, double baseline) {
        return String.format(Locale.ROOT, "%.2fx", value / baseline);
    }

    static String mb(double bytesPerSecond) {
        return String.format(Locale.ROOT, "%.1f", bytesPerSecond / (1 << 20));
    }

    static String machine() {
        String cpu = "unknown CPU";
        try {
            cpu = Files.readAllLines(Path.of("/proc/cpuinfo")).stream().filter(l -> l.startsWith("model name"))
                    .findFirst().map(l -> l.substring(l.indexOf(':') + 1).trim()).orElse(cpu);
        } catch (IOException ignored) {
            // not Linux
        }
        long memory = ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean())
                .getTotalMemorySize();
        return Runtime.getRuntime().availableProcessors() + " cores (" + cpu + "), " + (memory >> 30) + " GiB RAM, "
                + System.getProperty("os.name") + " " + System.getProperty("os.version") + ", Java "
                + System.getProperty("java.version");
    }

    void write(Path file) throws IOException {
        StringBuilder text = new StringBuilder("# ").append(title).append("\n\n")
                .append("Measured ").append(Instant.now()).append(" on ").append(machine()).append(".\n\n")
                .append("Reproduce with `").append(command).append("`. Ratios are LogStore / baseline, measured in ")
                .append("the same run on the same data; above 1.00x LogStore is faster.\n\n");
        sections.forEach(section -> text.append(section).append('\n'));
        Files.createDirectories(file.getParent());
        Files.writeString(file, text);
    }
}
