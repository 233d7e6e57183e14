package io.livemig.dump.convergence;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.livemig.proto.FinalDumpKind;
import io.livemig.proto.HandoffMode;
import io.livemig.proto.MigrationReport;
import io.livemig.proto.RoundReport;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class HostCalibrationTest {
  static final long GIB = 1L << 30;
  static final long MS = 1_000_000L;
  static final FinalDumpKind FULL = FinalDumpKind.FINAL_DUMP_FULL;
  static final FinalDumpKind SNAPSHOT = FinalDumpKind.FINAL_DUMP_SNAPSHOT;

  /** A pre-copy handoff of rss bytes frozen for downtimeMs, finalPages bytes sent at 1 GB/s. */
  static MigrationReport handoff(long rss, long downtimeMs, long finalPageBytes) {
    return MigrationReport.newBuilder().setSuccess(true)
        .setHandoff(HandoffMode.HANDOFF_PRECOPY).setRssBytes(rss)
        .setDowntimeUs(downtimeMs * 1000).setFinalPageBytes(finalPageBytes)
        .addRoundReports(RoundReport.newBuilder().setTransferRateBytesPerS(5e8))
        .addRoundReports(RoundReport.newBuilder().setTransferRateBytesPerS(1e9)).build();
  }

  @Test
  void fitsTheFixedPartAndThePerByteCostOfHandoffsOfDifferentSizes(@TempDir Path dir) {
    HostCalibration c = HostCalibration.open(dir);
    assertEquals(DowntimeModel.defaults(), c.model(FULL));
    // 200 ms + 1 s per GiB, plus 100 ms of final pages at the best round's 1 GB/s.
    for (long gib : new long[] {1, 2, 4}) {
      c.observe(handoff(gib * GIB, 200 + gib * 1000 + 100, 100_000_000L));
    }
    DowntimeModel m = c.model(FULL);
    assertEquals(200 * MS, m.fixedNanos(), MS);
    assertEquals(GIB, m.criuBytesPerSecond(), GIB / 1000.0);
    assertTrue(m.basis().contains("fitted to 3"), m.basis());
  }

  @Test
  void aRestartedAgentPredictsFromWhatItLearnedBefore(@TempDir Path dir) {
    HostCalibration first = HostCalibration.open(dir);
    for (long gib : new long[] {1, 2, 4}) {
      first.observe(handoff(gib * GIB, 300 + gib * 500, 0));
    }
    assertEquals(first.model(FULL), HostCalibration.open(dir).model(FULL));
  }

  @Test
  void snapshotAndFullDumpsAreFittedApartAndBothSurviveARestart(@TempDir Path dir) {
    HostCalibration c = HostCalibration.open(dir);
    for (long gib : new long[] {1, 2, 4}) {
      c.observe(handoff(gib * GIB, 200 + gib * 1000, 0));
      c.observe(handoff(gib * GIB, 150 + gib * 50, 0).toBuilder().setFinalDump(SNAPSHOT)
          .build());
    }
    assertEquals(GIB, c.model(FULL).criuBytesPerSecond(), GIB / 1000.0);
    assertEquals(20.0 * GIB, c.model(SNAPSHOT).criuBytesPerSecond(), GIB / 50.0);
    assertEquals(150 * MS, c.model(SNAPSHOT).fixedNanos(), MS);
    HostCalibration restarted = HostCalibration.open(dir);
    assertEquals(c.model(FULL), restarted.model(FULL));
    assertEquals(c.model(SNAPSHOT), restarted.model(SNAPSHOT));
  }

  @Test
  void withOneSizeOnlyTheRateIsFittedBelowTheSmallestHandoff(@TempDir Path dir) {
    HostCalibration c = HostCalibration.open(dir);
    c.observe(handoff(GIB / 4, 130, 0));
    DowntimeModel m = c.model(FULL);
    assertEquals(65 * MS, m.fixedNanos(), MS);
    assertEquals(GIB / 4 / 0.065, m.criuBytesPerSecond(), 1e6);
    long predicted = m.predictNanos(new RoundResult(3, 0, 0, 0, 0, 0, 1, 1, GIB / 4 / 4096, 0),
        1e9);
    assertEquals(130 * MS, predicted, MS);
  }

  @Test
  void failedAndPostcopyMigrationsTeachNothing(@TempDir Path dir) {
    HostCalibration c = HostCalibration.open(dir);
    c.observe(handoff(GIB, 900, 0).toBuilder().setSuccess(false).build());
    c.observe(handoff(GIB, 300, 0).toBuilder().setHandoff(HandoffMode.HANDOFF_POSTCOPY).build());
    c.observe(handoff(GIB, 100, 200_000_000L));
    assertEquals(DowntimeModel.defaults(), c.model(FULL));
    assertTrue(Files.notExists(dir.resolve(HostCalibration.FILE)));
  }

  @Test
  void keepsOnlyTheLatestSamplesAndSkipsMalformedLines(@TempDir Path dir) throws IOException {
    Files.writeString(dir.resolve(HostCalibration.FILE), "garbage\n1073741824 x\n-5 7\n");
    HostCalibration c = HostCalibration.open(dir);
    assertEquals(DowntimeModel.defaults(), c.model(FULL));
    for (int i = 0; i < HostCalibration.KEEP + 5; i++) {
      c.observe(handoff(GIB, 1000, 0));
    }
    List<String> kept = Files.readAllLines(dir.resolve(HostCalibration.FILE));
    assertEquals(HostCalibration.KEEP, kept.size());
    assertEquals(GIB + " " + 1000 * MS, kept.get(0));
  }
}
