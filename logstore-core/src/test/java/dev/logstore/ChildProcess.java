package dev.logstore;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Starts a test main class in a child JVM with this test's classpath, reads the lines it prints
 * and sends it lines on its standard input. A child is another process: its file locks, its
 * JVM-wide registries and its page-cache view are its own, as a second worker's would be.
 */
final class ChildProcess implements AutoCloseable {

    private final Process process;
    private final BufferedReader out;
    private final Writer in;

    ChildProcess(Class<?> main, String... args) throws IOException {
        this(Path.of(System.getProperty("java.home"), "bin", "java"), false, main, args);
    }

    /**
     * A child run by another Java ({@code java}, the launcher), its standard error read with its
     * standard output when {@code mergeErrors} (to see the JVM's own warnings).
     */
    static ChildProcess withJava(Path java, boolean mergeErrors, Class<?> main, String... args) throws IOException {
        return new ChildProcess(java, mergeErrors, main, args);
    }

    private ChildProcess(Path java, boolean mergeErrors, Class<?> main, String... args) throws IOException {
        List<String> command = new ArrayList<>();
        command.add(java.toString());
        command.add("-Xmx256m");
        command.add("-XX:TieredStopAtLevel=1");
        command.add("-cp");
        command.add(System.getProperty("java.class.path"));
        command.add(main.getName());
        command.addAll(List.of(args));
        ProcessBuilder builder = new ProcessBuilder(command);
        process = (mergeErrors ? builder.redirectErrorStream(true) : builder.redirectError(ProcessBuilder.Redirect.INHERIT))
                .start();
        out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
        in = new OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8);
    }

    /** The next line the child printed, or null when it ended. */
    String readLine() throws IOException {
        return out.readLine();
    }

    /** True when the child has printed {@code line} by now, among the lines it printed and no one read yet; does not wait. */
    boolean hasPrinted(String line) throws IOException {
        while (out.ready()) {
            String next = out.readLine();
            if (next == null) {
                return false;
            }
            if (next.equals(line)) {
                return true;
            }
        }
        return false;
    }

    /** The next line the child printed that starts with {@code prefix}, skipping others; null when it ended. */
    String readLineStartingWith(String prefix) throws IOException {
        String line;
        while ((line = out.readLine()) != null) {
            if (line.startsWith(prefix)) {
                return line;
            }
        }
        return null;
    }

    /** Sends the child one line on its standard input. */
    void send(String line) throws IOException {
        in.write(line + "\n");
        in.flush();
    }

    /** Waits for the child to exit by itself; its exit code. */
    int waitFor(long seconds) throws InterruptedException {
        if (!process.waitFor(seconds, TimeUnit.SECONDS)) {
            throw new IllegalStateException("the child process did not exit within " + seconds + " s");
        }
        return process.exitValue();
    }

    /** Kills the child with SIGKILL: no shutdown hook, no flush, no close. */
    void kill() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor();
    }

    @Override
    public void close() throws Exception {
        kill();
        out.close();
    }
}
