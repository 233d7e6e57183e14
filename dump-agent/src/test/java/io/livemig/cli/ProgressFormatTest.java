package io.livemig.cli;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.livemig.proto.HandoffMode;
import io.livemig.proto.MigrationReport;
import io.livemig.proto.RoundReport;
import org.junit.jupiter.api.Test;

class ProgressFormatTest {
  private static MigrationReport.Builder migrated(long downtimeUs) {
    return MigrationReport.newBuilder().setSuccess(true).setDowntimeUs(downtimeUs)
        .addRoundReports(RoundReport.newBuilder().setRound(0).setPredictedDowntimeUs(2_000_000))
        .addRoundReports(RoundReport.newBuilder().setRound(1).setPredictedDowntimeUs(1_500_000));
  }

  @Test
  void aPrecopyHandoffShowsTheLastRoundsPredictionBesideTheDowntime() {
    String out = ProgressFormat.report(migrated(1_800_000).build(), true);
    assertTrue(out.contains("  predicted:        1.500 s (actual / predicted 1.20)\n"), out);
  }

  @Test
  void aPostcopyHandoffShowsThePreCopyPauseItAvoided() {
    String out = ProgressFormat.report(migrated(300_000)
        .setHandoff(HandoffMode.HANDOFF_POSTCOPY).build(), true);
    assertTrue(out.contains("  predicted:        1.500 s for a pre-copy handoff; post-copy was"
        + " taken\n"), out);
  }

  @Test
  void withoutPreCopyRoundsThereIsNoPrediction() {
    String out = ProgressFormat.report(MigrationReport.newBuilder().setSuccess(true).build(),
        true);
    assertFalse(out.contains("predicted"), out);
  }
}
