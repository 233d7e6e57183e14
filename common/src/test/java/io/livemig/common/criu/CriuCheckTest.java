package io.livemig.common.criu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CriuCheckTest {
  @TempDir
  Path dir;

  /** A CRIU 4.2.1 whose check prints checkOutput and exits with checkExit. */
  private Criu fakeCriu(String checkOutput, int checkExit) throws Exception {
    Path p = dir.resolve("criu");
    Files.writeString(p, "#!/bin/sh\ncase \"$1\" in\n  --version) echo 'Version: 4.2.1' ;;\n"
        + "  check) echo '" + checkOutput + "'; exit " + checkExit + " ;;\nesac\n");
    p.toFile().setExecutable(true);
    return Criu.locate(p.toString());
  }

  @Test
  void passingCheckGivesCriusVerdictAndVersion() throws Exception {
    assertEquals(new CriuCheck("4.2", true, "Looks good."),
        CriuCheck.run(fakeCriu("Looks good.", 0)));
  }

  @Test
  void failingCheckGivesItsErrorWithoutTheRlimitNoise() throws Exception {
    CriuCheck c = CriuCheck.run(fakeCriu("Error (criu/util.c:1534): rlimit: Can'\"'\"'t setup"
        + " RLIMIT_NOFILE for self\nError (criu/cr-check.c:1): Kernel lacks uffd", 1));
    assertFalse(c.passed());
    assertTrue(c.summary().contains("criu check failed (exit 1): Kernel lacks uffd"),
        c.summary());
    assertFalse(c.summary().contains("RLIMIT"), c.summary());
  }

  @Test
  void imagesRestoreOnTheSameOrANewerCriuOnly() {
    assertTrue(CriuCheck.canRestore("4.2", "4.2"));
    assertTrue(CriuCheck.canRestore("4.10", "4.2"), "compared as numbers, not text");
    assertTrue(CriuCheck.canRestore("5.0", "4.2"));
    assertFalse(CriuCheck.canRestore("4.1", "4.2"));
  }
}
