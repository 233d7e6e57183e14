package io.livemig.loadtest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.TlsChannelCredentials;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.util.AdvancedTlsX509TrustManager;
import io.livemig.common.security.IdentityPattern;
import io.livemig.common.security.TlsOptions;
import io.livemig.common.security.TransportSecurity;
import io.livemig.proto.DescribeCriuRequest;
import io.livemig.proto.DumpServiceGrpc;
import io.livemig.proto.MigrateRequest;
import io.livemig.proto.RestoreServiceGrpc;
import io.opentelemetry.api.OpenTelemetry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Who may do what, proven with real agents as separate processes and real mutual TLS: every
 * refused request leaves the processes it named exactly as they were. The dump agent's policy
 * lets only client/ops migrate, and only trees of uid 0; the restore agent runs with its default
 * policy, which refuses to restore anything as root.
 */
class AgentSecurityIT {
  @TempDir
  static Path dir;
  static LocalCluster cluster;

  @BeforeAll
  static void start() throws Exception {
    Path dumpPolicy = Files.writeString(dir.resolve("dump-policy.json"), """
        {"clients": [{"identity": "spiffe://livemig.test/livemig/client/ops",
                      "allow": ["MIGRATE"]}],
         "scope": {"uids": [0]}}
        """);
    cluster = LocalCluster.builder(dir).restorePolicy(null)
        .dumpArgs("--policy", dumpPolicy.toString()).start();
  }

  @AfterAll
  static void stop() throws Exception {
    cluster.close();
  }

  static LocalCluster.CliRun migrateAs(List<String> tlsFlags, int pid, String to)
      throws Exception {
    return LocalCluster.runCli(OpenTelemetry.noop(), cluster.dumpAgent().address(), to, dir, pid,
        tlsFlags.toArray(String[]::new));
  }

  static LocalCluster.CliRun migrateAs(String client, int pid) throws Exception {
    return migrateAs(cluster.pki().flags("client", client), pid,
        cluster.restoreAgent().address());
  }

  static Bystander workloadLikeTree() throws Exception {
    return Bystander.inPidNamespace(List.of("sleep", "1000"));
  }

  @Test
  void clientWithoutACertificateIsUnauthenticatedAndNothingIsTouched() throws Exception {
    try (Bystander tree = workloadLikeTree()) {
      AdvancedTlsX509TrustManager trust = AdvancedTlsX509TrustManager.newBuilder()
          .setVerification(AdvancedTlsX509TrustManager.Verification.CERTIFICATE_ONLY_VERIFICATION)
          .build();
      trust.updateTrustCredentials(cluster.pki().ca().toFile());
      ManagedChannel ch = NettyChannelBuilder.forTarget(cluster.dumpAgent().address(),
          TlsChannelCredentials.newBuilder().trustManager(trust).build()).build();
      try {
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () ->
            DumpServiceGrpc.newBlockingStub(ch).migrate(MigrateRequest.newBuilder()
                .setPid(tree.pid()).setDestination(cluster.restoreAgent().address()).build())
                .hasNext());
        assertEquals(Status.Code.UNAUTHENTICATED, e.getStatus().getCode(), e.toString());
        assertTrue(e.getStatus().getDescription().contains("no client certificate"),
            e.getStatus().getDescription());
      } finally {
        ch.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      }
      tree.assertUntouched();
    }
  }

  @Test
  void clientWithACertificateOfAnotherCaIsRefused() throws Exception {
    Pki other = Pki.in(dir.resolve("other-ca"));
    try (Bystander tree = workloadLikeTree()) {
      LocalCluster.CliRun run = migrateAs(other.flags("client", "ops"), tree.pid(),
          cluster.restoreAgent().address());
      assertEquals(2, run.exitCode(), run.output());
      assertTrue(run.output().contains("migrate: UNAVAILABLE"), run.output());
      tree.assertUntouched();
    }
  }

  @Test
  void clientOfTheRightCaWithoutAGrantIsDenied() throws Exception {
    try (Bystander tree = workloadLikeTree()) {
      LocalCluster.CliRun run = migrateAs("mallory", tree.pid());
      assertEquals(2, run.exitCode(), run.output());
      assertTrue(run.output().contains("PERMISSION_DENIED"), run.output());
      assertTrue(run.output().contains("client/mallory may not manage migrations"), run.output());
      tree.assertUntouched();
      assertTrue(Files.readString(dir.resolve("dump-agent.log")).contains("refused"),
          "refusals are logged with the peer");
    }
  }

  @Test
  void dumpAgentRefusesADestinationPresentingAnotherIdentity() throws Exception {
    List<String> args = new ArrayList<>(List.of("--images-dir", dir.resolve("impostor")
        .toString(), "--state-dir", dir.resolve("impostor-state").toString()));
    args.addAll(cluster.pki().flags("restore-agent", "impostor"));
    try (AgentProcess impostor = AgentProcess.start("impostor",
            Repo.root().resolve("restore-agent/target/restore-agent.jar"),
            dir.resolve("impostor.log"), args, Map.of());
        Workload workload = Workload.memload(Repo.memload(), dir.resolve("w-dest"), 16, 2,
            "uniform")) {
      LocalCluster.CliRun run = migrateAs(cluster.pki().flags("client", "ops"), workload.pid(),
          impostor.address());
      assertNotEquals(0, run.exitCode(), run.output());
      assertTrue(run.output().contains("presented identity spiffe://livemig.test/livemig/"
          + "restore-agent/impostor but spiffe://livemig.test/livemig/restore-agent/127.0.0.1"
          + " was expected"), run.output());
      assertTrue(run.output().contains("the source was not touched"), run.output());
      SourceResumedOnFailureIT.assertSourceRunsIntact(workload);
      assertTrue(isEmpty(dir.resolve("impostor")), "the impostor received nothing");
    }
  }

  @Test
  void treesOutsideTheScopeAreRefusedUntouched() throws Exception {
    try (Bystander plain = Bystander.start(List.of("sleep", "1000"));
        Bystander nobody = Bystander.inPidNamespace(List.of("setpriv", "--reuid=65534",
            "--regid=65534", "--clear-groups", "sleep", "1000"))) {
      String init = Workload.state(1);
      assertRefused(1, "PERMISSION_DENIED", "host's init");
      assertRefused(2, "PERMISSION_DENIED", "kernel thread");
      assertRefused((int) cluster.dumpAgent().pid(), "PERMISSION_DENIED", "agent");
      assertRefused(plain.pid(), "FAILED_PRECONDITION", "unshare --pid --fork setsid");
      assertRefused(nobody.pid(), "PERMISSION_DENIED", "uid");
      assertEquals(init, Workload.state(1));
      assertTrue(cluster.dumpAgent().alive());
      plain.assertUntouched();
      nobody.assertUntouched();
    }
  }

  private static void assertRefused(int pid, String code, String reason) throws Exception {
    LocalCluster.CliRun run = migrateAs("ops", pid);
    assertEquals(2, run.exitCode(), run.output());
    assertTrue(run.output().contains(code), run.output());
    assertTrue(run.output().contains(reason), run.output());
    assertTrue(run.output().contains("nothing was done to it"), run.output());
  }

  /** The images themselves are checked too: RestoreAgentRejectsBadInputIT sends forged ones. */
  @Test
  void restoreAgentRefusesARootTreeAgainstItsPolicyBeforeAnyPageIsSent() throws Exception {
    try (Workload workload = Workload.memload(Repo.memload(), dir.resolve("w-root"), 16, 2,
        "uniform")) {
      LocalCluster.CliRun run = migrateAs("ops", workload.pid());
      System.out.print(run.output());
      assertEquals(1, run.exitCode(), run.output());
      assertTrue(run.output().contains("PERMISSION_DENIED"), run.output());
      assertTrue(run.output().contains("runs with uid 0, which this restore agent's policy does"
          + " not allow"), run.output());
      assertTrue(run.output().contains("refused before any page was sent"), run.output());
      assertEquals(0, run.report().getPrecopyPageBytes());
      assertTrue(run.report().getSourceResumed());
      SourceResumedOnFailureIT.assertSourceRunsIntact(workload);
      assertTrue(isEmpty(dir.resolve("restore-images")), "no images left behind");
    }
  }

  @Test
  void anUnprivilegedUserCannotMakeTheAgentMigrateARootProcess() throws Exception {
    try (Bystander victim = Bystander.start(List.of("env", "SECRET=hunter2", "sleep", "1000"))) {
      for (List<String> flags : List.of(cluster.pki().flags("client", "ops"),
          List.of("--insecure-plaintext"))) {
        List<String> cmd = new ArrayList<>(List.of("setpriv", "--reuid=65534", "--regid=65534",
            "--clear-groups", AgentProcess.javaBin(), "-cp",
            Repo.root().resolve("dump-agent/target/dump-agent.jar").toString(),
            "io.livemig.cli.MigrateCommand", "--from", cluster.dumpAgent().address(), "--to",
            cluster.restoreAgent().address(), "--pid", String.valueOf(victim.pid())));
        cmd.addAll(flags);
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        assertEquals(2, p.exitValue(), out);
        assertTrue(out.contains("cannot read") || out.contains("UNAVAILABLE"), out);
      }
      victim.assertUntouched();
      assertTrue(isEmpty(dir.resolve("restore-images")), "nothing reached the destination");
    }
  }

  static boolean isEmpty(Path d) throws Exception {
    if (!Files.exists(d)) {
      return true;
    }
    try (Stream<Path> s = Files.list(d)) {
      return s.allMatch(p -> p.getFileName().toString().endsWith(".log")
          || p.getFileName().toString().endsWith(".log.out"));
    }
  }

  @Test
  void clientWithoutTheMigrateGrantMayNotRunAPreflight() throws Exception {
    try (Bystander tree = workloadLikeTree()) {
      List<String> flags = cluster.pki().flags("client", "mallory");
      flags.add("--dry-run");
      LocalCluster.CliRun run = migrateAs(flags, tree.pid(), cluster.restoreAgent().address());
      assertEquals(2, run.exitCode(), run.output());
      assertTrue(run.output().contains("PERMISSION_DENIED"), run.output());
      assertTrue(run.output().contains("client/mallory may not manage migrations"), run.output());
      tree.assertUntouched();
    }
  }

  @Test
  void restoreAgentDescribesItsCriuOnlyToDumpAgentsItAccepts() throws Exception {
    String restore = cluster.restoreAgent().address();
    for (String role : List.of("dump-agent", "client")) {
      cluster.pki().issue(role, "127.0.0.1");
      TransportSecurity as = new TlsOptions(cluster.pki().ca(), cluster.pki().cert(role,
          "127.0.0.1"), cluster.pki().key(role, "127.0.0.1")).load();
      ManagedChannel ch = NettyChannelBuilder.forTarget(restore, as.channelTo(restore,
          IdentityPattern.parse(cluster.pki().identity("restore-agent", "127.0.0.1")))).build();
      try {
        RestoreServiceGrpc.RestoreServiceBlockingStub stub = RestoreServiceGrpc
            .newBlockingStub(ch).withDeadlineAfter(60, TimeUnit.SECONDS);
        if (role.equals("dump-agent")) {
          assertTrue(stub.describeCriu(DescribeCriuRequest.getDefaultInstance())
              .getCheckPassed());
        } else {
          StatusRuntimeException e = assertThrows(StatusRuntimeException.class,
              () -> stub.describeCriu(DescribeCriuRequest.getDefaultInstance()));
          assertEquals(Status.Code.PERMISSION_DENIED, e.getStatus().getCode(), e.toString());
          assertTrue(e.getStatus().getDescription().contains("is not a dump agent this restore"
              + " agent accepts"), e.getStatus().getDescription());
        }
      } finally {
        ch.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      }
    }
  }
}
