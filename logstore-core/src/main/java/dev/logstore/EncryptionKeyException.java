package dev.logstore;

/**
 * An encrypted batch could not be decrypted: its key was not given, or the key given under its id
 * is not the one it was encrypted with. The bytes on disk are sound (their checksum holds); only
 * the key is missing or wrong, so nothing is ever treated as damage because of it.
 */
public class EncryptionKeyException extends LogStoreException {

    private static final long serialVersionUID = 1L;

    private final String keyId;
    private final boolean missing;

    public EncryptionKeyException(String keyId, boolean missing, String message, Throwable cause) {
        super(message, cause);
        this.keyId = keyId;
        this.missing = missing;
    }

    /**
     * True when no key of that id was given; false when the one given does not decrypt the batch
     * (another key under that id, or a batch altered with its checksum recomputed).
     */
    public boolean missing() {
        return missing;
    }

    /** The id of the key the batch names. */
    public String keyId() {
        return keyId;
    }
}
