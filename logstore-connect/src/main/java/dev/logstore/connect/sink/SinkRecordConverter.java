package dev.logstore.connect.sink;

import dev.logstore.record.Header;
import dev.logstore.record.Record;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.connect.errors.DataException;
import org.apache.kafka.connect.sink.SinkRecord;

/**
 * Turns a {@link SinkRecord} into the bytes LogStore keeps.
 *
 * <p>Keys, values and header values must arrive as bytes: with {@code ByteArrayConverter} for
 * key, value and headers the archive is a byte-exact copy of the topic. Two other forms are
 * accepted because their bytes are unambiguous: {@code ByteBuffer} (its remaining bytes) and
 * {@code String} (UTF-8; exact for the text {@code StringConverter} produces, which has already
 * replaced any invalid UTF-8 in the topic). Anything else (structs, maps, numbers, the typed
 * header values {@code SimpleHeaderConverter} parses) would have to be re-serialized in some
 * format the topic never had, so it is refused with an error that names the converter to use.
 */
final class SinkRecordConverter {

    private static final String BYTE_ARRAY_CONVERTER = "org.apache.kafka.connect.converters.ByteArrayConverter";

    private SinkRecordConverter() {
    }

    static Record toRecord(SinkRecord record) {
        org.apache.kafka.connect.header.Headers connectHeaders = record.headers();
        List<Header> headers;
        if (connectHeaders.isEmpty()) {
            headers = List.of();
        } else {
            headers = new ArrayList<>(connectHeaders.size());
            for (org.apache.kafka.connect.header.Header header : connectHeaders) {
                headers.add(new Header(header.key(), bytes(record, header.value(), "header '" + header.key() + "'",
                        "header.converter")));
            }
        }
        Long timestamp = record.timestamp();
        return new Record(bytes(record, record.key(), "key", "key.converter"),
                bytes(record, record.value(), "value", "value.converter"), headers,
                timestamp == null ? Record.NO_TIMESTAMP : timestamp);
    }

    private static byte[] bytes(SinkRecord record, Object value, String what, String converterKey) {
        if (value == null) {
            return null;
        }
        if (value instanceof byte[] bytes) {
            return bytes;
        }
        if (value instanceof ByteBuffer buffer) {
            ByteBuffer view = buffer.duplicate();
            byte[] bytes = new byte[view.remaining()];
            view.get(bytes);
            return bytes;
        }
        if (value instanceof String text) {
            return text.getBytes(StandardCharsets.UTF_8);
        }
        throw new DataException("The " + what + " of record " + record.topic() + "-" + record.kafkaPartition() + "@"
                + record.kafkaOffset() + " is a " + value.getClass().getName() + "; LogStore archives bytes. Set "
                + converterKey + "=" + BYTE_ARRAY_CONVERTER + " on the connector for a byte-exact archive");
    }
}
