package dev.logstore.connect.config;

import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigException;

/**
 * Checks an archive root: an absolute path that is a writable directory, or that could be created
 * as one (its nearest existing ancestor is a writable directory). Creates nothing.
 */
public final class ArchiveDirectoryValidator implements ConfigDef.Validator {

    private final boolean mustExist;

    private ArchiveDirectoryValidator(boolean mustExist) {
        this.mustExist = mustExist;
    }

    /** For writers: the directory may be created later. */
    public static ArchiveDirectoryValidator writable() {
        return new ArchiveDirectoryValidator(false);
    }

    /** For readers: the directory must exist. */
    public static ArchiveDirectoryValidator existing() {
        return new ArchiveDirectoryValidator(true);
    }

    @Override
    public void ensureValid(String name, Object value) {
        if (value == null || value.toString().isBlank()) {
            throw new ConfigException(name, value, "the archive directory is required: give an absolute path such as "
                    + "/var/lib/logstore");
        }
        Path path;
        try {
            path = Path.of(value.toString());
        } catch (InvalidPathException e) {
            throw new ConfigException(name, value, "not a valid path: " + e.getMessage());
        }
        if (!path.isAbsolute()) {
            throw new ConfigException(name, value, "must be an absolute path, since workers may run in any working "
                    + "directory");
        }
        if (Files.exists(path)) {
            if (!Files.isDirectory(path)) {
                throw new ConfigException(name, value, "exists but is not a directory");
            }
            if (!mustExist && !Files.isWritable(path)) {
                throw new ConfigException(name, value, "is not writable by the Connect worker; fix its permissions");
            }
            return;
        }
        if (mustExist) {
            throw new ConfigException(name, value, "does not exist; point it at the directory the sink archives into");
        }
        Path ancestor = path.getParent();
        while (ancestor != null && !Files.exists(ancestor)) {
            ancestor = ancestor.getParent();
        }
        if (ancestor == null || !Files.isDirectory(ancestor) || !Files.isWritable(ancestor)) {
            throw new ConfigException(name, value, "does not exist and cannot be created: "
                    + (ancestor == null ? "no ancestor exists" : ancestor + " is not a writable directory"));
        }
    }

    @Override
    public String toString() {
        return mustExist ? "an existing absolute directory" : "an absolute path to a writable directory (created if missing)";
    }
}
