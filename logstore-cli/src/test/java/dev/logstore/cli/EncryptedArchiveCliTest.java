package dev.logstore.cli;

import static dev.logstore.cli.CliRuns.run;
import static dev.logstore.cli.CliRuns.runWithStdout;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.logstore.Keys;
import dev.logstore.LogStore;
import dev.logstore.cli.CliRuns.Run;
import dev.logstore.record.Codec;
import dev.logstore.record.Record;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The CLI on a compressed, encrypted archive: keys made by keygen, stats without keys, reads and salvage with them. */
class EncryptedArchiveCliTest {

    @TempDir
    Path dir;

    @Test
    void keygenStatsDumpAndSalvageOfAnEncryptedArchive() throws Exception {
        Path keys = dir.resolve("keys");
        Run made = run("keygen", keys.toString(), "--id", "k1");
        assertEquals(0, made.code(), made.err());
        assertEquals(Set.of(PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE),
                Files.getPosixFilePermissions(keys), "the key file is readable by others");
        Run again = run("keygen", keys.toString(), "--id", "k1");
        assertEquals(2, again.code(), "an existing key was replaced");
        assertTrue(again.err().contains("never replaced"), again.err());
        assertEquals(0, run("keygen", keys.toString(), "--id", "k2").code());
        assertEquals(2, run("keygen", keys.toString(), "--id", "bad id").code());

        Path store = dir.resolve("orders");
        List<Record> records = new ArrayList<>();
        for (int i = 0; i < 500; i++) {
            records.add(Record.of(("k" + i).getBytes(StandardCharsets.UTF_8),
                    ("{\"order\":" + i + ",\"status\":\"CONFIDENTIAL\",\"note\":\"repeated text repeated text\"}")
                            .getBytes(StandardCharsets.UTF_8), 1_700_000_000_000L + i));
        }
        try (LogStore s = LogStore.builder(store).partitions(1).compression(Codec.ZSTD)
                .encryption(Keys.fromFile(keys), "k2").open()) {
            for (int i = 0; i < records.size(); i += 100) {
                s.append(0, records.subList(i, i + 100));
            }
        }

        Run stats = run("stats", store.toString());
        assertEquals(0, stats.code(), "stats needs no key: " + stats.err());
        String line = stats.out().lines().filter(l -> l.startsWith("orders")).findFirst().orElseThrow();
        String[] columns = line.trim().split("\\s+");
        long stored = Long.parseLong(columns[4]);
        long unpacked = Long.parseLong(columns[5]);
        assertTrue(unpacked > 3 * stored, "records of " + unpacked + " bytes stored in " + stored + ": " + line);
        assertTrue(columns[6].endsWith("x"), line);
        assertEquals("2023-11-14T22:13:20Z", columns[8], "the first record's time, from the headers: " + line);

        Run withoutKey = run("dump", store.toString(), "-n", "1");
        assertEquals(2, withoutKey.code());
        assertTrue(withoutKey.err().contains("'k2'") && withoutKey.err().contains("--key-file"), withoutKey.err());
        Run dump = run("dump", store.toString(), "--key-file", keys.toString(), "--from-offset", "499");
        assertEquals(0, dump.code(), dump.err());
        assertTrue(dump.out().contains("\"order\":499"), dump.out());
        Run cat = runWithStdout("cat", store.toString(), "--key-file", keys.toString(), "-n", "2");
        assertEquals(0, cat.code(), cat.err());
        assertEquals(2, cat.out().lines().count());

        Run verify = run("verify", store.toString());
        assertEquals(0, verify.code(), "verify needs no key: " + verify.out() + verify.err());

        Path copy = dir.resolve("copy");
        Run salvage = run("salvage", store.toString(), copy.toString(), "--key-file", keys.toString(),
                "--encrypt-with", "k1");
        assertEquals(0, salvage.code(), salvage.out() + salvage.err());
        Run copied = run("dump", copy.toString(), "--key-file", keys.toString(), "--from-offset", "499");
        assertTrue(copied.out().contains("\"order\":499"), copied.out() + copied.err());
        try (var files = Files.walk(copy)) {
            for (Path file : files.filter(Files::isRegularFile).toList()) {
                assertFalse(new String(Files.readAllBytes(file), StandardCharsets.ISO_8859_1).contains("CONFIDENTIAL"),
                        file + " of the salvaged copy holds records in the clear");
            }
        }
        Run noKeys = run("salvage", store.toString(), dir.resolve("copy2").toString());
        assertEquals(2, noKeys.code(), "salvage of an encrypted store without its keys: " + noKeys.out());
        assertTrue(noKeys.err().contains("'k2'"), noKeys.err());
    }
}
