package io.livemig.cli;

import io.grpc.ManagedChannel;
import io.livemig.proto.DumpServiceGrpc;
import io.livemig.proto.ListMigrationsRequest;
import io.livemig.proto.MigrationStatus;
import picocli.CommandLine.Command;

/** {@code migrate list}: the dump agent's running and recent migrations. */
@Command(name = "list", mixinStandardHelpOptions = true,
    description = "Lists the dump agent's running migrations and its most recent finished ones.",
    footer = {"", "Example:", "  migrate list --from hostA:7701 --tls-ca ca.pem ... --output json",
        "", ExitCode.HELP})
final class ListCommand extends AgentSubcommand {
  @Override
  ExitCode run(ManagedChannel channel) {
    for (MigrationStatus s : DumpServiceGrpc.newBlockingStub(channel)
        .listMigrations(ListMigrationsRequest.getDefaultInstance()).getMigrationsList()) {
      output.status(out(), s);
    }
    return ExitCode.OK;
  }
}
