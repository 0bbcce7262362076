package dev.logstore.cli;

import dev.logstore.record.Header;
import dev.logstore.record.LogRecord;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Base64;
import java.util.HexFormat;

/** How dump and tail print records: text lines or JSON lines, bytes as UTF-8, base64 or hex. */
final class RecordFormat {

    enum Style { TEXT, JSON }

    enum Encoding { UTF8, BASE64, HEX }

    private final Style style;
    private final Encoding encoding;

    RecordFormat(Style style, Encoding encoding) {
        this.style = style;
        this.encoding = encoding;
    }

    String format(String store, int partition, LogRecord record) {
        return style == Style.JSON ? json(store, partition, record) : text(partition, record);
    }

    private String text(int partition, LogRecord record) {
        StringBuilder out = new StringBuilder();
        out.append("partition=").append(partition).append(" offset=").append(record.offset())
                .append(" timestamp=").append(record.timestamp() < 0 ? "none" : Instant.ofEpochMilli(record.timestamp()))
                .append(" key=").append(bytes(record.key()))
                .append(" value=").append(bytes(record.value()));
        if (!record.headers().isEmpty()) {
            out.append(" headers=[");
            for (int i = 0; i < record.headers().size(); i++) {
                Header header = record.headers().get(i);
                out.append(i == 0 ? "" : ", ").append(header.key()).append('=').append(bytes(header.value()));
            }
            out.append(']');
        }
        return out.toString();
    }

    private String json(String store, int partition, LogRecord record) {
        StringBuilder out = new StringBuilder("{\"store\":").append(quote(store))
                .append(",\"partition\":").append(partition)
                .append(",\"offset\":").append(record.offset())
                .append(",\"timestamp\":").append(record.timestamp() < 0 ? "null" : Long.toString(record.timestamp()))
                .append(",\"key\":").append(jsonBytes(record.key()))
                .append(",\"value\":").append(jsonBytes(record.value()))
                .append(",\"headers\":[");
        for (int i = 0; i < record.headers().size(); i++) {
            Header header = record.headers().get(i);
            out.append(i == 0 ? "" : ",").append("{\"key\":").append(quote(header.key()))
                    .append(",\"value\":").append(jsonBytes(header.value())).append('}');
        }
        return out.append("]}").toString();
    }

    private String bytes(byte[] bytes) {
        return bytes == null ? "null" : encode(bytes);
    }

    private String jsonBytes(byte[] bytes) {
        return bytes == null ? "null" : quote(encode(bytes));
    }

    /** UTF-8 text when the bytes are valid UTF-8, else base64 prefixed with "base64:" so nothing is lost. */
    private String encode(byte[] bytes) {
        return switch (encoding) {
            case BASE64 -> Base64.getEncoder().encodeToString(bytes);
            case HEX -> HexFormat.of().formatHex(bytes);
            case UTF8 -> {
                try {
                    yield StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                            .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes)).toString();
                } catch (CharacterCodingException e) {
                    yield "base64:" + Base64.getEncoder().encodeToString(bytes);
                }
            }
        };
    }

    static String quote(String text) {
        StringBuilder out = new StringBuilder("\"");
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\t' -> out.append("\\t");
                default -> {
                    if (c < 0x20) {
                        out.append(String.format("\\u%04x", (int) c));
                    } else {
                        out.append(c);
                    }
                }
            }
        }
        return out.append('"').toString();
    }
}
