package io.livemig.common.os;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.livemig.common.agent.MigrationIds;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
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
  void privateDirsAreOwnerOnlyAndNeverLinks() throws IOException {
    Path fresh = Dirs.privateDir(tmp.resolve("a/b/images"));
    assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(fresh)));
    Path wide = Files.createDirectories(tmp.resolve("wide"));
    Files.setPosixFilePermissions(wide, PosixFilePermissions.fromString("rwxrwxrwx"));
    Dirs.privateDir(wide);
    assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(wide)));
    Path target = Files.createDirectories(tmp.resolve("target"));
    Path link = Files.createSymbolicLink(tmp.resolve("planted"), target);
    IOException e = assertThrows(IOException.class, () -> Dirs.privateDir(link));
    assertTrue(e.getMessage().contains("symbolic link"), e.getMessage());
    Path foreign = Files.createDirectories(tmp.resolve("foreign"));
    Files.setAttribute(foreign, "unix:uid", 65534);
    e = assertThrows(IOException.class, () -> Dirs.privateDir(foreign));
    assertTrue(e.getMessage().contains("belongs to uid 65534"), e.getMessage());
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
