package dev.logstore;

import javax.crypto.SecretKey;

/**
 * Where the keys of an encrypted store come from: each batch names the id of the key it was
 * encrypted with, so keys can rotate (new batches take the new key, older ones stay readable as
 * long as their key is given). {@link Keys} reads them from a key file or a Java keystore; an
 * implementation of one's own can reach a key management service.
 */
@FunctionalInterface
public interface KeyProvider {

    /**
     * The AES-256 key with id {@code keyId}, or null when this provider has none by that id.
     *
     * @throws LogStoreException when the keys cannot be read at all
     */
    SecretKey key(String keyId);
}
