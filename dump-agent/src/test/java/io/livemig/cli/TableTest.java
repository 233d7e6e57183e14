package io.livemig.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.livemig.proto.MigrationReport;
import io.livemig.proto.RoundDecision;
import io.livemig.proto.RoundReport;
import org.junit.jupiter.api.Test;

class TableTest {
  @Test
  void columnsAreAsWideAsTheirWidestCellAndTheLastIsNotPadded() {
    String t = new Table("round", "sent", "then").row(0, 8216, "another round")
        .row(12, 7, "final dump").render("  ");
    assertEquals("""
          round  sent  then
              0  8216  another round
             12     7  final dump
        """, t);
  }

  @Test
  void aRowWithTheWrongNumberOfCellsIsRefused() {
    assertThrows(IllegalArgumentException.class, () -> new Table("a", "b").row(1));
  }

  @Test
  void reportEndsWithOneRowPerRoundAndTheStopRulesChoice() {
    String out = ProgressFormat.report(MigrationReport.newBuilder().setSuccess(true)
        .addRoundReports(RoundReport.newBuilder().setRound(0).setPagesScanned(8192)
            .setPagesSent(8192).setNext(RoundDecision.ANOTHER_ROUND_MIN_ROUNDS))
        .addRoundReports(RoundReport.newBuilder().setRound(1).setPagesScanned(8192)
            .setDirtyPages(431).setPagesSent(431).setNext(RoundDecision.FINAL_WITHIN_TARGET))
        .build(), true);
    assertTrue(out.contains("  pre-copy rounds (pages):\n    round  scanned  dirty  sent"), out);
    assertTrue(out.contains("another round: minimum not reached\n"), out);
    assertTrue(out.endsWith("final dump: predicted downtime within target\n"), out);
  }
}
