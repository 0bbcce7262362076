package dev.logstore.cli;

import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.Locale;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/** Option values the CLI checks as it reads them, so a wrong one is an error, never a silent default. */
final class Converters {

    private Converters() {
    }

    /** A count or an offset: 0 or more. */
    static final class NonNegativeLong implements ITypeConverter<Long> {
        @Override
        public Long convert(String value) {
            long parsed;
            try {
                parsed = Long.parseLong(value.trim());
            } catch (NumberFormatException e) {
                throw new TypeConversionException("'" + value + "' is not a whole number");
            }
            if (parsed < 0) {
                throw new TypeConversionException("'" + value + "' is negative; give 0 or more");
            }
            return parsed;
        }
    }

    /** A partition number or count: 0 or more. */
    static final class NonNegativeInt implements ITypeConverter<Integer> {
        @Override
        public Integer convert(String value) {
            long parsed = new NonNegativeLong().convert(value);
            if (parsed > Integer.MAX_VALUE) {
                throw new TypeConversionException("'" + value + "' is too large");
            }
            return (int) parsed;
        }
    }

    /** A duration: 500ms, 5s, 2m, 1h, or ISO-8601 (PT30S). */
    static final class Lasting implements ITypeConverter<Duration> {
        @Override
        public Duration convert(String value) {
            String text = value.trim().toLowerCase(Locale.ROOT);
            try {
                if (text.startsWith("pt") || text.startsWith("p")) {
                    return positive(Duration.parse(value.trim()), value);
                }
                if (text.endsWith("ms")) {
                    return positive(Duration.ofMillis(Long.parseLong(text.substring(0, text.length() - 2))), value);
                }
                long amount = Long.parseLong(text.substring(0, text.length() - 1));
                switch (text.charAt(text.length() - 1)) {
                    case 's':
                        return positive(Duration.ofSeconds(amount), value);
                    case 'm':
                        return positive(Duration.ofMinutes(amount), value);
                    case 'h':
                        return positive(Duration.ofHours(amount), value);
                    default:
                        break;
                }
            } catch (NumberFormatException | DateTimeParseException | StringIndexOutOfBoundsException e) {
                // reported below
            }
            throw new TypeConversionException("'" + value + "' is not a duration; give e.g. 500ms, 5s, 2m, 1h or PT30S");
        }

        private static Duration positive(Duration duration, String value) {
            if (duration.isNegative() || duration.isZero()) {
                throw new TypeConversionException("'" + value + "' must be longer than zero");
            }
            return duration;
        }
    }
}
