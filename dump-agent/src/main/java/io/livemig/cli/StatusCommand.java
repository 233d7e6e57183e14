package io.livemig.cli;

import io.grpc.ManagedChannel;
import io.livemig.proto.DumpServiceGrpc;
import io.livemig.proto.GetMigrationRequest;
import io.livemig.proto.MigrationStatus;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** {@code migrate status ID}: one migration's state, phase and, once it ended, its report. */
@Command(name = "status", mixinStandardHelpOptions = true,
    description = "Shows a migration's state and phase, and its report once it ended.",
    footer = {"", "Example:", "  migrate status m-1234 --from hostA:7701 --tls-ca ca.pem ...",
        "", ExitCode.HELP})
final class StatusCommand extends AgentSubcommand {
  @Parameters(paramLabel = "ID", description = "The migration id.")
  String id;

  @Override
  ExitCode run(ManagedChannel channel) {
    MigrationStatus s = DumpServiceGrpc.newBlockingStub(channel)
        .getMigration(GetMigrationRequest.newBuilder().setMigrationId(id).build());
    output.status(out(), s);
    if (s.hasReport() && !output.json()) {
      out().print(ProgressFormat.report(s.getReport(), s.getReport().getDowntimeUs() > 0));
    }
    return ExitCode.OK;
  }
}
