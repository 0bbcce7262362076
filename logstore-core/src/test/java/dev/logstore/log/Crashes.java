package dev.logstore.log;

import dev.logstore.io.FileOpener;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Test support: files as a crash leaves them. */
public final class Crashes {

    private Crashes() {
    }

    /**
     * Rewrites the manifest of a cleanly closed partition as the writer left it before it closed:
     * not clean, the last segment active (size unknown), so the next open recovers it by a scan.
     * Also works on partitions of LogStore 0.1 (it removes their clean-shutdown marker).
     */
    public static void forgetCleanClose(Path partitionDir) throws IOException {
        java.nio.file.Files.deleteIfExists(partitionDir.resolve(LegacyLayout.CLEAN_MARKER));
        Manifests manifests = new Manifests(partitionDir, FileOpener.DEFAULT);
        int epoch = manifests.newestClaimed();
        Manifest manifest = epoch == 0 ? null : manifests.read(epoch);
        if (manifest == null) {
            return;
        }
        List<Manifest.Entry> entries = new ArrayList<>(manifest.segments());
        Manifest.Entry last = entries.remove(entries.size() - 1);
        entries.add(new Manifest.Entry(last.baseOffset(), last.epoch(), last.createdMillis(), -1, -1, Long.MIN_VALUE));
        manifests.prepare(new Manifest(manifest.epoch(), manifest.sequence() + 1, false, manifest.startOffset(), entries));
        manifests.commit(manifest.epoch());
    }

    /** The writer epoch of the newest manifest of a partition (0 when it has none). */
    public static int newestEpoch(Path partitionDir) throws IOException {
        return new Manifests(partitionDir, FileOpener.DEFAULT).newestClaimed();
    }
}
