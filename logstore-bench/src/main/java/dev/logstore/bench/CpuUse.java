package dev.logstore.bench;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.lang.management.ThreadMXBean;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/** CPU time used by this JVM's threads over a stretch of a benchmark, grouped by thread name. */
final class CpuUse {

    private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();

    private final Map<Long, Long> startCpu;
    private final long startProcess;
    private final long startWall;

    private CpuUse(Map<Long, Long> startCpu, long startProcess, long startWall) {
        this.startCpu = startCpu;
        this.startProcess = startProcess;
        this.startWall = startWall;
    }

    static CpuUse start() {
        return new CpuUse(snapshot(), processCpu(), System.nanoTime());
    }

    private static Map<Long, Long> snapshot() {
        Map<Long, Long> cpu = new HashMap<>();
        for (long id : THREADS.getAllThreadIds()) {
            cpu.put(id, THREADS.getThreadCpuTime(id));
        }
        return cpu;
    }

    private static long processCpu() {
        return ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean())
                .getProcessCpuTime();
    }

    /** Wall time, process CPU, and the threads that used most of it (names with digits folded). */
    String stop() {
        long wall = System.nanoTime() - startWall;
        long process = processCpu() - startProcess;
        Map<String, Long> byGroup = new TreeMap<>();
        for (long id : THREADS.getAllThreadIds()) {
            ThreadInfo info = THREADS.getThreadInfo(id);
            long now = THREADS.getThreadCpuTime(id);
            if (info == null || now < 0) {
                continue;
            }
            long used = now - startCpu.getOrDefault(id, 0L);
            byGroup.merge(info.getThreadName().replaceAll("[0-9]+", "N"), used, Long::sum);
        }
        int cores = Runtime.getRuntime().availableProcessors();
        StringBuilder text = new StringBuilder(String.format(Locale.ROOT, "%.2f s of CPU in %.2f s (%.0f %% of %d cores):",
                process / 1e9, wall / 1e9, 100.0 * process / wall / cores, cores));
        byGroup.entrySet().stream().filter(e -> e.getValue() > wall / 100)
                .sorted((a, b) -> Long.compare(b.getValue(), a.getValue()))
                .forEach(e -> text.append(String.format(Locale.ROOT, " %s %.2f s,", e.getKey(), e.getValue() / 1e9)));
        text.setLength(text.length() - 1);
        return text.toString();
    }
}
