package io.livemig.restore.service;

import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import io.livemig.common.criu.Criu;
import io.livemig.common.criu.CriuCheck;
import io.livemig.common.security.Peer;
import io.livemig.proto.CriuDescription;
import io.livemig.proto.DescribeCriuRequest;
import java.io.IOException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.logging.Logger;

/**
 * Answers a dump agent's pre-flight: this host's CRIU version and its criu check. The check runs
 * on a thread of its own, one at a time: the server's handlers run on its transport threads.
 */
public final class CriuDescriber {
  private static final Logger LOG = Logger.getLogger(CriuDescriber.class.getName());

  private final Criu criu;
  private final ExecutorService checks = Executors.newSingleThreadExecutor(r -> {
    Thread t = new Thread(r, "criu-check");
    t.setDaemon(true);
    return t;
  });

  public CriuDescriber(Criu criu) {
    this.criu = criu;
  }

  void describe(DescribeCriuRequest request, StreamObserver<CriuDescription> reply) {
    Peer peer = Peer.current();
    checks.execute(() -> check(peer, reply));
  }

  private void check(Peer peer, StreamObserver<CriuDescription> reply) {
    CriuCheck check;
    try {
      check = CriuCheck.run(criu);
    } catch (IOException e) {
      reply.onError(Status.INTERNAL.withDescription("the restore agent could not run criu"
          + " check: " + e.getMessage()).asRuntimeException());
      return;
    }
    LOG.info("criu check for " + peer + ": " + (check.passed() ? "passed" : "failed")
        + ": " + check.summary());
    reply.onNext(CriuDescription.newBuilder().setVersion(check.version())
        .setCheckPassed(check.passed()).setCheckSummary(check.summary()).build());
    reply.onCompleted();
  }
}
