package dev.logstore.cli;

import dev.logstore.Keys;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(name = "keygen", mixinStandardHelpOptions = true, description = "Add a new random AES-256 key to a key file "
        + "(created readable by its owner only), for encrypted archives. Keep the file apart from the archive, and "
        + "keep every key an archive's batches name for as long as the archive.")
final class KeygenCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "KEY_FILE", description = "The key file to create or add to.")
    Path file;

    @Option(names = "--id", required = true, paramLabel = "KEY_ID", description = "The new key's id (1 to 64 letters, "
            + "digits, '.', '_', '-'), e.g. archive-2026.")
    String id;

    @Override
    public Integer call() throws IOException {
        try {
            Keys.checkId(id, "--id");
        } catch (dev.logstore.LogStoreException e) {
            throw new ParameterException(spec.commandLine(), e.getMessage());
        }
        String line = id + "=" + Keys.newKeyBase64() + "\n";
        if (Files.exists(file)) {
            // A file that is not a key file is refused (by fromFile) before it is changed.
            if (Keys.fromFile(file).key(id) != null) {
                throw new ParameterException(spec.commandLine(), file + " already holds a key '" + id + "'; keys are "
                        + "never replaced (batches encrypted with it would be lost): choose a new id");
            }
            Files.writeString(file, line, StandardCharsets.UTF_8, StandardOpenOption.APPEND);
        } else {
            try {
                Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
            } catch (UnsupportedOperationException e) {
                Files.createFile(file);
            } catch (FileAlreadyExistsException e) {
                throw new ParameterException(spec.commandLine(), file + " was created meanwhile; run keygen again");
            }
            Files.writeString(file, "# LogStore keys: <key id>=<AES-256 key in base64>. Keep this file secret.\n" + line,
                    StandardCharsets.UTF_8, StandardOpenOption.APPEND);
        }
        PrintWriter out = spec.commandLine().getOut();
        out.println("added key '" + id + "' to " + file);
        out.flush();
        return 0;
    }
}
