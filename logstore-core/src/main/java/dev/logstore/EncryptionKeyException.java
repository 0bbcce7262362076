package dev.logstore;

/**
 * An encrypted batch could not be decrypted: its key was not given, or the key given under its id
 * is not the one it was encrypted with. The bytes on disk are sound (their checksum holds); only
 * the key is missing or wrong, so nothing is ever treated as damage because of it.
 */
public class EncryptionKeyException extends LogStoreException {

    private static final long serialVersionUID = 1L;

    private final String keyId;

    public EncryptionKeyException(String keyId, String message, Throwable cause) {
        super(message, cause);
        this.keyId = keyId;
    }

    /** The id of the key the batch names. */
    public String keyId() {
        return keyId;
    }
}
