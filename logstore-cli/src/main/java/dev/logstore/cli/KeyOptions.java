package dev.logstore.cli;

import dev.logstore.KeyProvider;
import dev.logstore.Keys;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/**
 * The keys that decrypt an encrypted store: a key file or a Java keystore. A keystore's password
 * comes from the environment, never from the command line (where other users' {@code ps} sees it).
 */
final class KeyOptions {

    /** The environment variable holding a keystore's password. */
    static final String PASSWORD_VARIABLE = "LOGSTORE_KEYSTORE_PASSWORD";

    @Option(names = "--key-file", paramLabel = "FILE", description = "Decrypt with the keys of this key file "
            + "(lines <key id>=<base64 of 32 bytes>; `logstore keygen` makes one).")
    Path keyFile;

    @Option(names = "--keystore", paramLabel = "FILE", description = "Decrypt with the AES keys of this Java keystore "
            + "(alias = key id); its password is read from $" + PASSWORD_VARIABLE + ".")
    Path keyStore;

    @Option(names = "--keystore-type", paramLabel = "TYPE", description = "PKCS12 (default) or JCEKS.")
    String keyStoreType;

    /** The keys given, or null when none were. */
    KeyProvider provider() {
        if (keyFile != null && keyStore != null) {
            throw new dev.logstore.LogStoreException("give --key-file or --keystore, not both");
        }
        if (keyFile != null) {
            return Keys.fromFile(keyFile);
        }
        if (keyStore != null) {
            String password = System.getenv(PASSWORD_VARIABLE);
            return Keys.fromKeyStore(keyStore, password == null ? null : password.toCharArray(), keyStoreType);
        }
        return null;
    }
}
