package dev.logstore.cli;

import static java.nio.charset.StandardCharsets.UTF_8;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.RandomAccessFile;
import java.io.StringWriter;
import java.nio.file.Path;

/** Runs the CLI's main in-process, as the CLI tests do, and damages files for them. */
final class CliRuns {

    private CliRuns() {
    }

    /** Output and exit code of one run. */
    record Run(int code, String out, String err) {
    }

    /** Runs {@code logstore args...} and returns what it printed and its exit code. */
    static Run run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = LogStoreCli.run(new PrintWriter(out, true), new PrintWriter(err, true), args);
        return new Run(code, out.toString(), err.toString());
    }

    /** As {@link #run}, for commands that write bytes to {@code System.out} (cat): their output is what it got. */
    static Run runWithStdout(String... args) {
        PrintStream stdout = System.out;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        Run run;
        try {
            System.setOut(new PrintStream(captured, true, UTF_8));
            run = run(args);
        } finally {
            System.setOut(stdout);
        }
        return new Run(run.code(), captured.toString(UTF_8), run.err());
    }

    /** Inverts the byte at {@code position} of {@code file}. */
    static void flip(Path file, long position) throws IOException {
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
            f.seek(position);
            int b = f.read();
            f.seek(position);
            f.write(b ^ 0xff);
        }
    }
}
