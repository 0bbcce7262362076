package dev.logstore.cli;

import java.io.PrintWriter;

/**
 * Standard output could not be written: the reader of a pipe went away, or the disk it goes to
 * is full. A {@link PrintWriter} only records such an error, so commands check for it as they go
 * and stop instead of reading on (or following forever) for nobody.
 */
final class OutputFailedException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    /** What a stream that only records its failure (a {@link PrintWriter}, {@code System.out}) lets us say. */
    static final String UNKNOWN_CAUSE = "a closed pipe or a full disk";

    OutputFailedException(String detail) {
        super(message(detail));
    }

    static String message(String detail) {
        return "cannot write to standard output (" + detail + "); what was written is incomplete";
    }

    /** Flushes {@code out} and throws when anything written to it so far failed. */
    static void check(PrintWriter out) {
        if (out.checkError()) {
            throw new OutputFailedException(UNKNOWN_CAUSE);
        }
    }
}
