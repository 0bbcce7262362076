package dev.logstore.connect.config;

import dev.logstore.KeyProvider;
import dev.logstore.Keys;
import dev.logstore.LogStore;
import dev.logstore.LogStoreException;
import dev.logstore.record.Codec;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.kafka.common.config.AbstractConfig;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigDef.Importance;
import org.apache.kafka.common.config.ConfigDef.Type;
import org.apache.kafka.common.config.ConfigDef.Width;
import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.common.config.types.Password;

/**
 * How archives are stored: the sink's codec and encryption key, and the keys both connectors
 * decrypt with. The keystore password is a {@link Type#PASSWORD}, so Connect never logs or shows
 * it; put it (or the whole setting) behind a {@code ConfigProvider} such as
 * {@code ${file:/etc/connect/secrets.properties:keystore.password}}.
 */
public final class PackingSettings {

    public static final String GROUP = "Compression and encryption";

    public static final String COMPRESSION_TYPE = "logstore.compression.type";
    public static final String COMPRESSION_LEVEL = "logstore.compression.level";
    public static final String KEY_ID = "logstore.encryption.key.id";
    public static final String KEY_FILE = "logstore.encryption.key.file";
    public static final String KEYSTORE_PATH = "logstore.encryption.keystore.path";
    public static final String KEYSTORE_PASSWORD = "logstore.encryption.keystore.password";
    public static final String KEYSTORE_TYPE = "logstore.encryption.keystore.type";

    private PackingSettings() {
    }

    /** Adds the codec and encryption settings of the sink to {@code definition}. */
    public static ConfigDef defineForWriting(ConfigDef definition) {
        int order = 0;
        definition
                .define(COMPRESSION_TYPE, Type.STRING, Codec.ZSTD.configName(),
                        ConfigDef.CaseInsensitiveValidString.in("none", "lz4", "zstd"), Importance.MEDIUM,
                        "How the records of each stored batch are compressed: 'zstd' (default: an archive is "
                                + "written once and kept for years, and zstd gives the best ratio for the CPU, "
                                + "3-10x on JSON or Avro, while reading it back stays fast), 'lz4' (least CPU, about "
                                + "half the ratio) or 'none'. A batch the codec does not shrink is stored as it is. "
                                + "Each batch says how it is stored, so this may change at any time.",
                        GROUP, ++order, Width.SHORT, "Compression")
                .define(COMPRESSION_LEVEL, Type.INT, 0, Importance.LOW,
                        "The zstd level, 1 (fastest) to 22 (smallest); 0 for zstd's default, 3. lz4 and none take no "
                                + "level.", GROUP, ++order, Width.SHORT, "Compression level")
                .define(KEY_ID, Type.STRING, null, Importance.MEDIUM,
                        "Encrypt every batch archived from now on with AES-256-GCM under the key of this id, from "
                                + KEY_FILE + " or " + KEYSTORE_PATH + ". To rotate, add a new key there and name it "
                                + "here: older batches keep naming theirs and stay readable while it is kept. Offsets, "
                                + "timestamps, record counts and sizes stay in the clear (see FORMAT.md).",
                        GROUP, ++order, Width.SHORT, "Encryption key id");
        return defineKeys(definition, order);
    }

    /** Adds the settings of the keys that decrypt archives (the source's, and the sink's besides its own). */
    public static ConfigDef defineKeys(ConfigDef definition, int after) {
        int order = after;
        return definition
                .define(KEY_FILE, Type.STRING, null, Importance.MEDIUM,
                        "A key file: one key per line, <key id>=<the key's 32 bytes in base64> (bin/logstore keygen "
                                + "makes one). Readable by the worker's user only.",
                        GROUP, ++order, Width.LONG, "Key file")
                .define(KEYSTORE_PATH, Type.STRING, null, Importance.MEDIUM,
                        "A Java keystore of AES-256 secret keys, the alias being the key id (instead of a key file).",
                        GROUP, ++order, Width.LONG, "Keystore")
                .define(KEYSTORE_PASSWORD, Type.PASSWORD, null, Importance.MEDIUM,
                        "The keystore's password (also each key's); never logged. Give it through a ConfigProvider.",
                        GROUP, ++order, Width.SHORT, "Keystore password")
                .define(KEYSTORE_TYPE, Type.STRING, "PKCS12", ConfigDef.CaseInsensitiveValidString.in("PKCS12", "JCEKS"),
                        Importance.LOW, "The type of the keystore at " + KEYSTORE_PATH + ".", GROUP, ++order, Width.SHORT,
                        "Keystore type");
    }

    /**
     * Like {@link #problems(AbstractConfig, boolean)}, for a connector configuration that may have
     * mistakes in other settings: only these settings are parsed, and a value of theirs that does
     * not parse is left to the per-setting validation.
     */
    public static Map<String, String> problems(Map<String, String> props, ConfigDef definition, boolean writing) {
        ConfigDef own = writing ? defineForWriting(new ConfigDef()) : defineKeys(new ConfigDef(), 0);
        Map<String, String> mine = new java.util.HashMap<>();
        props.forEach((key, value) -> {
            if (own.configKeys().containsKey(key)) {
                mine.put(key, value);
            }
        });
        AbstractConfig config;
        try {
            config = new AbstractConfig(own, mine, false);
        } catch (ConfigException e) {
            return Map.of();
        }
        return problems(config, writing);
    }

    /** What is wrong with the settings, by setting (empty when nothing is): the keys are read to check. */
    public static Map<String, String> problems(AbstractConfig config, boolean writing) {
        Map<String, String> problems = new LinkedHashMap<>();
        if (writing) {
            Codec codec = Codec.parse(config.getString(COMPRESSION_TYPE));
            int level = config.getInt(COMPRESSION_LEVEL);
            if (!codec.acceptsLevel(level)) {
                problems.put(COMPRESSION_LEVEL, "level " + level + " is not one " + codec.configName() + " takes: "
                        + codec.levels());
            }
        }
        KeyProvider keys;
        try {
            keys = keys(config);
        } catch (LogStoreException | ConfigException e) {
            problems.put(config.getString(KEY_FILE) != null ? KEY_FILE : KEYSTORE_PATH, e.getMessage());
            return problems;
        }
        String keyId = writing ? config.getString(KEY_ID) : null;
        if (keyId != null) {
            if (keys == null) {
                problems.put(KEY_ID, "encrypting with key '" + keyId + "' needs " + KEY_FILE + " or " + KEYSTORE_PATH
                        + " holding it");
            } else {
                try {
                    Keys.checkId(keyId, KEY_ID);
                    if (keys.key(keyId) == null) {
                        problems.put(KEY_ID, "the keys given hold no key '" + keyId + "': add it, or name one they hold");
                    }
                } catch (LogStoreException e) {
                    problems.put(KEY_ID, e.getMessage());
                }
            }
        }
        return problems;
    }

    /** The keys the settings name, or null when none; a clear error when they cannot be read. */
    public static KeyProvider keys(AbstractConfig config) {
        String file = config.getString(KEY_FILE);
        String keystore = config.getString(KEYSTORE_PATH);
        if (file != null && keystore != null) {
            throw new ConfigException(KEY_FILE, file, "give " + KEY_FILE + " or " + KEYSTORE_PATH + ", not both");
        }
        if (file != null) {
            return Keys.fromFile(Path.of(file));
        }
        if (keystore != null) {
            Password password = config.getPassword(KEYSTORE_PASSWORD);
            return Keys.fromKeyStore(Path.of(keystore), password == null ? null : password.value().toCharArray(),
                    config.getString(KEYSTORE_TYPE));
        }
        return null;
    }

    /** Applies the codec, the encryption key and the keys to a builder of a store the sink writes. */
    public static LogStore.Builder applyForWriting(AbstractConfig config, LogStore.Builder builder) {
        Map<String, String> problems = problems(config, true);
        if (!problems.isEmpty()) {
            Map.Entry<String, String> first = problems.entrySet().iterator().next();
            throw new ConfigException(first.getKey() + ": " + first.getValue());
        }
        builder.compression(Codec.parse(config.getString(COMPRESSION_TYPE)), config.getInt(COMPRESSION_LEVEL));
        KeyProvider keys = keys(config);
        String keyId = config.getString(KEY_ID);
        if (keys != null && keyId != null) {
            builder.encryption(keys, keyId);
        } else if (keys != null) {
            builder.keys(keys);
        }
        return builder;
    }

    /** Applies the keys to a builder of a store read (the source's). */
    public static LogStore.Builder applyForReading(AbstractConfig config, LogStore.Builder builder) {
        KeyProvider keys = keys(config);
        return keys == null ? builder : builder.keys(keys);
    }
}
