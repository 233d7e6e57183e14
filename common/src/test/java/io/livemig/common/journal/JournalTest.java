package io.livemig.common.journal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.livemig.proto.JournalEntry;
import io.livemig.proto.MigrationPhase;
import io.livemig.proto.TaskIncarnation;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class JournalTest {
  @TempDir
  Path dir;

  private static JournalEntry entry(String id, MigrationPhase phase, long started) {
    return JournalEntry.newBuilder().setMigrationId(id).setPhase(phase).setPeer("hostB:7702")
        .addSourceTasks(TaskIncarnation.newBuilder().setPid(42).setStartTime(4711))
        .setStartedUnixMs(started).build();
  }

  @Test
  void aReopenedJournalHasEachMigrationInItsLastPhase() throws Exception {
    Journal j = Journal.open(dir.resolve("state"));
    j.record(entry("m1", MigrationPhase.PRECOPY, 1));
    j.record(entry("m1", MigrationPhase.FROZEN, 1));
    j.record(entry("m2", MigrationPhase.RESTORED_STOPPED, 2));

    List<JournalEntry> again = Journal.open(dir.resolve("state")).entries();
    assertEquals(List.of("m1", "m2"), again.stream().map(JournalEntry::getMigrationId).toList());
    assertEquals(MigrationPhase.FROZEN, again.get(0).getPhase());
    assertEquals(4711, again.get(0).getSourceTasks(0).getStartTime());
    assertTrue(again.get(0).getUpdatedUnixMs() > 0, "stamped");
    try (var files = Files.list(dir.resolve("state"))) {
      assertEquals(2, files.count(), "no temporary file left");
    }
  }

  @Test
  void onlyTheStartTheCommitPointAndTheOutcomeAreSyncedToDisk() {
    for (MigrationPhase p : List.of(MigrationPhase.PRECOPY, MigrationPhase.SOURCE_KILLING,
        MigrationPhase.SOURCE_KILLED, MigrationPhase.RESUMED, MigrationPhase.ABORTED)) {
      assertTrue(Journal.survivesHostCrash(p), p.name());
    }
    for (MigrationPhase p : List.of(MigrationPhase.FROZEN, MigrationPhase.IMAGES_COMPLETE,
        MigrationPhase.RESTORED_STOPPED, MigrationPhase.POSTCOPY)) {
      assertFalse(Journal.survivesHostCrash(p), p.name());
    }
  }

  @Test
  void anUnreadableEntryIsSetAsideAndTheOthersStillLoad() throws Exception {
    Journal j = Journal.open(dir.resolve("state"));
    j.record(entry("good", MigrationPhase.PRECOPY, 1));
    Files.writeString(dir.resolve("state/bad.json"), "{ not json");
    Files.writeString(dir.resolve("state/other.json"), "{\"migrationId\": \"good\"}");

    List<JournalEntry> loaded = j.entries();
    assertEquals(List.of("good"), loaded.stream().map(JournalEntry::getMigrationId).toList());
    assertTrue(Files.exists(dir.resolve("state/bad.json.corrupt")));
    assertTrue(Files.exists(dir.resolve("state/other.json.corrupt")), "names another migration");
  }

  @Test
  void anIdThatCouldBeAPathIsRefused() throws Exception {
    Journal j = Journal.open(dir.resolve("state"));
    assertThrows(IllegalArgumentException.class,
        () -> j.record(entry("../escape", MigrationPhase.PRECOPY, 1)));
    assertFalse(j.read("../escape").isPresent());
    assertFalse(Files.exists(dir.resolve("escape.json")));
  }

  @Test
  void pruneDropsOnlyFinishedEntriesBeyondTheKeptHistory() throws Exception {
    Journal j = Journal.open(dir.resolve("state"));
    j.record(entry("open", MigrationPhase.SOURCE_KILLED, 1));
    j.record(entry("old", MigrationPhase.RESUMED, 2));
    j.record(entry("new", MigrationPhase.ABORTED, 3));

    j.prune(Duration.ofDays(1), 1);
    assertEquals(List.of("open", "new"),
        j.entries().stream().map(JournalEntry::getMigrationId).toList());
    j.prune(Duration.ZERO.minusSeconds(1), 10);
    assertEquals(List.of("open"), j.entries().stream().map(JournalEntry::getMigrationId).toList());
  }
}
