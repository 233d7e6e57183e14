package io.livemig.loadtest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.StreamObserver;
import io.livemig.common.security.IdentityPattern;
import io.livemig.common.security.TlsOptions;
import io.livemig.common.security.TransportSecurity;
import io.livemig.proto.MigrationFrame;
import io.livemig.proto.MigrationHeader;
import io.livemig.proto.PageChunk;
import io.livemig.proto.PageKind;
import io.livemig.proto.RestoreEvent;
import io.livemig.proto.RestoreServiceGrpc;
import io.livemig.proto.Task;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The restore agent's bounds, against real agent processes over TLS: no stream, hostile or
 * broken, gets more than its share, and none hurts another migration.
 */
class RestoreAgentLimitsIT {
  static final String QUOTA = String.valueOf(100L << 20);

  @TempDir
  static Path dir;
  static LocalCluster cluster;
  static final List<ManagedChannel> channels = new ArrayList<>();
  static int ids;

  @BeforeAll
  static void start() throws Exception {
    cluster = LocalCluster.builder(dir.resolve("bounded")).restoreArgs("--max-streams", "3",
        "--max-streams-per-peer", "2", "--max-pagemap-entries", "20000",
        "--max-migration-bytes", QUOTA).start();
  }

  @AfterAll
  static void stop() throws Exception {
    for (ManagedChannel c : channels) {
      c.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
    cluster.close();
  }

  /** A stream opened by hand, as a dump agent named name. */
  static final class RawStream implements StreamObserver<RestoreEvent> {
    final CompletableFuture<RestoreEvent> accepted = new CompletableFuture<>();
    final CompletableFuture<Throwable> error = new CompletableFuture<>();
    final ClientCallStreamObserver<MigrationFrame> out;

    RawStream(LocalCluster c, String name) throws Exception {
      Pki pki = c.pki().issue("dump-agent", name);
      TransportSecurity tls = new TlsOptions(pki.ca(), pki.cert("dump-agent", name),
          pki.key("dump-agent", name)).load();
      String target = c.restoreAgent().address();
      ManagedChannel ch = NettyChannelBuilder.forTarget(target, tls.channelTo(target,
          IdentityPattern.parse(pki.identity("restore-agent", LocalCluster.HOST)))).build();
      channels.add(ch);
      out = (ClientCallStreamObserver<MigrationFrame>) RestoreServiceGrpc.newStub(ch)
          .migrate(this);
    }

    RawStream header(long rss) {
      out.onNext(MigrationFrame.newBuilder().setHeader(MigrationHeader.newBuilder()
          .setMigrationId("raw-" + (++ids)).setPageSize(4096).setRssBytes(rss)
          .addTasks(Task.newBuilder().setPid(100).setVpid(1))).build());
      return this;
    }

    @Override
    public void onNext(RestoreEvent e) {
      if (e.hasAccepted()) {
        accepted.complete(e);
      }
    }

    @Override
    public void onError(Throwable t) {
      accepted.completeExceptionally(t);
      error.complete(t);
    }

    @Override
    public void onCompleted() {
      error.complete(null);
    }

    Status awaitError(Duration timeout) throws Exception {
      return Status.fromThrowable(error.get(timeout.toSeconds(), TimeUnit.SECONDS));
    }

    boolean isAccepted(Duration timeout) throws Exception {
      try {
        accepted.get(timeout.toSeconds(), TimeUnit.SECONDS);
        return true;
      } catch (java.util.concurrent.ExecutionException refused) {
        return false;
      }
    }
  }

  @Test
  void streamsBeyondThePerPeerAndOverallLimitsAreRefused() throws Exception {
    RawStream a = new RawStream(cluster, "greedy").header(1 << 20);
    RawStream b = new RawStream(cluster, "greedy").header(1 << 20);
    assertTrue(a.isAccepted(Duration.ofSeconds(30)) && b.isAccepted(Duration.ofSeconds(30)));
    RawStream c = new RawStream(cluster, "greedy").header(1 << 20);
    Status refused = c.awaitError(Duration.ofSeconds(30));
    assertEquals(Status.Code.RESOURCE_EXHAUSTED, refused.getCode(), refused.toString());
    assertTrue(refused.getDescription().contains("concurrent migrations from spiffe://"
        + "livemig.test/livemig/dump-agent/greedy"), refused.getDescription());

    RawStream other = new RawStream(cluster, "other").header(1 << 20);
    assertTrue(other.isAccepted(Duration.ofSeconds(30)), "another peer still gets in");
    RawStream fourth = new RawStream(cluster, "third").header(1 << 20);
    assertEquals(Status.Code.RESOURCE_EXHAUSTED, fourth.awaitError(Duration.ofSeconds(30))
        .getCode(), "3 streams overall");

    for (RawStream s : List.of(a, b, other)) {
      s.out.cancel("done", null);
    }
    // The permits come back once the writers have ended.
    Instant deadline = Instant.now().plusSeconds(30);
    boolean freed = false;
    while (!freed && Instant.now().isBefore(deadline)) {
      RawStream again = new RawStream(cluster, "greedy").header(1 << 20);
      freed = again.isAccepted(Duration.ofSeconds(30));
      again.out.cancel("done", null);
      Thread.sleep(freed ? 0 : 100);
    }
    assertTrue(freed, "a cancelled stream's permits are released");
    awaitEmpty(dir.resolve("bounded/restore-images"));
  }

  @Test
  void aChunkFloodFailsOnlyItsOwnStreamWhileARealMigrationCompletes() throws Exception {
    ExecutorService pool = Executors.newSingleThreadExecutor();
    int restored = -1;
    try (Workload workload = Workload.memload(Repo.memload(), dir.resolve("w-flood"), 64, 4,
        "uniform")) {
      Future<LocalCluster.CliRun> real = pool.submit(() -> cluster.migrate(workload.pid()));
      RawStream flood = new RawStream(cluster, "flooder").header(64L << 20);
      assertTrue(flood.isAccepted(Duration.ofSeconds(30)));
      flood.out.onNext(RestoreAgentRejectsBadInputIT.roundStart(0, false));
      // One-page zero runs with gaps between them: each is a pagemap entry of its own.
      for (int i = 0; i < 30_000 && !flood.error.isDone(); i++) {
        while (!flood.out.isReady() && !flood.error.isDone()) {
          Thread.sleep(1);
        }
        flood.out.onNext(MigrationFrame.newBuilder().setPages(PageChunk.newBuilder().setVpid(1)
            .setVaddr(0x10000L + i * 8192L).setNrPages(1).setKind(PageKind.ZERO)).build());
      }
      Status s = flood.awaitError(Duration.ofSeconds(60));
      assertEquals(Status.Code.RESOURCE_EXHAUSTED, s.getCode(), s.toString());
      assertTrue(s.getDescription().contains("pagemaps reached 20000 runs"), s.getDescription());

      LocalCluster.CliRun run = real.get(5, TimeUnit.MINUTES);
      assertEquals(0, run.exitCode(), run.output());
      restored = run.report().getRestoredRootPid();
      String verdict = Workload.verify(restored, Duration.ofMinutes(1));
      assertTrue(verdict.startsWith("verify OK"), verdict);
    } finally {
      pool.shutdownNow();
      if (restored > 0) {
        Workload.kill(restored);
      }
    }
  }

  @Test
  void aTreeOverTheQuotaIsRefusedBeforeAnyPageIsSent() throws Exception {
    try (Workload workload = Workload.memload(Repo.memload(), dir.resolve("w-quota"), 128, 2,
        "uniform")) {
      LocalCluster.CliRun run = cluster.migrate(workload.pid());
      assertNotEquals(0, run.exitCode(), run.output());
      assertTrue(run.output().contains("RESOURCE_EXHAUSTED"), run.output());
      assertTrue(run.output().contains("over this agent's per-migration quota of 100 MiB"),
          run.output());
      assertEquals(0, run.report().getPrecopyPageBytes(), "no page sent");
      assertFalse(run.output().contains("] freeze:"), run.output());
      SourceResumedOnFailureIT.assertSourceRunsIntact(workload);
    }
  }

  @Test
  void idleAndEndlessStreamsAreClosedAndTheirFoldersRemoved() throws Exception {
    try (LocalCluster idle = LocalCluster.builder(dir.resolve("idle"))
        .restoreArgs("--idle-timeout", "PT2S", "--max-stream-duration", "PT6S").start()) {
      RawStream quiet = new RawStream(idle, "quiet").header(1 << 20);
      assertTrue(quiet.isAccepted(Duration.ofSeconds(30)));
      Status s = quiet.awaitError(Duration.ofSeconds(30));
      assertEquals(Status.Code.DEADLINE_EXCEEDED, s.getCode(), s.toString());
      assertTrue(s.getDescription().contains("no frame from the sender for 2 s"),
          s.getDescription());

      // A frame every half second never lets the idle timeout fire; the lifetime still does.
      RawStream trickle = new RawStream(idle, "trickle").header(1 << 20);
      assertTrue(trickle.isAccepted(Duration.ofSeconds(30)));
      trickle.out.onNext(RestoreAgentRejectsBadInputIT.roundStart(0, false));
      for (int i = 0; i < 60 && !trickle.error.isDone(); i++) {
        trickle.out.onNext(MigrationFrame.newBuilder().setPages(PageChunk.newBuilder().setVpid(1)
            .setVaddr(0x10000L + i * 4096L).setNrPages(1).setKind(PageKind.ZERO)).build());
        Thread.sleep(500);
      }
      s = trickle.awaitError(Duration.ofSeconds(30));
      assertEquals(Status.Code.DEADLINE_EXCEEDED, s.getCode(), s.toString());
      assertTrue(s.getDescription().contains("the stream lasted 6 s"), s.getDescription());
      awaitEmpty(dir.resolve("idle/restore-images"));
    }
  }

  @Test
  void theFrozenPhaseDeadlineResumesTheSourceAndTheLateCopyIsKilled() throws Exception {
    Path slowCriu = dir.resolve("criu-slow-restore");
    Files.writeString(slowCriu, """
        #!/bin/sh
        [ "$1" = restore ] && sleep 8
        exec "$LIVEMIG_REAL_CRIU" "$@"
        """);
    slowCriu.toFile().setExecutable(true);
    String real = io.livemig.common.criu.Criu.locate(null).executable().toString();
    Path root = dir.resolve("slow");
    ExecutorService pool = Executors.newSingleThreadExecutor();
    int copy = -1;
    try (LocalCluster slow = LocalCluster.builder(root).restoreArgs("--criu", slowCriu.toString())
            .restoreEnv("LIVEMIG_REAL_CRIU", real).dumpArgs("--max-migrations", "1").start();
        Workload workload = Workload.memload(Repo.memload(), dir.resolve("w-slow"), 32, 2,
            "uniform");
        Workload second = Workload.memload(Repo.memload(), dir.resolve("w-second"), 8, 1,
            "uniform")) {
      Future<LocalCluster.CliRun> first = pool.submit(() -> slow.migrate(workload.pid(),
          "--max-frozen-ms", "3000"));
      Path log = root.resolve("restore-agent.log");
      awaitLine(log, Pattern.compile("migration stream from"));
      LocalCluster.CliRun refused = slow.migrate(second.pid());
      assertTrue(refused.output().contains("RESOURCE_EXHAUSTED")
          && refused.output().contains("limit of 1 migrations"), refused.output());
      SourceResumedOnFailureIT.assertSourceRunsIntact(second);

      LocalCluster.CliRun run = first.get(5, TimeUnit.MINUTES);
      System.out.print(run.output());
      assertNotEquals(0, run.exitCode());
      assertTrue(run.output().contains("frozen-phase deadline of 3000 ms passed while waiting"
          + " for the restore result"), run.output());
      assertTrue(run.report().getSourceResumed());
      SourceResumedOnFailureIT.assertSourceRunsIntact(workload);

      // The destination finishes its slow restore, then reads the abort and kills its copy.
      Matcher m = awaitLine(log, Pattern.compile("restored copy of pid (\\d+) killed"));
      copy = Integer.parseInt(m.group(1));
      Instant gone = Instant.now().plusSeconds(10);
      while (Workload.alive(copy) && Instant.now().isBefore(gone)) {
        Thread.sleep(20);
      }
      assertFalse(Workload.alive(copy), "only the source runs");
      assertTrue(Workload.alive(workload.pid()));
    } finally {
      pool.shutdownNow();
      if (copy > 0) {
        Workload.kill(copy);
      }
    }
  }

  static Matcher awaitLine(Path log, Pattern line) throws Exception {
    Instant deadline = Instant.now().plusSeconds(90);
    while (Instant.now().isBefore(deadline)) {
      Matcher m = line.matcher(Files.readString(log));
      if (m.find()) {
        return m;
      }
      Thread.sleep(100);
    }
    throw new AssertionError("no '" + line + "' in " + log + ": " + Files.readString(log));
  }

  static void awaitEmpty(Path images) throws Exception {
    Instant deadline = Instant.now().plusSeconds(30);
    while (!AgentSecurityIT.isEmpty(images) && Instant.now().isBefore(deadline)) {
      Thread.sleep(50);
    }
    assertTrue(AgentSecurityIT.isEmpty(images), "no folder left in " + images);
  }
}
