package dev.logstore;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.logstore.record.BatchEncoder;
import dev.logstore.record.BatchFormat;
import dev.logstore.record.BatchHeader;
import dev.logstore.record.Codec;
import dev.logstore.record.Packing;
import dev.logstore.record.RecordDecoder;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.util.Base64;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Packed batches from hostile or unusual sources: bytes whose checksum was recomputed over
 * damage, buffers of every kind, keys from keystores and builders combined in any order, and
 * the reads that must work without a key.
 */
class PackedBatchDamageTest {

    private static final byte[] K1 = new byte[32];
    private static final byte[] K2 = new byte[32];

    static {
        K2[0] = 1;
    }

    @TempDir
    Path dir;

    @Test
    void zstdBatchesDecodeFromAReadOnlyHeapBuffer() {
        try (LogStore s = LogStore.builder(dir).partitions(1).compression(Codec.ZSTD).open()) {
            s.append(0, PackedBatchesTest.orders(0, 50));
            ByteBuffer b = ByteBuffer.allocate(1 << 16);
            s.read(0, 0, b);
            assertEquals(50, RecordDecoder.decode(b.flip().asReadOnlyBuffer()).size());
        }
    }

    /** In a child JVM of -Xmx256m: decodes a base64 batch from a heap or direct buffer and prints what happened. */
    public static void main(String[] args) {
        ByteBuffer b = ByteBuffer.wrap(Base64.getDecoder().decode(args[0]));
        if (args[1].equals("direct")) {
            b = ByteBuffer.allocateDirect(b.remaining()).put(b).flip();
        }
        try {
            RecordDecoder.decode(b);
            System.out.println("RESULT decoded");
        } catch (Throwable t) {
            System.out.println("RESULT " + t);
        }
    }

    /** A batch of a few hundred bytes whose records claim 2 GiB is damage, found before anything is allocated. */
    @ParameterizedTest
    @EnumSource(value = Codec.class, names = {"LZ4", "ZSTD"})
    void aBatchLyingAboutItsRecordsSizeIsDamageNotOutOfMemory(Codec codec) throws Exception {
        ByteBuffer e = new BatchEncoder(Packing.compressed(codec, 0)).encode(0, null, PackedBatchesTest.orders(0, 20));
        ByteBuffer b = ByteBuffer.allocate(e.remaining()).put(e).flip();
        b.putInt(BatchFormat.HEADER_SIZE, BatchFormat.MAX_BATCH_SIZE - BatchFormat.HEADER_SIZE);
        b.putInt(BatchFormat.CRC_OFFSET, BatchHeader.computeCrc(b, 0, b.limit()));
        StringBuilder said = new StringBuilder();
        for (String kind : new String[] {"heap", "direct"}) {
            try (ChildProcess c = new ChildProcess(PackedBatchDamageTest.class,
                    Base64.getEncoder().encodeToString(b.array()), kind)) {
                said.append("\n ").append(b.limit()).append("-byte ").append(codec).append(" batch, ").append(kind)
                        .append(": ").append(c.readLineStartingWith("RESULT"));
            }
        }
        assertFalse(said.toString().contains("OutOfMemoryError"), said.toString());
        assertTrue(said.toString().contains("CorruptLogException"), said.toString());
    }

    /** Keystores keep aliases in lower case; a key id of any case finds its key there. */
    @ParameterizedTest
    @ValueSource(strings = {"PKCS12", "JCEKS"})
    void aKeystoreKeyIsFoundUnderItsIdWhateverItsCase(String type) throws Exception {
        Path keyFile = Files.writeString(dir.resolve("keys"), "Orders-2026=" + Base64.getEncoder().encodeToString(K1));
        try (LogStore s = LogStore.builder(dir.resolve("s")).partitions(1)
                .encryption(Keys.fromFile(keyFile), "Orders-2026").open()) {
            s.append(0, PackedBatchesTest.orders(0, 10));
        }
        KeyStore ks = KeyStore.getInstance(type);
        ks.load(null, null);
        ks.setEntry("Orders-2026", new KeyStore.SecretKeyEntry(new SecretKeySpec(K1, "AES")),
                new KeyStore.PasswordProtection("pw".toCharArray()));
        try (OutputStream out = Files.newOutputStream(dir.resolve("ks"))) {
            ks.store(out, "pw".toCharArray());
        }
        KeyProvider keys = Keys.fromKeyStore(dir.resolve("ks"), "pw".toCharArray(), type);
        try (LogStore s = LogStore.builder(dir.resolve("s")).readOnly().keys(keys).open(); LogReader r = s.reader(0)) {
            assertEquals(10, r.poll(100, 1 << 20).size());
        }
    }

    /** keys() adds keys to read with; it never takes away the key new batches are encrypted with. */
    @Test
    void aWriterReadsBackWhatItEncryptsWhateverTheBuilderOrder() {
        try (LogStore s = LogStore.builder(dir).partitions(1).encryption(Keys.of("k2", K2), "k2")
                .keys(Keys.of("k1", K1)).open(); LogReader r = s.reader(0)) {
            s.append(0, PackedBatchesTest.orders(0, 10));
            assertEquals(10, r.poll(100, 1 << 20).size());
        }
    }

    /** Without the key a seek by time lands on the batch its header names, the finest the header tells. */
    @Test
    void seekToTimestampNeedsNoKeyAndLandsOnTheBatch() {
        try (LogStore s = LogStore.builder(dir).partitions(1).encryption(Keys.of("k1", K1), "k1").open()) {
            for (int i = 0; i < 5; i++) {
                s.append(0, PackedBatchesTest.orders(i * 10, 10));
            }
        }
        try (LogStore s = LogStore.builder(dir).readOnly().open(); LogReader r = s.reader(0)) {
            assertEquals(20, r.seekToTimestamp(1_700_000_000_000L + 20).position());
            assertEquals(20, r.seekToTimestamp(1_700_000_000_000L + 25).position(), "batch precision without the key");
        }
        try (LogStore s = LogStore.builder(dir).readOnly().keys(Keys.of("k1", K1)).open(); LogReader r = s.reader(0)) {
            assertEquals(25, r.seekToTimestamp(1_700_000_000_000L + 25).position(), "record precision with it");
        }
    }

    /** A key id that is not one (damage with a recomputed checksum) is damage, never handed to a key provider. */
    @Test
    void aDamagedKeyIdIsDamageNotAMissingKey() {
        ByteBuffer e = new BatchEncoder(Packing.PLAIN.encryptedWith("k1", new SecretKeySpec(K1, "AES")))
                .encode(0, null, PackedBatchesTest.orders(0, 10));
        ByteBuffer b = ByteBuffer.allocate(e.remaining()).put(e).flip();
        // The key id's first byte (after the header, the records' size and the id's length) turned
        // into a control character: never a key id, whatever the random nonce after it holds.
        b.put(BatchFormat.HEADER_SIZE + 4 + 1, (byte) 1);
        b.putInt(BatchFormat.CRC_OFFSET, BatchHeader.computeCrc(b, 0, b.limit()));
        String[] asked = {null};
        assertThrows(CorruptLogException.class, () -> RecordDecoder.decodeWithKeys(b, keyId -> {
            asked[0] = keyId;
            return null;
        }));
        assertEquals(null, asked[0], "a damaged key id reached the key provider");
    }
}
