package dev.logstore;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.Key;
import java.security.KeyStore;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collections;
import java.util.Enumeration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import javax.crypto.SecretKey;
import javax.crypto.spec.SecretKeySpec;

/**
 * The {@link KeyProvider}s LogStore ships: keys from a key file or from a Java keystore, read
 * once when made, and checked to be AES-256 keys with valid ids.
 *
 * <p>A key file holds one key per line, {@code <key id>=<the key's 32 bytes in base64>}; blank
 * lines and lines starting with {@code #} are skipped. Make one with {@code logstore keygen}, or
 * {@code printf 'k1=%s\n' "$(head -c 32 /dev/urandom | base64)" > keys; chmod 600 keys}. A key id
 * is 1 to 64 characters of letters, digits, {@code .}, {@code _} and {@code -}.
 */
public final class Keys {

    /** Bytes of an AES-256 key. */
    public static final int KEY_BYTES = 32;
    private static final Pattern KEY_ID = Pattern.compile("[A-Za-z0-9._-]{1,64}");

    private Keys() {
    }

    /** The keys of a map (for tests and for callers that hold keys already). */
    public static KeyProvider of(Map<String, SecretKey> keys) {
        Map<String, SecretKey> copy = new LinkedHashMap<>();
        keys.forEach((id, key) -> copy.put(checkId(id, "a key"), checkKey(id, key, "the map given")));
        Map<String, SecretKey> fixed = Collections.unmodifiableMap(copy);
        return fixed::get;
    }

    /** A provider of one key. */
    public static KeyProvider of(String keyId, byte[] key) {
        return of(Map.of(keyId, new SecretKeySpec(key, "AES")));
    }

    /**
     * The keys of a key file (see the class comment).
     *
     * @throws LogStoreException naming the file and line when it cannot be read or a line is not a key
     */
    public static KeyProvider fromFile(Path file) {
        List<String> lines;
        try {
            lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new LogStoreException("Cannot read the key file " + file + ": " + e.getMessage()
                    + ". Give the path of a file of lines <key id>=<base64 of 32 bytes>", e);
        }
        Map<String, SecretKey> keys = new LinkedHashMap<>();
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i).strip();
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            String where = file + " line " + (i + 1);
            int eq = line.indexOf('=');
            if (eq < 0) {
                throw new LogStoreException("The key file " + where + " is not <key id>=<base64 of 32 bytes>");
            }
            String id = checkId(line.substring(0, eq).strip(), where);
            byte[] bytes;
            try {
                bytes = Base64.getDecoder().decode(line.substring(eq + 1).strip());
            } catch (IllegalArgumentException e) {
                throw new LogStoreException("The key '" + id + "' in " + where + " is not valid base64: "
                        + e.getMessage());
            }
            if (keys.put(id, checkKey(id, new SecretKeySpec(bytes, "AES"), where)) != null) {
                throw new LogStoreException("The key id '" + id + "' appears twice in the key file " + file
                        + ": every key needs an id of its own");
            }
        }
        if (keys.isEmpty()) {
            throw new LogStoreException("The key file " + file + " holds no key: add a line <key id>=<base64 of 32 "
                    + "bytes> (logstore keygen makes one)");
        }
        return of(keys);
    }

    /**
     * The secret keys of a Java keystore, by alias (looked up without regard to case, since these
     * keystores keep aliases in lower case): a PKCS12 keystore unless {@code type} names another
     * ({@code JCEKS}). Each key's password is the keystore's.
     *
     * @throws LogStoreException when the keystore cannot be opened, or an entry is not an AES-256 key
     */
    public static KeyProvider fromKeyStore(Path path, char[] password, String type) {
        String storeType = type == null || type.isBlank() ? "PKCS12" : type.strip();
        Map<String, SecretKey> keys = new LinkedHashMap<>();
        try (InputStream in = Files.newInputStream(path)) {
            KeyStore store = KeyStore.getInstance(storeType);
            store.load(in, password);
            List<String> aliases = new ArrayList<>();
            for (Enumeration<String> e = store.aliases(); e.hasMoreElements(); ) {
                aliases.add(e.nextElement());
            }
            for (String alias : aliases) {
                if (!store.isKeyEntry(alias)) {
                    continue;
                }
                Key key = store.getKey(alias, password);
                if (key instanceof SecretKey secret) {
                    keys.put(checkId(alias, "the keystore " + path), checkKey(alias, secret, "the keystore " + path));
                }
            }
        } catch (IOException | GeneralSecurityException e) {
            throw new LogStoreException("Cannot read the " + storeType + " keystore " + path + ": " + e.getMessage()
                    + ". Check its path, type and password", e);
        }
        if (keys.isEmpty()) {
            throw new LogStoreException("The keystore " + path + " holds no secret key: add an AES-256 key (keytool "
                    + "-genseckey -keyalg AES -keysize 256 -alias <key id> -storetype " + storeType + " -keystore "
                    + path + ")");
        }
        // PKCS12 and JCEKS keystores give their aliases in lower case, whatever case they were made
        // with: a key id is looked up there without regard to case.
        Map<String, SecretKey> byLowerCase = new LinkedHashMap<>();
        keys.forEach((alias, key) -> byLowerCase.put(alias.toLowerCase(java.util.Locale.ROOT), key));
        return keyId -> keyId == null ? null : byLowerCase.get(keyId.toLowerCase(java.util.Locale.ROOT));
    }

    /** A new random AES-256 key, base64 encoded, for a key file. */
    public static String newKeyBase64() {
        byte[] key = new byte[KEY_BYTES];
        new java.security.SecureRandom().nextBytes(key);
        return Base64.getEncoder().encodeToString(key);
    }

    /** {@code id} when it is a valid key id; else an error naming {@code where}. */
    public static String checkId(String id, String where) {
        if (id == null || !KEY_ID.matcher(id).matches()) {
            throw new LogStoreException("Key id '" + id + "' in " + where + " is not 1 to 64 letters, digits, '.', '_' "
                    + "or '-'");
        }
        return id;
    }

    private static SecretKey checkKey(String id, SecretKey key, String where) {
        byte[] encoded = key == null ? null : key.getEncoded();
        if (encoded == null || encoded.length != KEY_BYTES || !"AES".equalsIgnoreCase(key.getAlgorithm())) {
            throw new LogStoreException("The key '" + id + "' in " + where + " is not an AES-256 key ("
                    + (encoded == null ? "no bytes" : encoded.length + " bytes") + "; 32 are needed)");
        }
        return key;
    }
}
