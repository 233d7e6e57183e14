package io.livemig.common.criu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CriuVersionTest {
  @TempDir
  Path dir;

  private Path fakeCriu(String version) throws Exception {
    Path p = dir.resolve("criu-" + version);
    Files.writeString(p, "#!/bin/sh\necho 'Version: " + version + "'\n");
    p.toFile().setExecutable(true);
    return p;
  }

  @Test
  void criuBelow42IsRefusedWithTheReason() throws Exception {
    for (String old : new String[] {"3.17.1", "4.1.1", "4.0"}) {
      CriuException e = assertThrows(CriuException.class,
          () -> Criu.locate(fakeCriu(old).toString()), old);
      assertTrue(e.getMessage().contains("version 4.2 or newer is needed"), e.getMessage());
    }
  }

  @Test
  void criu42AndNewerAreAccepted() throws Exception {
    assertEquals("4.2", Criu.locate(fakeCriu("4.2.1").toString()).version());
    assertEquals("5.0", Criu.locate(fakeCriu("5.0").toString()).version());
  }
}
