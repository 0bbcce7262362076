package dev.logstore.cli;

import dev.logstore.LogReader;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import picocli.CommandLine.Option;

/** Where reading starts: the first record, an offset, a timestamp, or the end. */
final class StartPosition {

    @Option(names = "--from-offset", paramLabel = "OFFSET", converter = Converters.NonNegativeLong.class, description = "Start at this offset.")
    Long offset;

    @Option(names = "--from-timestamp", paramLabel = "TIME",
            description = "Start at the first record at or after this time: milliseconds since the epoch or "
                    + "ISO-8601 (2026-01-31T12:00:00Z).")
    String timestamp;

    @Option(names = "--from-end", description = "Start at the end: only records appended from now on.")
    boolean end;

    void apply(LogReader reader) {
        if (offset != null) {
            reader.seek(Math.max(offset, reader.position()));
        } else if (timestamp != null) {
            reader.seekToTimestamp(parseTime(timestamp));
        } else if (end) {
            reader.seekToEnd();
        }
    }

    static long parseTime(String text) {
        try {
            return Long.parseLong(text);
        } catch (NumberFormatException notMillis) {
            try {
                return Instant.parse(text).toEpochMilli();
            } catch (DateTimeParseException e) {
                throw new IllegalArgumentException("'" + text + "' is neither milliseconds since the epoch nor an "
                        + "ISO-8601 instant such as 2026-01-31T12:00:00Z");
            }
        }
    }
}
