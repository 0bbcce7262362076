package dev.logstore.connect.config;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Pattern;
import org.apache.kafka.connect.errors.ConnectException;

/**
 * Maps store names (topic names) to directories under the archive root, refusing any name that
 * could leave it: the root is the only place a connector ever writes.
 */
public final class ArchivePaths {

    /** Kafka's legal topic characters; "." and ".." are not topics. */
    private static final Pattern STORE_NAME = Pattern.compile("[a-zA-Z0-9._-]{1,249}");

    private ArchivePaths() {
    }

    /** Null when {@code name} is a safe store name, else why not. */
    public static String problemWithStoreName(String name) {
        if (name == null || !STORE_NAME.matcher(name).matches()) {
            return "store name '" + name + "' must be 1 to 249 of the characters a-z A-Z 0-9 . _ -";
        }
        if (name.equals(".") || name.equals("..")) {
            return "store name '" + name + "' would leave the archive root";
        }
        return null;
    }

    /**
     * The directory of store {@code name} under {@code root}, after checking that it stays inside
     * the root even when symbolic links are followed.
     */
    public static Path storeDirectory(Path root, String name) {
        String problem = problemWithStoreName(name);
        if (problem != null) {
            throw new ConnectException(problem);
        }
        Path dir = root.resolve(name).normalize();
        if (!dir.getParent().equals(root.normalize())) {
            throw new ConnectException("store '" + name + "' resolves outside the archive root " + root);
        }
        if (Files.isSymbolicLink(dir)) {
            try {
                Path target = dir.toRealPath();
                if (!target.startsWith(root.toRealPath())) {
                    throw new ConnectException("store directory " + dir + " is a symbolic link to " + target
                            + ", outside the archive root " + root + "; remove the link");
                }
            } catch (IOException e) {
                throw new ConnectException("cannot resolve store directory " + dir + ": " + e.getMessage(), e);
            }
        }
        return dir;
    }
}
