package io.livemig.cli;

import io.grpc.ManagedChannel;
import java.io.IOException;
import java.io.PrintStream;
import java.util.concurrent.Callable;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.ParentCommand;

/** A subcommand of migrate that makes one call to the dump agent: status, list, watch, cancel. */
abstract class AgentSubcommand implements Callable<Integer> {
  @ParentCommand
  MigrateCommand parent;

  @Mixin
  AgentConnection agent = new AgentConnection();

  @Mixin
  Output output = new Output();

  abstract ExitCode run(ManagedChannel channel) throws IOException;

  PrintStream out() {
    return parent.out();
  }

  @Override
  public Integer call() {
    return parent.withAgent(agent, this::run);
  }
}
