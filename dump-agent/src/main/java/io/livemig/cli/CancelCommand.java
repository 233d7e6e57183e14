package io.livemig.cli;

import io.grpc.ManagedChannel;
import io.livemig.proto.CancelMigrationRequest;
import io.livemig.proto.DumpServiceGrpc;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code migrate cancel ID}: aborts a migration before its commit point. */
@Command(name = "cancel", mixinStandardHelpOptions = true,
    description = "Cancels a migration before its commit point: the copy is removed and the"
        + " source resumed. Past the commit point the source is gone and it is refused.",
    footer = {"", "Example:", "  migrate cancel m-1234 --from hostA:7701 --tls-ca ca.pem ..."
        + " --reason 'host stays'", "", ExitCode.HELP})
final class CancelCommand extends AgentSubcommand {
  @Parameters(paramLabel = "ID", description = "The migration id.")
  String id;

  @Option(names = "--reason", description = "Why, for the agents' logs and the report.")
  String reason = "";

  @Override
  ExitCode run(ManagedChannel channel) {
    output.status(out(), DumpServiceGrpc.newBlockingStub(channel)
        .cancelMigration(CancelMigrationRequest.newBuilder().setMigrationId(id)
            .setReason(reason).build()));
    output.note(out(), "cancel requested: follow it with migrate watch " + id);
    return ExitCode.OK;
  }
}
