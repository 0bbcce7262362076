package dev.logstore.cli;

import picocli.CommandLine;

/** The version printed by {@code logstore --version}, from the jar's manifest. */
final class CliVersion implements CommandLine.IVersionProvider {

    @Override
    public String[] getVersion() {
        String version = LogStoreCli.class.getPackage().getImplementationVersion();
        return new String[] {"logstore " + (version == null ? "(development build)" : version)};
    }
}
