package dev.logstore;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.logstore.record.Codec;
import dev.logstore.record.LogRecord;
import dev.logstore.record.Record;
import dev.logstore.record.RecordDecoder;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.KeyStore;
import java.util.Base64;
import java.util.List;
import javax.crypto.KeyGenerator;
import javax.crypto.SecretKey;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Where keys come from (key files and keystores), and encrypted batches sent as stored. */
class KeysTest {

    @TempDir
    Path dir;

    private static SecretKey aes(int bits) throws Exception {
        KeyGenerator generator = KeyGenerator.getInstance("AES");
        generator.init(bits);
        return generator.generateKey();
    }

    @Test
    void aPkcs12KeystoreGivesItsSecretKeysByAliasAndRefusesTheWrongPassword() throws Exception {
        SecretKey key = aes(256);
        KeyStore store = KeyStore.getInstance("PKCS12");
        store.load(null, null);
        char[] password = "s3cret".toCharArray();
        store.setEntry("archive-2026", new KeyStore.SecretKeyEntry(key), new KeyStore.PasswordProtection(password));
        Path file = dir.resolve("keys.p12");
        try (OutputStream out = Files.newOutputStream(file)) {
            store.store(out, password);
        }
        KeyProvider keys = Keys.fromKeyStore(file, password, null);
        assertArrayEquals(key.getEncoded(), keys.key("archive-2026").getEncoded());
        assertNull(keys.key("other"));
        LogStoreException wrong = assertThrows(LogStoreException.class,
                () -> Keys.fromKeyStore(file, "guess".toCharArray(), "PKCS12"));
        assertTrue(wrong.getMessage().contains("password"), wrong.getMessage());

        Path store128 = dir.resolve("short.p12");
        KeyStore small = KeyStore.getInstance("PKCS12");
        small.load(null, null);
        small.setEntry("k", new KeyStore.SecretKeyEntry(aes(128)), new KeyStore.PasswordProtection(password));
        try (OutputStream out = Files.newOutputStream(store128)) {
            small.store(out, password);
        }
        LogStoreException shortKey = assertThrows(LogStoreException.class,
                () -> Keys.fromKeyStore(store128, password, "PKCS12"));
        assertTrue(shortKey.getMessage().contains("AES-256"), shortKey.getMessage());
    }

    @Test
    void keyFilesSkipCommentsAndRefuseDuplicatesBadIdsAndBadBase64NamingTheLine() throws Exception {
        String k1 = Base64.getEncoder().encodeToString(new byte[32]);
        Path file = dir.resolve("keys");
        Files.writeString(file, "# keys\n\nk1 = " + k1 + "\n");
        assertEquals(32, Keys.fromFile(file).key("k1").getEncoded().length);
        Files.writeString(file, "k1=" + k1 + "\nk1=" + k1 + "\n");
        assertTrue(assertThrows(LogStoreException.class, () -> Keys.fromFile(file)).getMessage().contains("twice"));
        Files.writeString(file, "bad id=" + k1 + "\n");
        assertTrue(assertThrows(LogStoreException.class, () -> Keys.fromFile(file)).getMessage().contains("line 1"));
        Files.writeString(file, "k1=!!!\n");
        assertTrue(assertThrows(LogStoreException.class, () -> Keys.fromFile(file)).getMessage().contains("base64"));
        Files.writeString(file, "# nothing\n");
        assertTrue(assertThrows(LogStoreException.class, () -> Keys.fromFile(file)).getMessage().contains("no key"));
        assertTrue(assertThrows(LogStoreException.class, () -> Keys.fromFile(dir.resolve("missing")))
                .getMessage().contains("Cannot read"));
    }

    @Test
    void transferSendsEncryptedCompressedBatchesAsStoredAndTheyDecodeWithTheKeys() throws Exception {
        KeyProvider keys = Keys.of("k1", new byte[32]);
        Path store = dir.resolve("store");
        List<Record> records = PackedBatchesTest.orders(0, 300);
        try (LogStore s = LogStore.builder(store).partitions(1).compression(Codec.ZSTD).encryption(keys, "k1").open()) {
            s.append(0, records.subList(0, 150));
            s.append(0, records.subList(150, 300));
        }
        Path copy = dir.resolve("sent");
        try (LogStore s = LogStore.builder(store).readOnly().open();
             FileChannel out = FileChannel.open(copy, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            s.transferTo(0, 0, Long.MAX_VALUE, out);
        }
        byte[] sent = Files.readAllBytes(copy);
        assertArrayEquals(Files.readAllBytes(store.resolve("partition-0").resolve("00000000000000000000.log")), sent,
                "transfer sent other bytes than those stored");
        assertThrows(EncryptionKeyException.class, () -> RecordDecoder.decode(ByteBuffer.wrap(sent)));
        List<LogRecord> decoded = RecordDecoder.decodeWithKeys(ByteBuffer.wrap(sent), keys);
        assertEquals(300, decoded.size());
        assertArrayEquals(records.get(299).value(), decoded.get(299).value());
        assertTrue(new String(decoded.get(0).value(), StandardCharsets.UTF_8).contains("SHIPPED"));
    }
}
