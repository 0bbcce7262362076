package dev.logstore.cli;

import java.io.PrintWriter;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code logstore} command. */
@Command(name = "logstore", mixinStandardHelpOptions = true, versionProvider = CliVersion.class,
        description = "Inspect, verify, dump, tail, write and salvage LogStore archives, and move consumer groups onto "
                + "restored topics.",
        subcommands = {StatsCommand.class, DumpCommand.class, VerifyCommand.class, TailCommand.class,
                AppendCommand.class, CatCommand.class, SalvageCommand.class, KeygenCommand.class, GroupsCommand.class, ReportCommand.class,
                CommandLine.HelpCommand.class})
public final class LogStoreCli {

    public static void main(String[] args) {
        // UTF-8 whatever the locale: under LANG=C Java 17 would print every non-ASCII character as '?'.
        System.exit(run(new PrintWriter(new java.io.OutputStreamWriter(System.out, java.nio.charset.StandardCharsets.UTF_8),
                true), new PrintWriter(new java.io.OutputStreamWriter(System.err, java.nio.charset.StandardCharsets.UTF_8),
                true), args));
    }

    /** Runs the command line and returns its exit code (0 ok, 1 findings, 2 usage or I/O errors). */
    public static int run(PrintWriter out, PrintWriter err, String... args) {
        CommandLine commandLine = new CommandLine(new LogStoreCli()).setOut(out).setErr(err)
                .setCaseInsensitiveEnumValuesAllowed(true);
        commandLine.setExecutionExceptionHandler((e, cmd, parsed) -> {
            cmd.getErr().println(cmd.getColorScheme().errorText("logstore: " + e.getMessage()));
            return 2;
        });
        // A wrong argument gets its message and where to look, not the whole usage text.
        commandLine.setParameterExceptionHandler((e, parsedArgs) -> {
            CommandLine cmd = e.getCommandLine();
            cmd.getErr().println(cmd.getColorScheme().errorText("logstore: " + e.getMessage()));
            cmd.getErr().println("Try '" + cmd.getCommandSpec().qualifiedName() + " --help' for usage.");
            return 2;
        });
        commandLine.setExitCodeExceptionMapper(e -> 2);
        int code = commandLine.execute(args);
        if (out.checkError() && code != 2) {
            // A command that printed little may learn of a failed write only at the final flush.
            err.println(commandLine.getColorScheme().errorText("logstore: "
                    + OutputFailedException.message(OutputFailedException.UNKNOWN_CAUSE)));
            return 2;
        }
        return code;
    }
}
