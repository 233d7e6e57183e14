package io.livemig.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.livemig.proto.MigrationProgress;
import io.livemig.dump.migration.Steps;
import io.livemig.proto.RoundProgress;
import io.livemig.proto.RoundReport;
import io.livemig.proto.Step;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class ProgressBarTest {
  private static final RoundProgress HALF = RoundProgress.newBuilder().setRound(0)
      .setPagesScanned(131072).setPagesExpected(262144).setPageBytes(256L << 20)
      .setElapsedUs(2_500_000).build();

  @Test
  void roundLineShowsTheShareOfItsPagesRead() {
    assertEquals("round 0 [############------------]  50%  512.0 MiB of 1.00 GiB read,"
        + " 256.0 MiB sent, 2.5 s", ProgressBar.round(HALF));
  }

  @Test
  void handoffBarCountsItsSteps() {
    assertEquals("handoff [################--------] 4/6 restore",
        ProgressBar.handoff(Step.STEP_RESTORE, ProgressBar.PRECOPY_HANDOFF));
    assertNull(ProgressBar.handoff(Step.STEP_PRECOPY, ProgressBar.PRECOPY_HANDOFF));
    assertTrue(ProgressBar.handoff(Step.STEP_KILL_SOURCE, ProgressBar.POSTCOPY_HANDOFF)
        .contains("7/7 kill-source"));
  }

  private static String print(Output o, MigrationProgress... events) {
    ByteArrayOutputStream buf = new ByteArrayOutputStream();
    PrintStream out = new PrintStream(buf, true, StandardCharsets.UTF_8);
    for (MigrationProgress p : events) {
      o.progress(out, p);
    }
    return buf.toString(StandardCharsets.UTF_8);
  }

  private static MigrationProgress ticked() {
    return MigrationProgress.newBuilder().setRoundProgress(HALF).build();
  }

  private static MigrationProgress round() {
    return MigrationProgress.newBuilder().setRound(RoundReport.newBuilder().setRound(0)).build();
  }

  @Test
  void onATerminalTheLiveLineIsRedrawnAndErasedBeforeEachEventLine() {
    Output o = new Output();
    o.terminal = true;
    String out = print(o, ticked(), round());
    assertTrue(out.startsWith(ProgressBar.CLEAR + "round 0 ["), out);
    assertTrue(out.contains("sent, 2.5 s" + ProgressBar.CLEAR + "round 0: "), out);
    assertTrue(out.endsWith("\n"), "the round's line ends with no live line left: " + out);
  }

  @Test
  void withoutATerminalOnlyEventLinesArePrinted() {
    Output o = new Output();
    o.terminal = false;
    String out = print(o, ticked(), round(), MigrationProgress.newBuilder()
        .setPhase(Steps.event(Step.STEP_FREEZE, "criu dump", 0)).build());
    assertFalse(out.contains("\r"), out);
    assertEquals(2, out.lines().count(), out);
  }

  @Test
  void progressAlwaysDrawsTheHandoffBarAfterItsPhaseLines() {
    Output o = new Output();
    o.terminal = false;
    o.progress = Output.Progress.always;
    String out = print(o, MigrationProgress.newBuilder()
        .setPhase(Steps.event(Step.STEP_FINAL_DUMP, "dumped", 0)).build());
    assertTrue(out.endsWith(ProgressBar.CLEAR + "handoff [########----------------] 2/6"
        + " final-dump"), out);
  }

  @Test
  void jsonPrintsTicksAsObjectsLikeEveryOtherEvent() {
    Output o = new Output();
    o.format = Output.Format.json;
    o.terminal = true;
    String out = print(o, ticked());
    assertTrue(out.startsWith("{\"roundProgress\":{"), out);
  }
}
