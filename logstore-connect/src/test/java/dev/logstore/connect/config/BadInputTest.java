package dev.logstore.connect.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.logstore.LogStore;
import dev.logstore.connect.sink.LogStoreSinkConnector;
import dev.logstore.connect.sink.LogStoreSinkTask;
import dev.logstore.connect.source.LogStoreSourceConnector;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.ConfigValue;
import org.apache.kafka.connect.connector.Connector;
import org.apache.kafka.connect.errors.ConnectException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Wrong values for every configuration key are refused by validate() with an error on that key,
 * and nothing is ever created outside the archive root.
 */
class BadInputTest {

    @TempDir
    Path work;

    private Map<String, List<String>> errors(Connector connector, Map<String, String> config) {
        return connector.validate(config).configValues().stream()
                .filter(value -> !value.errorMessages().isEmpty())
                .collect(Collectors.toMap(ConfigValue::name, ConfigValue::errorMessages));
    }

    private Map<String, String> base(String dir) {
        Map<String, String> config = new HashMap<>();
        config.put("name", "bad");
        config.put("logstore.dir", dir);
        config.put("topics", "orders");
        return config;
    }

    @ParameterizedTest(name = "sink {0}={1}")
    @CsvSource(delimiter = ';', value = {
        "logstore.dir;relative/path",
        "logstore.dir;''",
        "logstore.partition.mapping;round-robin",
        "logstore.partitions;0",
        "logstore.partitions;many",
        "behavior.on.null.values;drop",
        "logstore.segment.bytes;100",
        "logstore.segment.bytes;9999999999",
        "logstore.segment.ms;0",
        "logstore.index.interval.bytes;-4",
        "logstore.fsync.policy;sometimes",
        "logstore.fsync.records;0",
        "logstore.fsync.interval.ms;soon",
        "logstore.retention.ms;-2",
        "logstore.retention.bytes;-7",
        "logstore.corruption.policy;ignore",
        "logstore.compression.type;snappy",
        "logstore.compression.level;23",
        "logstore.encryption.key.id;k1",
        "logstore.encryption.key.file;/no/such/keys",
        "logstore.encryption.keystore.path;/no/such/keystore.p12",
        "logstore.encryption.keystore.type;JKS",
        "topics;../../etc"})
    void everySinkKeyRejectsWrongValuesByName(String key, String value) {
        Map<String, String> config = base(work.resolve("archive").toString());
        config.put(key, value);
        Map<String, List<String>> errors = errors(new LogStoreSinkConnector(), config);
        assertTrue(errors.containsKey(key), key + "=" + value + " must be refused on that key: " + errors);
        assertNothingOutside();
    }

    @ParameterizedTest(name = "source {0}={1}")
    @CsvSource(delimiter = ';', value = {
        "logstore.dir;relative/path",
        "logstore.dir;/no/such/archive",
        "logstore.stores;../outside",
        "logstore.stores;/etc",
        "logstore.stores;orders,..",
        "partition.mapping;random",
        "replay.start;yesterday",
        "replay.start.offset;-1",
        "replay.end;never",
        "replay.end.offset;-5",
        "batch.size;0",
        "batch.max.bytes;10",
        "rate.limit.records.per.second;-1",
        "poll.timeout.ms;0",
        "store.discovery.interval.ms;1",
        "target.replication.factor;lots",
        "logstore.stores.regex;orders[",
        "topic.format;''",
        "topic.format;${topic}/replay",
        "replay.plan.dir;relative/plans",
        "replay.plan.dir;/dev/null/plans",
        "logstore.encryption.key.file;/no/such/keys"})
    void everySourceKeyRejectsWrongValuesByName(String key, String value) {
        Map<String, String> config = sourceBase();
        config.put(key, value);
        Map<String, List<String>> errors = errors(new LogStoreSourceConnector(), config);
        assertTrue(errors.containsKey(key), key + "=" + value + " must be refused on that key: " + errors);
    }

    private Map<String, String> sourceBase() {
        Map<String, String> config = base(work.toString());
        config.remove("topics");
        config.put("topic.format", "${topic}.replay");
        return config;
    }

    @ParameterizedTest(name = "source {0}")
    @CsvSource(delimiter = ';', value = {
        "replay.end=offset without replay.end.offset;replay.end=offset;replay.end.offset;never ends",
        "replay.end=timestamp without replay.end.timestamp;replay.end=timestamp;replay.end.timestamp;stop before",
        "replay.start=offset without replay.start.offset;replay.start=offset;replay.start.offset;start at",
        "replay.start=timestamp without replay.start.timestamp;replay.start=timestamp;replay.start.timestamp;start at",
        "a start at the end;replay.start=offset,replay.start.offset=60,replay.end=offset,replay.end.offset=60;"
                + "replay.end.offset;nothing would be replayed",
        "a start after the end;replay.start=timestamp,replay.start.timestamp=9,replay.end=timestamp,"
                + "replay.end.timestamp=5;replay.end.timestamp;nothing would be replayed",
        "one topic for every store;topic.format=everything;topic.format;every selected store",
        "records and topics on two clusters;target.bootstrap.servers=a:9092,producer.override.bootstrap.servers=b:9092;"
                + "target.bootstrap.servers;producer.override.bootstrap.servers"})
    void sourceMistakesAcrossSettingsAreRefusedByValidateAndAtStart(String what, String settings, String key,
                                                                     String says) {
        Map<String, String> config = sourceBase();
        for (String setting : settings.split(",")) {
            String[] pair = setting.split("=", 2);
            config.put(pair[0], pair[1]);
        }
        Map<String, List<String>> errors = errors(new LogStoreSourceConnector(), config);
        assertTrue(errors.containsKey(key), what + " must be refused on " + key + ": " + errors);
        assertTrue(errors.get(key).get(0).contains(says), errors.get(key).get(0));
        ConnectException e = assertThrows(ConnectException.class, () -> new LogStoreSourceConnector().start(config));
        assertTrue(e.getMessage().contains(says), e.getMessage());
    }

    /** Encryption settings that cannot work together are refused by validate(), naming what to give. */
    @Test
    void encryptionSettingsAreCheckedAgainstTheKeysTheyName() throws Exception {
        Path keys = work.resolve("keys");
        java.nio.file.Files.writeString(keys, "k1=" + dev.logstore.Keys.newKeyBase64() + "\n");
        Map<String, String> config = base(work.resolve("archive").toString());
        config.put("logstore.encryption.key.file", keys.toString());
        config.put("logstore.encryption.key.id", "k2");
        Map<String, List<String>> errors = errors(new LogStoreSinkConnector(), config);
        assertTrue(errors.getOrDefault("logstore.encryption.key.id", List.of()).toString().contains("'k2'"),
                errors.toString());
        config.put("logstore.encryption.key.id", "k1");
        assertFalse(errors(new LogStoreSinkConnector(), config).containsKey("logstore.encryption.key.id"));
        config.put("logstore.encryption.keystore.path", keys.toString());
        assertTrue(errors(new LogStoreSinkConnector(), config).toString().contains("not both"));
        java.nio.file.Files.writeString(keys, "k1=c2hvcnQ=\n");
        config.remove("logstore.encryption.keystore.path");
        assertTrue(errors(new LogStoreSinkConnector(), config).getOrDefault("logstore.encryption.key.file", List.of())
                .toString().contains("AES-256"), "a key of the wrong size is refused");
    }

    @Test
    void theSinksIsolationLevelMustBeReadCommittedExactlyAsTheConsumerSpellsIt() {
        Map<String, String> config = base(work.toString());
        config.put("consumer.override.isolation.level", "READ_COMMITTED");
        List<String> problems = errors(new LogStoreSinkConnector(), config).get("logstore.require.read.committed");
        assertTrue(problems != null && problems.get(0).contains("in lower case"), String.valueOf(problems));
        config.put("consumer.override.isolation.level", "read_committed");
        assertFalse(errors(new LogStoreSinkConnector(), config).containsKey("logstore.require.read.committed"));
    }

    @Test
    void aMissingArchiveDirectoryIsReportedOnceSayingWhatToGive() {
        for (Connector connector : new Connector[] {new LogStoreSinkConnector(), new LogStoreSourceConnector()}) {
            Map<String, String> config = connector instanceof LogStoreSourceConnector ? sourceBase() : base("x");
            config.remove("logstore.dir");
            List<String> problems = errors(connector, config).get("logstore.dir");
            assertEquals(1, problems.size(), String.valueOf(problems));
            assertTrue(problems.get(0).contains("absolute path"), problems.get(0));
        }
    }

    @Test
    void aTopicFormatWithoutThePlaceholderIsFineForOneNamedStore() {
        Map<String, String> config = sourceBase();
        config.put("logstore.stores", "orders");
        config.put("topic.format", "orders-restored");
        assertEquals(Map.of(), errors(new LogStoreSourceConnector(), config));
    }

    @Test
    void anArchiveDirectoryThatIsAFileOrMissingIsRefused() throws Exception {
        Path file = Files.createFile(work.resolve("plain-file"));
        assertTrue(errors(new LogStoreSinkConnector(), base(file.toString())).get("logstore.dir").get(0)
                .contains("not a directory"));
        assertTrue(errors(new LogStoreSourceConnector(), base(work.resolve("missing").toString()))
                .get("logstore.dir").get(0).contains("does not exist"));
        assertFalse(Files.exists(work.resolve("missing")), "validation creates nothing");
    }

    @Test
    void aStoreSymlinkedOutOfTheRootIsRefusedAndNothingIsWrittenThere() throws Exception {
        Path root = Files.createDirectories(work.resolve("archive"));
        Path outside = Files.createDirectories(work.resolve("outside"));
        Files.createSymbolicLink(root.resolve("orders"), outside);
        LogStoreSinkTask task = new LogStoreSinkTask();
        task.initialize(new dev.logstore.connect.sink.FakeSinkTaskContext(false));
        task.start(Map.of("logstore.dir", root.toString()));
        ConnectException e = assertThrows(ConnectException.class, () -> task.open(List.of(new TopicPartition("orders", 0))));
        assertTrue(e.getMessage().contains("outside the archive root"), e.getMessage());
        task.stop();
        try (Stream<Path> files = Files.list(outside)) {
            assertEquals(0, files.count(), "nothing written through the link");
        }
        // The source skips such a store rather than following it.
        LogStore.open(outside, 1).close();
        Map<String, String> source = base(root.toString());
        source.remove("topics");
        source.put("topic.format", "${topic}.replay");
        LogStoreSourceConnector connector = new LogStoreSourceConnector();
        connector.start(source);
        assertEquals(List.of(), connector.taskConfigs(2));
        connector.stop();
    }

    private void assertNothingOutside() {
        try (Stream<Path> files = Files.list(work)) {
            List<Path> created = files.toList();
            assertTrue(created.isEmpty(), "validation created " + created);
        } catch (java.io.IOException e) {
            throw new AssertionError(e);
        }
    }
}
