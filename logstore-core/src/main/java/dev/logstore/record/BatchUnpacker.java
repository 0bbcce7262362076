package dev.logstore.record;

import static dev.logstore.record.BatchFormat.*;

import com.github.luben.zstd.Zstd;
import dev.logstore.CorruptLogException;
import dev.logstore.EncryptionKeyException;
import dev.logstore.KeyProvider;
import dev.logstore.LogStoreException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.util.HashMap;
import java.util.Map;
import javax.crypto.AEADBadTagException;
import javax.crypto.Cipher;
import javax.crypto.SecretKey;
import javax.crypto.spec.GCMParameterSpec;
import net.jpountz.lz4.LZ4Exception;
import net.jpountz.lz4.LZ4Factory;
import net.jpountz.lz4.LZ4SafeDecompressor;

/**
 * Finds the records of a checksummed batch: in place for a plain batch, else decrypted and
 * decompressed into a scratch buffer of this unpacker's, valid until its next {@link #unpack}.
 * One per reader (not thread-safe). Keys come from the {@link KeyProvider} given, looked up once
 * per key id.
 */
public final class BatchUnpacker {

    private static final KeyProvider NO_KEYS = keyId -> null;
    private static final java.util.regex.Pattern KEY_ID = java.util.regex.Pattern.compile("[A-Za-z0-9._-]{1,64}");

    private final KeyProvider keys;
    private final Map<String, SecretKey> keyCache = new HashMap<>();
    private LZ4SafeDecompressor lz4;
    private Cipher cipher;
    private ByteBuffer decrypted;
    private ByteBuffer unpacked;
    private ByteBuffer records;
    private int start;
    private int end;

    /** An unpacker of plain and compressed batches; an encrypted one fails with {@link EncryptionKeyException}. */
    public BatchUnpacker() {
        this(null);
    }

    /** An unpacker that decrypts with the keys of {@code keys} (null: none). */
    public BatchUnpacker(KeyProvider keys) {
        this.keys = keys == null ? NO_KEYS : keys;
    }

    /** The buffer holding the records of the batch last unpacked. */
    public ByteBuffer records() {
        return records;
    }

    /** Where the records start in {@link #records()}. */
    public int start() {
        return start;
    }

    /** Where the records end in {@link #records()}. */
    public int end() {
        return end;
    }

    /**
     * Finds the records of the batch at {@code index} of {@code bytes}, whose header is
     * {@code header} and whose CRC-32C the caller checked: {@link #records()}, from
     * {@link #start()} to {@link #end()}.
     *
     * @param file         where the batch came from, for error messages (null for a buffer)
     * @param filePosition where the batch starts in that file
     * @throws CorruptLogException     when the body does not unpack as its header says
     * @throws EncryptionKeyException  when the batch is encrypted and its key was not given or does not decrypt it
     */
    public void unpack(ByteBuffer bytes, int index, BatchHeader header, Path file, long filePosition) {
        int batchEnd = index + header.sizeInBytes();
        if (header.plain()) {
            records = bytes;
            start = index + header.headerSize();
            end = batchEnd;
            return;
        }
        int position = index + HEADER_SIZE;
        if (batchEnd - position < 4) {
            throw new CorruptLogException(file, filePosition, "the batch ends inside its records' size");
        }
        int recordsSize = bytes.getInt(position);
        position += 4;
        if (recordsSize < 1 || recordsSize > MAX_BATCH_SIZE - HEADER_SIZE) {
            throw new CorruptLogException(file, filePosition, "impossible size of the unpacked records " + recordsSize);
        }
        ByteBuffer source = bytes;
        int sourceStart = position;
        int sourceEnd = batchEnd;
        if (header.encrypted()) {
            int keyIdLength = position < batchEnd ? bytes.get(position) & 0xff : -1;
            if (keyIdLength < 1 || batchEnd - position - 1 - keyIdLength - NONCE_SIZE < TAG_SIZE) {
                throw new CorruptLogException(file, filePosition, "the batch is too short for its key id, nonce and tag");
            }
            byte[] id = new byte[keyIdLength];
            bytes.get(position + 1, id);
            String keyId = new String(id, StandardCharsets.UTF_8);
            if (!KEY_ID.matcher(keyId).matches()) {
                // Never handed to a key provider (a key management service, say): the bytes are damaged.
                throw new CorruptLogException(file, filePosition, "the batch names no valid key id (" + keyIdLength
                        + " bytes that are not 1 to 64 letters, digits, '.', '_' or '-')");
            }
            byte[] nonce = new byte[NONCE_SIZE];
            bytes.get(position + 1 + keyIdLength, nonce);
            int payloadStart = position + 1 + keyIdLength + NONCE_SIZE;
            decrypted = Buffers.ensure(decrypted, batchEnd - payloadStart - TAG_SIZE, bytes.isDirect());
            decrypt(bytes, index, payloadStart, batchEnd, keyId, nonce, header, file, filePosition);
            source = decrypted;
            sourceStart = 0;
            sourceEnd = decrypted.limit();
        }
        Codec codec = header.codec();
        if (codec == Codec.NONE) {
            if (sourceEnd - sourceStart != recordsSize) {
                throw new CorruptLogException(file, filePosition, "the batch holds " + (sourceEnd - sourceStart)
                        + " bytes of records but says " + recordsSize);
            }
            records = source;
            start = sourceStart;
            end = sourceEnd;
            return;
        }
        long most = mostUnpacked(codec, sourceEnd - sourceStart);
        if (recordsSize > most) {
            // Checked before allocating: a damaged size must not cost a reader gigabytes of memory.
            throw new CorruptLogException(file, filePosition, "the batch says its " + (sourceEnd - sourceStart)
                    + " bytes of " + codec.configName() + " records unpack to " + recordsSize + " bytes, more than "
                    + codec.configName() + " can produce from them (" + most + ")");
        }
        if (!source.isDirect() && !source.hasArray()) {
            // A read-only heap buffer: zstd needs an array or direct memory, so the payload is copied once.
            ByteBuffer copy = ByteBuffer.allocate(sourceEnd - sourceStart);
            copy.put(0, source, sourceStart, sourceEnd - sourceStart);
            source = copy;
            sourceEnd -= sourceStart;
            sourceStart = 0;
        }
        unpacked = Buffers.ensure(unpacked, recordsSize, source.isDirect());
        int produced = decompress(codec, source, sourceStart, sourceEnd - sourceStart, recordsSize, file, filePosition);
        if (produced != recordsSize) {
            throw new CorruptLogException(file, filePosition, "the " + codec.configName() + " records unpack to "
                    + produced + " bytes, not the " + recordsSize + " the batch says");
        }
        records = unpacked;
        start = 0;
        end = recordsSize;
    }

    /**
     * The most bytes {@code codec} can unpack {@code length} bytes to: an LZ4 sequence of at least
     * one byte yields at most 255 + 15 + 4 bytes per byte, roughly; a zstd block of at least 3 bytes
     * yields at most 128 KiB.
     */
    static long mostUnpacked(Codec codec, int length) {
        return codec == Codec.LZ4 ? 256L * length + 64 : ((long) length / 3 + 1) * (128 * 1024);
    }

    private void decrypt(ByteBuffer bytes, int index, int payloadStart, int batchEnd, String keyId, byte[] nonce,
                         BatchHeader header, Path file, long filePosition) {
        SecretKey key = key(keyId, header, file);
        try {
            if (cipher == null) {
                cipher = Cipher.getInstance("AES/GCM/NoPadding");
            }
            cipher.init(Cipher.DECRYPT_MODE, key, new GCMParameterSpec(TAG_SIZE * 8, nonce));
            cipher.updateAAD(bytes.duplicate().limit(index + CRC_OFFSET).position(index));
            cipher.updateAAD(bytes.duplicate().limit(payloadStart).position(index + MAGIC_OFFSET));
            cipher.doFinal(bytes.duplicate().limit(batchEnd).position(payloadStart), decrypted);
            decrypted.flip();
        } catch (AEADBadTagException e) {
            throw new EncryptionKeyException(keyId, false, where(header, file) + " does not decrypt with the key given as '"
                    + keyId + "': that is not the key it was encrypted with (or the batch was altered and its "
                    + "checksum recomputed). Give the right key under that id", e);
        } catch (GeneralSecurityException e) {
            throw new EncryptionKeyException(keyId, false, "Cannot decrypt " + where(header, file) + " with key '" + keyId
                    + "': " + e.getMessage(), e);
        }
    }

    private SecretKey key(String keyId, BatchHeader header, Path file) {
        SecretKey key = keyCache.get(keyId);
        if (key == null) {
            try {
                key = keys.key(keyId);
            } catch (LogStoreException e) {
                throw new EncryptionKeyException(keyId, true, "Cannot read key '" + keyId + "' for " + where(header, file)
                        + ": " + e.getMessage(), e);
            }
            if (key == null) {
                throw new EncryptionKeyException(keyId, true, where(header, file) + " is encrypted with key '" + keyId
                        + "', which was not given: give a key file or keystore that holds it (the CLI's --key-file, "
                        + "the connectors' logstore.encryption.key.file)", null);
            }
            keyCache.put(keyId, key);
        }
        return key;
    }

    private static String where(BatchHeader header, Path file) {
        return "The batch at offset " + header.baseOffset() + (file == null ? "" : " of " + file);
    }

    private int decompress(Codec codec, ByteBuffer source, int from, int length, int recordsSize, Path file,
                           long filePosition) {
        try {
            if (codec == Codec.LZ4) {
                if (lz4 == null) {
                    lz4 = LZ4Factory.fastestInstance().safeDecompressor();
                }
                return lz4.decompress(source, from, length, unpacked, 0, recordsSize);
            }
            long n;
            if (source.isDirect()) {
                n = Zstd.decompressDirectByteBuffer(unpacked, 0, recordsSize, source, from, length);
            } else {
                n = Zstd.decompressByteArray(unpacked.array(), unpacked.arrayOffset(), recordsSize, source.array(),
                        source.arrayOffset() + from, length);
            }
            if (Zstd.isError(n)) {
                throw new CorruptLogException(file, filePosition, "the zstd records do not decompress: "
                        + Zstd.getErrorName(n));
            }
            return (int) n;
        } catch (com.github.luben.zstd.ZstdException e) {
            throw new CorruptLogException(file, filePosition, "the zstd records do not decompress: " + e.getMessage());
        } catch (LZ4Exception e) {
            throw new CorruptLogException(file, filePosition, "the lz4 records do not decompress: " + e.getMessage());
        }
    }
}
