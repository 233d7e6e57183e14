package io.livemig.dump.control;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.stub.ServerCallStreamObserver;
import io.livemig.proto.MigrateRequest;
import io.livemig.proto.MigrationProgress;
import io.livemig.dump.migration.Steps;
import io.livemig.proto.RoundProgress;
import io.livemig.proto.Step;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class MigrationRunTest {
  /** A watcher's end of the stream, ready unless told otherwise. */
  static final class Received extends ServerCallStreamObserver<MigrationProgress> {
    final List<MigrationProgress> events = new ArrayList<>();
    boolean ready = true;

    @Override
    public boolean isCancelled() {
      return false;
    }

    @Override
    public void setOnCancelHandler(Runnable r) {}

    @Override
    public void setCompression(String c) {}

    @Override
    public boolean isReady() {
      return ready;
    }

    @Override
    public void setOnReadyHandler(Runnable r) {}

    @Override
    public void request(int n) {}

    @Override
    public void setMessageCompression(boolean e) {}

    @Override
    public void disableAutoInboundFlowControl() {}

    @Override
    public void onNext(MigrationProgress p) {
      events.add(p);
    }

    @Override
    public void onError(Throwable t) {}

    @Override
    public void onCompleted() {}
  }

  private final MigrationRun run = new MigrationRun("m-1", MigrateRequest.getDefaultInstance(),
      "ops");

  private static RoundProgress tick(long scanned) {
    return RoundProgress.newBuilder().setPagesScanned(scanned).build();
  }

  private void phase(Step step) {
    run.phase(Steps.event(step, "", 0));
  }

  @Test
  void ticksGoOnlyToWatchersThatAskedAndCarryThePreviousSequence() {
    Received plain = new Received();
    Received ticked = new Received();
    run.watch(0, false, plain);
    run.watch(0, true, ticked);
    phase(Step.STEP_PRECOPY);
    run.roundProgress(tick(10));
    phase(Step.STEP_FREEZE);
    assertEquals(2, plain.events.size(), "no ticks unasked: " + plain.events);
    assertEquals(3, ticked.events.size());
    assertTrue(ticked.events.get(1).hasRoundProgress());
    assertEquals(1, ticked.events.get(1).getSequence());
    assertEquals(2, ticked.events.get(2).getSequence());
  }

  @Test
  void ticksAreNotKeptForWatchersThatAttachLater() {
    phase(Step.STEP_PRECOPY);
    run.roundProgress(tick(10));
    Received late = new Received();
    run.watch(0, true, late);
    assertEquals(1, late.events.size());
    assertTrue(late.events.get(0).hasPhase());
  }

  @Test
  void aWatcherThatIsNotReadyMissesTicksButNoKeptEvent() {
    Received slow = new Received();
    run.watch(0, true, slow);
    slow.ready = false;
    run.roundProgress(tick(10));
    phase(Step.STEP_FREEZE);
    assertEquals(1, slow.events.size());
    assertTrue(slow.events.get(0).hasPhase());
  }
}
