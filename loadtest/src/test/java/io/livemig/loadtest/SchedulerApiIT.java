package io.livemig.loadtest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.reflection.v1.ServerReflectionGrpc;
import io.grpc.reflection.v1.ServerReflectionRequest;
import io.grpc.reflection.v1.ServerReflectionResponse;
import io.grpc.stub.StreamObserver;
import io.livemig.proto.CancelMigrationRequest;
import io.livemig.proto.DumpServiceGrpc;
import io.livemig.proto.GetMigrationRequest;
import io.livemig.proto.ListMigrationsRequest;
import io.livemig.proto.MigrateOptions;
import io.livemig.proto.MigrateRequest;
import io.livemig.proto.MigrationProgress;
import io.livemig.proto.MigrationReport;
import io.livemig.proto.MigrationState;
import io.livemig.proto.MigrationStatus;
import io.livemig.proto.RestoreServiceGrpc;
import io.livemig.proto.WatchMigrationRequest;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A test acting as a scheduler on the dump agent's API, with real agents and workloads: two
 * migrations started at once, watched, a watch re-attached, listed, one cancelled before its
 * commit point (its source runs on, intact), the other finished; then the CLI's view of them.
 */
class SchedulerApiIT {
  private static final Duration WAIT = Duration.ofSeconds(90);
  @TempDir
  Path dir;

  @Test
  void aSchedulerStartsWatchesListsAndCancelsMigrations() throws Exception {
    int copy = -1;
    try (LocalCluster cluster = LocalCluster.start(dir);
        Workload moving = Workload.memload(Repo.memload(), dir.resolve("a"), 64, 8, "hot");
        Workload staying = Workload.memload(Repo.memload(), dir.resolve("b"), 64, 8, "hot")) {
      ManagedChannel channel = cluster.channelTo("dump-agent");
      DumpServiceGrpc.DumpServiceBlockingStub api = DumpServiceGrpc.newBlockingStub(channel);
      String to = cluster.restoreAgent().address();
      MigrateRequest a = MigrateRequest.newBuilder().setMigrationId("sched-a")
          .setPid(moving.pid()).setDestination(to).setOptions(MigrateOptions.newBuilder()
              .setMinRounds(3)).build();
      // Never converges on its own: it stays in pre-copy until cancelled.
      MigrateRequest b = MigrateRequest.newBuilder().setMigrationId("sched-b")
          .setPid(staying.pid()).setDestination(to).setOptions(MigrateOptions.newBuilder()
              .setMinRounds(1000).setMaxRounds(1000)).build();

      CompletableFuture<MigrationStatus> startA = CompletableFuture.supplyAsync(
          () -> api.startMigration(a));
      CompletableFuture<MigrationStatus> startB = CompletableFuture.supplyAsync(
          () -> api.startMigration(b));
      assertEquals(MigrationState.RUNNING, startA.join().getState());
      assertEquals(MigrationState.RUNNING, startB.join().getState());
      assertTrue(startA.join().getStartedBy().endsWith("/client/ops"), startA.join().toString());

      assertEquals("sched-a", api.startMigration(a).getMigrationId(), "a retried start joins");
      StatusRuntimeException taken = assertThrows(StatusRuntimeException.class,
          () -> api.startMigration(a.toBuilder().setPid(staying.pid()).build()));
      assertEquals(Status.Code.ALREADY_EXISTS, taken.getStatus().getCode());
      StatusRuntimeException sameTree = assertThrows(StatusRuntimeException.class,
          () -> api.startMigration(b.toBuilder().setMigrationId("sched-c").build()));
      assertEquals(Status.Code.ALREADY_EXISTS, sameTree.getStatus().getCode());
      assertTrue(sameTree.getStatus().getDescription().contains("sched-b"),
          sameTree.getStatus().getDescription());

      List<MigrationStatus> listed = api.listMigrations(ListMigrationsRequest.getDefaultInstance())
          .getMigrationsList();
      assertEquals(List.of("sched-a", "sched-b"), listed.stream()
          .map(MigrationStatus::getMigrationId).sorted().toList());

      // Watch b, then re-attach after its second event: the same events follow, none twice.
      List<MigrationProgress> first = take(api, "sched-b", 0, 3);
      List<MigrationProgress> again = take(api, "sched-b", first.get(1).getSequence(), 1);
      assertEquals(first.get(2), again.get(0));

      MigrationStatus cancelling = api.cancelMigration(CancelMigrationRequest.newBuilder()
          .setMigrationId("sched-b").setReason("test scheduler changed its mind").build());
      assertTrue(cancelling.getCancelRequested());
      MigrationReport cancelled = reportOf(api, "sched-b");
      assertTrue(cancelled.getCancelled(), cancelled.toString());
      assertFalse(cancelled.getSuccess());
      assertTrue(cancelled.getSourceResumed(), cancelled.getError());
      assertTrue(cancelled.getError().contains("test scheduler changed its mind"),
          cancelled.getError());
      assertEquals(MigrationState.CANCELLED, get(api, "sched-b").getState());
      assertTrue(Workload.alive(staying.pid()));
      assertTrue(Workload.verify(staying.pid(), WAIT).startsWith("verify OK"));

      MigrationReport done = reportOf(api, "sched-a");
      assertTrue(done.getSuccess(), done.getError());
      copy = done.getRestoredRootPid();
      assertEquals(MigrationState.SUCCEEDED, get(api, "sched-a").getState());
      assertTrue(Workload.verify(copy, WAIT).startsWith("verify OK"));
      assertFalse(Workload.alive(moving.pid()), "the source is gone");
      StatusRuntimeException late = assertThrows(StatusRuntimeException.class,
          () -> api.cancelMigration(CancelMigrationRequest.newBuilder()
              .setMigrationId("sched-a").build()));
      assertEquals(Status.Code.FAILED_PRECONDITION, late.getStatus().getCode());
      assertTrue(late.getStatus().getDescription().contains("succeeded"),
          late.getStatus().getDescription());
      channel.shutdownNow();

      assertCliShows(cluster);
    } finally {
      if (copy > 0) {
        Workload.kill(copy);
      }
    }
  }

  @Test
  void bothAgentsServeHealthChecksAndReflection() throws Exception {
    try (LocalCluster cluster = LocalCluster.start(dir)) {
      for (String agent : List.of("dump-agent", "restore-agent")) {
        String service = agent.equals("dump-agent") ? DumpServiceGrpc.SERVICE_NAME
            : RestoreServiceGrpc.SERVICE_NAME;
        ManagedChannel channel = cluster.channelTo(agent);
        try {
          assertEquals(HealthCheckResponse.ServingStatus.SERVING, HealthGrpc
              .newBlockingStub(channel).check(HealthCheckRequest.newBuilder()
                  .setService(service).build()).getStatus());
          assertTrue(services(channel).contains(service), agent);
        } finally {
          channel.shutdownNow();
        }
      }
    }
  }

  /** The CLI as an operator uses it: list, status, and JSON for scripts. */
  private static void assertCliShows(LocalCluster cluster) throws Exception {
    LocalCluster.CliRun list = cluster.cli("list", "--output", "json");
    assertEquals(0, list.exitCode(), list.output());
    assertEquals(2, list.output().lines().filter(l -> l.startsWith("{")).count(),
        list.output());
    assertTrue(list.output().contains("\"state\":\"CANCELLED\""), list.output());
    LocalCluster.CliRun status = cluster.cli("status", "sched-a");
    assertEquals(0, status.exitCode(), status.output());
    assertTrue(status.output().contains("SUCCEEDED"), status.output());
    LocalCluster.CliRun watch = cluster.cli("watch", "sched-b");
    assertEquals(3, watch.exitCode(), "a cancelled migration's exit code: " + watch.output());
    LocalCluster.CliRun unknown = cluster.cli("status", "no-such");
    assertEquals(2, unknown.exitCode(), unknown.output());
    assertTrue(unknown.output().contains("no migration no-such"), unknown.output());
  }

  private static MigrationStatus get(DumpServiceGrpc.DumpServiceBlockingStub api, String id) {
    return api.getMigration(GetMigrationRequest.newBuilder().setMigrationId(id).build());
  }

  /** The first n events after a sequence number. */
  private static List<MigrationProgress> take(DumpServiceGrpc.DumpServiceBlockingStub api,
      String id, long after, int n) {
    Iterator<MigrationProgress> events = api.withDeadlineAfter(WAIT.toSeconds(),
        TimeUnit.SECONDS).watchMigration(WatchMigrationRequest.newBuilder().setMigrationId(id)
        .setFromSequence(after).build());
    List<MigrationProgress> out = new ArrayList<>();
    while (out.size() < n) {
      out.add(events.next());
    }
    return out;
  }

  private static MigrationReport reportOf(DumpServiceGrpc.DumpServiceBlockingStub api,
      String id) {
    Iterator<MigrationProgress> events = api.withDeadlineAfter(WAIT.toSeconds(),
        TimeUnit.SECONDS).watchMigration(WatchMigrationRequest.newBuilder().setMigrationId(id)
        .build());
    long last = 0;
    while (events.hasNext()) {
      MigrationProgress p = events.next();
      assertTrue(p.getSequence() > last, "in order, each once");
      last = p.getSequence();
      if (p.hasReport()) {
        return p.getReport();
      }
    }
    throw new AssertionError("the watch of " + id + " ended without a report");
  }

  /** The services an agent lists through server reflection (what grpcurl list shows). */
  private static List<String> services(ManagedChannel channel) throws Exception {
    LinkedBlockingQueue<Object> replies = new LinkedBlockingQueue<>();
    StreamObserver<ServerReflectionRequest> requests = ServerReflectionGrpc.newStub(channel)
        .serverReflectionInfo(new StreamObserver<>() {
          @Override
          public void onNext(ServerReflectionResponse r) {
            replies.add(r);
          }

          @Override
          public void onError(Throwable t) {
            replies.add(t);
          }

          @Override
          public void onCompleted() {}
        });
    requests.onNext(ServerReflectionRequest.newBuilder().setListServices("*").build());
    Object reply = replies.poll(30, TimeUnit.SECONDS);
    requests.onCompleted();
    if (!(reply instanceof ServerReflectionResponse r)) {
      throw new AssertionError("no reflection answer: " + reply);
    }
    return r.getListServicesResponse().getServiceList().stream().map(s -> s.getName()).toList();
  }
}
