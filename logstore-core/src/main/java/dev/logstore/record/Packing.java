package dev.logstore.record;

import java.nio.charset.StandardCharsets;
import java.util.Objects;
import javax.crypto.SecretKey;

/**
 * How a writer stores its batches: the codec that compresses their records (and its level), and
 * the key that encrypts them, if any. A batch whose records the codec does not make smaller is
 * stored uncompressed (random bytes, already compressed payloads): an archive never grows by
 * compressing.
 *
 * @param codec the codec
 * @param level the codec's level; 0 for its default
 * @param keyId the id of the encryption key, stored in every batch it encrypts; null for none
 * @param key   the AES-256 key itself; null for none
 */
public record Packing(Codec codec, int level, String keyId, SecretKey key) {

    /** Records stored as they are, in the clear. */
    public static final Packing PLAIN = new Packing(Codec.NONE, 0, null, null);

    public Packing {
        Objects.requireNonNull(codec, "codec");
        if (!codec.acceptsLevel(level)) {
            throw new IllegalArgumentException("compression level " + level + " is not one " + codec.configName()
                    + " takes: " + codec.levels());
        }
        if ((keyId == null) != (key == null)) {
            throw new IllegalArgumentException("an encryption key needs its id, and an id its key");
        }
        if (keyId != null && (keyId.isEmpty() || keyId.getBytes(StandardCharsets.UTF_8).length > 255)) {
            throw new IllegalArgumentException("key id '" + keyId + "' must be 1 to 255 bytes of UTF-8");
        }
    }

    /** Compression with {@code codec} at {@code level} (0: its default), in the clear. */
    public static Packing compressed(Codec codec, int level) {
        return new Packing(codec, level, null, null);
    }

    /** This packing, encrypting with {@code key} under {@code keyId}. */
    public Packing encryptedWith(String keyId, SecretKey key) {
        return new Packing(codec, level, keyId, key);
    }

    /** True when batches are stored as they are: no codec, no key. */
    public boolean plain() {
        return codec == Codec.NONE && key == null;
    }

    /** The level in effect: the one given, or the codec's default. */
    public int effectiveLevel() {
        return level == 0 ? codec.defaultLevel() : level;
    }

    @Override
    public String toString() {
        return "Packing[" + codec.configName() + (codec.defaultLevel() > 0 ? " level " + effectiveLevel() : "")
                + (keyId == null ? "" : ", encrypted with key '" + keyId + "'") + "]";
    }
}
