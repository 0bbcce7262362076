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

    /** Bytes of a large batch compressed first to tell whether the rest is worth trying. */
    static final int PROBE_BYTES = 4 * 1024;

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
        int recordsSize = plain.limit() - HEADER_SIZE;
        boolean encrypt = keyId != null;
        if (!encrypt) {
            // Compressed straight behind the header and the records' size: no copy of the result.
            int length = packing.codec() == Codec.NONE ? -1 : compress(plain, recordsSize, HEADER_SIZE + 4);
            if (length < 0 || length + 4 >= recordsSize) {
                return plain; // stored as it is (attributes 0): compressing saved nothing
            }
            ByteBuffer out = packed;
            out.put(0, plain, 0, HEADER_SIZE);
            out.putInt(LENGTH_OFFSET, HEADER_SIZE + 4 + length - LOG_OVERHEAD);
            out.put(ATTRIBUTES_OFFSET, (byte) packing.codec().id());
            out.putInt(HEADER_SIZE, recordsSize);
            return out.clear().limit(HEADER_SIZE + 4 + length);
        }
        ByteBuffer body = plain;
        int bodyStart = HEADER_SIZE;
        int bodyLength = recordsSize;
        Codec used = Codec.NONE;
        if (packing.codec() != Codec.NONE) {
            int length = compress(plain, recordsSize, -1);
            if (length >= 0 && length < recordsSize) {
                body = compressed;
                bodyStart = 0;
                bodyLength = length;
                used = packing.codec();
            }
        }
        int prefix = 4 + 1 + keyId.length + NONCE_SIZE;
        long total = (long) HEADER_SIZE + prefix + bodyLength + TAG_SIZE;
        if (total > MAX_BATCH_SIZE) {
            throw new IllegalArgumentException("a batch of " + recordsSize + " bytes of records is too large to encrypt "
                    + "(at most " + (MAX_BATCH_SIZE - HEADER_SIZE - prefix - TAG_SIZE) + "): append fewer records at once");
        }
        packed = Buffers.ensure(packed, (int) total, true);
        ByteBuffer out = packed;
        out.put(plain.duplicate().position(0).limit(HEADER_SIZE));
        out.putInt(LENGTH_OFFSET, (int) total - LOG_OVERHEAD);
        out.put(ATTRIBUTES_OFFSET, (byte) (used.id() | ENCRYPTED));
        out.putInt(recordsSize);
        ByteBuffer source = body.duplicate().limit(bodyStart + bodyLength).position(bodyStart);
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
        return out.flip();
    }

    /**
     * Compresses the records of {@code plain}: into {@link #packed} at {@code packedOffset}, or into
     * {@link #compressed} from its start when that is -1. Returns the compressed length, or -1 when
     * the codec failed or the records look incompressible. A large batch is first probed: when the
     * codec cannot shrink a slice of {@link #PROBE_BYTES} from its middle by a few percent (random
     * or already compressed payloads), the whole batch is not tried, which would cost as much time
     * as compressing it and be thrown away.
     */
    private int compress(ByteBuffer plain, int recordsSize, int packedOffset) {
        int bound = packing.codec() == Codec.ZSTD
                ? (int) Math.min(MAX_BATCH_SIZE, com.github.luben.zstd.Zstd.compressBound(recordsSize))
                : lz4.maxCompressedLength(recordsSize);
        ByteBuffer target;
        int offset;
        if (packedOffset >= 0) {
            packed = Buffers.ensure(packed, (int) Math.min(MAX_BATCH_SIZE, (long) packedOffset + bound), true);
            target = packed;
            offset = packedOffset;
        } else {
            compressed = Buffers.ensure(compressed, bound, true);
            target = compressed;
            offset = 0;
        }
        if (recordsSize >= 16 * PROBE_BYTES) {
            int probed = compressRange(plain, HEADER_SIZE + (recordsSize - PROBE_BYTES) / 2, PROBE_BYTES, target, offset);
            if (probed < 0 || probed > PROBE_BYTES - PROBE_BYTES / 32) {
                return -1;
            }
        }
        return compressRange(plain, HEADER_SIZE, recordsSize, target, offset);
    }

    /** Compresses {@code [from, from + length)} of {@code plain} into {@code target} at {@code offset}; -1 when the codec fails. */
    private int compressRange(ByteBuffer plain, int from, int length, ByteBuffer target, int offset) {
        target.clear().position(offset);
        if (packing.codec() == Codec.LZ4) {
            return lz4.compress(plain, from, length, target, offset, target.capacity() - offset);
        }
        if (zstd == null) {
            zstd = new ZstdCompressCtx();
        }
        // Streamed, so zstd picks its parameters for a stream of unknown size, as a Kafka producer's
        // does: told the size, it picks ones for small inputs that compress batches of 128 to 256
        // KiB about 5 % worse at level 3, for no gain in speed.
        ByteBuffer source = plain.duplicate().limit(from + length).position(from);
        try {
            zstd.reset();
            zstd.setLevel(packing.effectiveLevel());
            zstd.compressDirectByteBufferStream(target, source, EndDirective.CONTINUE);
            while (!zstd.compressDirectByteBufferStream(target, source, EndDirective.END)) {
                if (!target.hasRemaining()) {
                    return -1; // larger than the bound: cannot happen, and stored plain if it does
                }
            }
        } catch (ZstdException e) {
            return -1;
        }
        return target.position() - offset;
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
