package io.livemig.common.os;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.livemig.common.agent.MigrationIds;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DirsTest {
  @TempDir
  Path tmp;

  @Test
  void deletesOnlyInsideTheRootAndNeverFollowsLinks() throws IOException {
    Path root = Files.createDirectories(tmp.resolve("root"));
    Path victim = Files.createDirectories(tmp.resolve("victim"));
    Files.writeString(victim.resolve("keep"), "x");
    Path m = Files.createDirectories(root.resolve("m1"));
    Files.createSymbolicLink(m.resolve("parent"), victim);
    Files.writeString(m.resolve("pages-1.img"), "y");

    assertThrows(IOException.class, () -> Dirs.deleteTree(root, root.resolve("../victim")));
    assertThrows(IOException.class, () -> Dirs.deleteTree(root, root));
    assertThrows(IOException.class, () -> Dirs.deleteTree(root, Path.of("/")));
    Dirs.deleteTree(root, m);
    assertFalse(Files.exists(m));
    assertTrue(Files.exists(victim.resolve("keep")), "link target untouched");
  }

  @Test
  void migrationIdsArePlainNames() {
    assertTrue(MigrationIds.orNew("").startsWith("m-"));
    assertTrue(MigrationIds.isValid("m-1_a"));
    for (String bad : new String[] {"../victim", "/", "a/b", ".", "x".repeat(65), "a b"}) {
      assertThrows(IllegalArgumentException.class, () -> MigrationIds.orNew(bad), bad);
    }
  }
}
