package io.livemig.cli;

import com.google.protobuf.util.JsonFormat;
import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.livemig.common.agent.EventLog;
import io.livemig.common.agent.HostPort;
import io.livemig.common.security.IdentityPattern;
import io.livemig.common.security.SpiffeId;
import io.livemig.common.security.TlsFailures;
import io.livemig.common.security.TlsOptions;
import io.livemig.common.security.TransportSecurity;
import io.livemig.common.tracing.Telemetry;
import io.livemig.common.tracing.TracingInterceptors;
import io.livemig.proto.DumpServiceGrpc;
import io.livemig.proto.MigrateOptions;
import io.livemig.proto.MigrateRequest;
import io.livemig.proto.MigrationProgress;
import io.livemig.proto.MigrationReport;
import io.livemig.proto.PreflightVerdict;
import io.livemig.proto.TrackerKind;
import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.context.Scope;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.util.Iterator;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code migrate --from HOST:PORT --to HOST:PORT --pid PID}: one migration, with a report. */
@Command(name = "migrate", mixinStandardHelpOptions = true,
    description = "Live-migrates a process tree from the dump agent on one host to the restore"
        + " agent on another. Exit code 0 only when the tree runs on the destination.")
public final class MigrateCommand implements Callable<Integer> {
  @Option(names = "--from", required = true, description = "Dump agent (source host), HOST:PORT.")
  String from;

  @Option(names = "--to", required = true,
      description = "Restore agent (destination host), HOST:PORT, as the dump agent reaches it.")
  String to;

  @Option(names = "--pid", required = true, description = "Root of the tree, a pid on the source.")
  int pid;

  @Option(names = "--min-rounds", description = "Pre-copy rounds before stopping is considered.")
  int minRounds;

  @Option(names = "--max-rounds", description = "Most pre-copy rounds.")
  int maxRounds;

  @Option(names = "--target-downtime-ms", description = "Stop pre-copy once the predicted"
      + " downtime is below this.")
  int targetDowntimeMs;

  @Option(names = "--max-precopy-bytes", description = "Page bytes pre-copy may send in all.")
  long maxBytes;

  @Option(names = "--tracker", description = "auto, soft-dirty or content-hash (default auto).")
  String tracker = "auto";

  @Option(names = "--id", description = "Migration id (default: generated).")
  String id = "";

  @Option(names = "--report-json", description = "Also write the final report as JSON here.")
  Path reportJson;

  @Option(names = "--max-frozen-ms", description = "Abort and resume the source if it stays"
      + " frozen longer than this (at most the dump agent's --frozen-deadline).")
  int maxFrozenMs;

  @Option(names = "--service-address", paramLabel = "IP", description = "Address clients reach"
      + " the tree at: it moves from the source host to the destination with the tree (both"
      + " agents' policies must allow it).")
  String serviceAddress = "";

  @Mixin
  CriuOptionFlags criu = new CriuOptionFlags();

  @Option(names = "--from-identity", description = "Identity the dump agent must present"
      + " (default: spiffe://<this client's trust domain>/livemig/dump-agent/<host of --from>).")
  String fromIdentity;

  @Option(names = "--dry-run", description = "Only check whether the migration would work,"
      + " freezing nothing: the tree, CRIU on both hosts, the destination. Exit code 0 only"
      + " when it would.")
  boolean dryRun;

  @Mixin
  TlsOptions tls = new TlsOptions();

  private final PrintStream out;
  private final OpenTelemetry otel;

  public MigrateCommand(PrintStream out, OpenTelemetry otel) {
    this.out = out;
    this.otel = otel;
  }

  public static void main(String[] args) {
    EventLog.oneLinePerRecord();
    MigrateCommand cmd = new MigrateCommand(System.out, Telemetry.fromEnvironment("migrate-cli"));
    System.exit(new CommandLine(cmd).execute(args));
  }

  @Override
  public Integer call() throws IOException {
    ManagedChannel channel;
    try {
      TransportSecurity security = tls.load();
      channel = NettyChannelBuilder.forTarget(from, security.channelTo(from,
              dumpAgentIdentity(security)))
          .intercept(TracingInterceptors.client(otel)).build();
    } catch (IllegalArgumentException | IOException | GeneralSecurityException e) {
      out.println("migrate: " + e.getMessage());
      return 2;
    }
    Span span = otel.getTracer(Telemetry.INSTRUMENTATION).spanBuilder("migrate")
        .setAttribute("pid", pid).setAttribute("from", from).setAttribute("to", to).startSpan();
    try (Scope ignored = span.makeCurrent()) {
      return dryRun ? preflight(channel) : migrate(channel);
    } catch (StatusRuntimeException e) {
      out.println("migrate: " + TlsFailures.describe(e.getStatus()));
      return 2;
    } catch (IllegalArgumentException e) {
      out.println("migrate: " + e.getMessage());
      return 2;
    } finally {
      span.end();
      channel.shutdownNow();
      if (otel instanceof OpenTelemetrySdk sdk) {
        sdk.getSdkTracerProvider().forceFlush().join(5, TimeUnit.SECONDS);
      }
    }
  }

  private int migrate(ManagedChannel channel) throws IOException {
    Iterator<MigrationProgress> events = DumpServiceGrpc.newBlockingStub(channel)
        .migrate(request());
    MigrationReport report = null;
    boolean frozen = false;
    while (events.hasNext()) {
      MigrationProgress p = events.next();
      switch (p.getEventCase()) {
        case ROUND -> out.println(ProgressFormat.round(p.getRound()));
        case PHASE -> {
          out.println(ProgressFormat.phase(p.getPhase()));
          frozen |= p.getPhase().getPhase().equals("freeze");
        }
        case REPORT -> report = p.getReport();
        default -> { }
      }
    }
    if (report == null) {
      out.println("migrate: the dump agent ended without a report");
      return 2;
    }
    out.print(ProgressFormat.report(report, frozen));
    if (reportJson != null) {
      Files.writeString(reportJson, JsonFormat.printer().print(report));
    }
    return report.getSuccess() ? 0 : 1;
  }

  private int preflight(ManagedChannel channel) {
    PreflightVerdict verdict = DumpServiceGrpc.newBlockingStub(channel).preflight(request());
    out.print(ProgressFormat.verdict(verdict));
    return verdict.getWouldWork() ? 0 : 1;
  }

  private IdentityPattern dumpAgentIdentity(TransportSecurity security) {
    if (fromIdentity != null) {
      return IdentityPattern.parse(fromIdentity);
    }
    String host = HostPort.parse(from).host();
    return security.self().map(me -> IdentityPattern.exactly(new SpiffeId(me.trustDomain(),
            SpiffeId.Role.DUMP_AGENT, host)))
        .orElse(IdentityPattern.none(SpiffeId.Role.DUMP_AGENT));
  }

  private MigrateRequest request() {
    TrackerKind kind = switch (tracker) {
      case "auto" -> TrackerKind.TRACKER_AUTO;
      case "soft-dirty" -> TrackerKind.TRACKER_SOFT_DIRTY;
      case "content-hash" -> TrackerKind.TRACKER_CONTENT_HASH;
      default -> throw new IllegalArgumentException("--tracker must be auto, soft-dirty or"
          + " content-hash, not " + tracker);
    };
    return MigrateRequest.newBuilder().setPid(pid).setDestination(to).setMigrationId(id)
        .setOptions(MigrateOptions.newBuilder().setMinRounds(minRounds).setMaxRounds(maxRounds)
            .setTargetDowntimeMs(targetDowntimeMs).setMaxTotalBytes(maxBytes).setTracker(kind)
            .setMaxFrozenMs(maxFrozenMs).setCriu(criu.toProto()))
        .setServiceAddress(serviceAddress)
        .build();
  }
}
