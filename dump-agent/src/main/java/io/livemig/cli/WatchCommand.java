package io.livemig.cli;

import io.grpc.ManagedChannel;
import java.io.IOException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code migrate watch ID}: follows a running migration (or replays a finished one). */
@Command(name = "watch", mixinStandardHelpOptions = true,
    description = "Follows a migration's progress to its report; the exit code is the"
        + " migration's, as for migrate itself.",
    footer = {"", "Example:", "  migrate watch m-1234 --from hostA:7701 --tls-ca ca.pem ...",
        "", ExitCode.HELP})
final class WatchCommand extends AgentSubcommand {
  @Parameters(paramLabel = "ID", description = "The migration id.")
  String id;

  @Option(names = "--after", paramLabel = "SEQUENCE", description = "Only events after this"
      + " one (each JSON event carries its sequence); default: all.")
  long after;

  @Override
  ExitCode run(ManagedChannel channel) throws IOException {
    return MigrateCommand.finish(out(), output,
        Watcher.follow(channel, id, after, agent.reattachFor, out(), output), null);
  }
}
