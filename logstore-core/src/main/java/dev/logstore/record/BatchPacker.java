package dev.logstore.record;

import static dev.logstore.record.BatchFormat.*;

import com.github.luben.zstd.EndDirective;
import com.github.luben.zstd.ZstdCompressCtx;
import com.github.luben.zstd.ZstdException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import net.jpountz.lz4.LZ4Compressor;
import net.jpountz.lz4.LZ4Factory;

/**
 * Turns an encoded plain batch into its stored form as a {@link Packing} says: compresses the
 * records, encrypts them, and writes the body layout of {@link BatchFormat} version 3. Holds its
 * scratch buffers and cipher between batches; not thread-safe (one per encoder).
 */
final class BatchPacker {

    private final Packing packing;
    private final byte[] keyId;
    private final LZ4Compressor lz4;
    /** Native memory the garbage collector does not free: closed by {@link #close}. */
    private ZstdCompressCtx zstd;
    private Cipher cipher;
    private SecureRandom random;
    private ByteBuffer compressed;
    private ByteBuffer packed;

    BatchPacker(Packing packing) {
        this.packing = packing;
        this.keyId = packing.keyId() == null ? null : packing.keyId().getBytes(StandardCharsets.UTF_8);
        this.lz4 = packing.codec() == Codec.LZ4 ? LZ4Factory.fastestInstance().fastCompressor() : null;
    }

    /**
     * The stored form of the plain batch {@code plain} (position 0 to its limit, header filled in
     * but for its CRC and attributes): {@code plain} itself when stored as it is, else a buffer of
     * this packer's. The caller computes the CRC.
     */
    ByteBuffer pack(ByteBuffer plain) {
        int size = plain.limit();
        int recordsSize = size - HEADER_SIZE;
        ByteBuffer body = plain;
        int bodyStart = HEADER_SIZE;
        int bodyLength = recordsSize;
        Codec used = Codec.NONE;
        if (packing.codec() != Codec.NONE) {
            int length = compress(plain, recordsSize);
            if (length >= 0 && length < recordsSize) {
                body = compressed;
                bodyStart = 0;
                bodyLength = length;
                used = packing.codec();
            }
        }
        boolean encrypt = keyId != null;
        if (used == Codec.NONE && !encrypt) {
            return plain; // stored as it is: attributes 0
        }
        int prefix = 4 + (encrypt ? 1 + keyId.length + NONCE_SIZE : 0);
        long total = (long) HEADER_SIZE + prefix + bodyLength + (encrypt ? TAG_SIZE : 0);
        if (total > MAX_BATCH_SIZE) {
            return plain; // only a batch at the limit could grow past it: keep it plain
        }
        packed = Buffers.ensure(packed, (int) total, true);
        ByteBuffer out = packed;
        out.put(plain.duplicate().position(0).limit(HEADER_SIZE));
        out.putInt(LENGTH_OFFSET, (int) total - LOG_OVERHEAD);
        out.put(ATTRIBUTES_OFFSET, (byte) (used.id() | (encrypt ? ENCRYPTED : 0)));
        out.putInt(recordsSize);
        ByteBuffer source = body.duplicate().limit(bodyStart + bodyLength).position(bodyStart);
        if (encrypt) {
            byte[] nonce = new byte[NONCE_SIZE];
            random().nextBytes(nonce);
            out.put((byte) keyId.length).put(keyId).put(nonce);
            int payloadStart = out.position();
            try {
                Cipher gcm = cipher();
                gcm.init(Cipher.ENCRYPT_MODE, packing.key(), new GCMParameterSpec(TAG_SIZE * 8, nonce));
                gcm.updateAAD(out.duplicate().position(0).limit(CRC_OFFSET));
                gcm.updateAAD(out.duplicate().position(MAGIC_OFFSET).limit(payloadStart));
                gcm.doFinal(source, out);
            } catch (GeneralSecurityException e) {
                throw new IllegalStateException("AES-GCM encryption with key '" + packing.keyId() + "' failed: "
                        + e.getMessage(), e);
            }
        } else {
            out.put(source);
        }
        return out.flip();
    }

    /** Compresses the records of {@code plain} into {@link #compressed}; its length, or -1 when the codec failed. */
    private int compress(ByteBuffer plain, int recordsSize) {
        if (packing.codec() == Codec.ZSTD) {
            int bound = (int) Math.min(MAX_BATCH_SIZE, com.github.luben.zstd.Zstd.compressBound(recordsSize));
            compressed = Buffers.ensure(compressed, bound, true);
            if (zstd == null) {
                zstd = new ZstdCompressCtx();
            }
            // Streamed, so zstd picks its parameters for a stream of unknown size, as a Kafka producer's
            // does: told the size, it picks ones for small inputs that compress batches of 128 to 256
            // KiB about 5 % worse at level 3, for no gain in speed.
            ByteBuffer source = plain.duplicate().limit(HEADER_SIZE + recordsSize).position(HEADER_SIZE);
            try {
                zstd.reset();
                zstd.setLevel(packing.effectiveLevel());
                zstd.compressDirectByteBufferStream(compressed, source, EndDirective.CONTINUE);
                while (!zstd.compressDirectByteBufferStream(compressed, source, EndDirective.END)) {
                    if (!compressed.hasRemaining()) {
                        return -1; // larger than the bound: cannot happen, and stored plain if it does
                    }
                }
            } catch (ZstdException e) {
                return -1;
            }
            return compressed.position();
        }
        int bound = lz4.maxCompressedLength(recordsSize);
        compressed = Buffers.ensure(compressed, bound, true);
        return lz4.compress(plain, HEADER_SIZE, recordsSize, compressed, 0, bound);
    }

    private Cipher cipher() throws GeneralSecurityException {
        if (cipher == null) {
            cipher = Cipher.getInstance("AES/GCM/NoPadding");
        }
        return cipher;
    }

    private SecureRandom random() {
        if (random == null) {
            random = new SecureRandom();
        }
        return random;
    }

    /** Frees the zstd context; a later batch takes a new one. */
    void close() {
        if (zstd != null) {
            zstd.close();
            zstd = null;
        }
    }

    /** Bytes of direct memory held now. */
    int capacity() {
        return (compressed == null ? 0 : compressed.capacity()) + (packed == null ? 0 : packed.capacity());
    }
}
