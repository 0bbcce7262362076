package dev.logstore.log;

import dev.logstore.io.Directories;
import dev.logstore.io.FileOpener;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;

/**
 * The manifest files of one partition directory, and the writer epochs they stand for.
 *
 * <p>Each writable open claims the next epoch by creating {@code manifest.<epoch>} exclusively
 * (an empty file: a claim), and from then on writes its manifests into that file only (temporary
 * file, force, rename over it, force the directory). A writer of an older epoch can therefore
 * never overwrite the newer writer's manifest, and it learns it was superseded by seeing a newer
 * claim, whether or not any OS lock told it. Readers use the newest complete manifest; older
 * ones are removed once a newer one is complete and durable.
 *
 * <p>Epochs are claimed one after another, so after one listing the newest is found by asking
 * whether the next one exists: no reader depends on a directory listing racing a writer.
 */
final class Manifests {

    static final String PREFIX = "manifest.";

    private final Path dir;
    private final FileOpener opener;

    Manifests(Path dir, FileOpener opener) {
        this.dir = dir;
        this.opener = opener;
    }

    static String fileName(int epoch) {
        return PREFIX + String.format("%010d", epoch);
    }

    Path file(int epoch) {
        return dir.resolve(fileName(epoch));
    }

    /** Epoch of a manifest file name, or -1 when the name is not one. */
    static int parseEpoch(String name) {
        if (!name.startsWith(PREFIX) || name.length() != PREFIX.length() + 10) {
            return -1;
        }
        try {
            int epoch = Integer.parseInt(name.substring(PREFIX.length()));
            return epoch > 0 ? epoch : -1;
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    /** Epochs of the manifest files a listing finds, ascending (empty when there are none). */
    int[] listEpochs() throws IOException {
        if (!Files.isDirectory(dir)) {
            return new int[0];
        }
        try (DirectoryStream<Path> files = Files.newDirectoryStream(dir, PREFIX + "*")) {
            int[] found = new int[0];
            for (Path file : files) {
                int epoch = parseEpoch(file.getFileName().toString());
                if (epoch >= 0) {
                    found = Arrays.copyOf(found, found.length + 1);
                    found[found.length - 1] = epoch;
                }
            }
            Arrays.sort(found);
            return found;
        }
    }

    /** True when a writer claimed {@code epoch}. One file status call. */
    boolean claimed(int epoch) {
        return Files.exists(file(epoch));
    }

    /**
     * The newest claimed epoch at or above {@code atLeast}, found by asking for the next epoch
     * until it does not exist. When the file of {@code atLeast} itself is gone, newer writers have
     * come and removed it, perhaps more than one: then a listing finds the newest.
     */
    int newestClaimed(int atLeast) throws IOException {
        if (atLeast > 0 && !claimed(atLeast)) {
            return newestClaimed();
        }
        int epoch = atLeast;
        while (epoch < Integer.MAX_VALUE && claimed(epoch + 1)) {
            epoch++;
        }
        return epoch;
    }

    /** The newest claimed epoch, starting from a listing; 0 when no epoch was ever claimed. */
    int newestClaimed() throws IOException {
        int[] listed = listEpochs();
        return newestClaimed(listed.length == 0 ? 0 : listed[listed.length - 1]);
    }

    /**
     * Claims {@code epoch}: creates its file exclusively. Visible to every other writer and reader
     * at once; durable with the directory force of the epoch's first manifest, which follows before
     * the writer acknowledges anything (a crash before that loses nothing it acknowledged).
     *
     * @throws java.nio.file.FileAlreadyExistsException when another writer claimed it first
     */
    void claim(int epoch) throws IOException {
        try (FileChannel ignored = opener.open(file(epoch), StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            // an empty file is a claim
        }
    }

    /**
     * The manifest written by {@code epoch}, or null when it holds only a claim (or is gone).
     *
     * @throws dev.logstore.CorruptLogException when the file is damaged
     */
    Manifest read(int epoch) throws IOException {
        Path file = file(epoch);
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            return null;
        }
        if (bytes.length == 0) {
            return null;
        }
        return Manifest.decode(ByteBuffer.wrap(bytes), file);
    }

    /**
     * The newest complete manifest at or below {@code epoch}, or null when there is none: the
     * manifest of {@code epoch} itself, or else the newest one a listing finds (claims of writers
     * that never completed their open lie between).
     */
    Manifest newestComplete(int epoch) throws IOException {
        Manifest manifest = read(epoch);
        if (manifest != null) {
            return manifest;
        }
        int[] listed = listEpochs();
        for (int i = listed.length - 1; i >= 0; i--) {
            if (listed[i] < epoch) {
                manifest = read(listed[i]);
                if (manifest != null) {
                    return manifest;
                }
            }
        }
        return null;
    }

    /**
     * Writes {@code manifest} to the temporary file of its epoch and forces it. Nothing is visible
     * until {@link #commit}; on failure the temporary file is removed.
     */
    void prepare(Manifest manifest) throws IOException {
        Path tmp = tmpFile(manifest.epoch());
        try (FileChannel channel = opener.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            ByteBuffer bytes = manifest.encode();
            while (bytes.hasRemaining()) {
                channel.write(bytes);
            }
            channel.force(true);
        } catch (IOException | RuntimeException e) {
            Files.deleteIfExists(tmp);
            throw e;
        }
    }

    /**
     * Renames the prepared manifest of {@code epoch} into place: from here on it is the manifest
     * readers see. The caller then forces the directory ({@link #sync}) to make it durable.
     */
    void commit(int epoch) throws IOException {
        Files.move(tmpFile(epoch), file(epoch), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    /** Forces the directory: renames, new and removed files in it become durable. */
    void sync() throws IOException {
        Directories.fsync(opener, dir);
    }

    /** Removes the manifests and claims of epochs below {@code epoch}; a writer calls it once its own is durable. */
    void removeOlderThan(int epoch) throws IOException {
        for (int e : listEpochs()) {
            if (e < epoch) {
                Files.deleteIfExists(file(e));
            }
        }
    }

    /**
     * The sequence number of the manifest of {@code epoch}, read from its first bytes only: a
     * cheap way to tell whether it was replaced since the last look. -1 when it holds only a
     * claim, is gone, or does not start like a manifest of that epoch. (A file status cannot
     * tell: inode numbers are reused and modification times are coarse.)
     */
    long sequence(int epoch) throws IOException {
        ByteBuffer head = ByteBuffer.allocate(Manifest.IDENTITY);
        try (FileChannel channel = opener.open(file(epoch), StandardOpenOption.READ)) {
            while (head.hasRemaining() && channel.read(head) >= 0) {
                // read the identity
            }
        } catch (NoSuchFileException e) {
            return -1;
        }
        long[] identity = Manifest.identity(head.flip());
        return identity == null || identity[0] != epoch ? -1 : identity[1];
    }

    private Path tmpFile(int epoch) {
        return dir.resolve(fileName(epoch) + ".tmp");
    }
}
