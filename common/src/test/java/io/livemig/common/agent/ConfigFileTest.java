package io.livemig.common.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

class ConfigFileTest {
  @TempDir
  Path dir;

  @Command(name = "test-agent")
  static final class Agent implements Runnable {
    @Option(names = "--config")
    Path config;
    @Option(names = "--port")
    int port = 7701;
    @Option(names = "--bind")
    String bind = "127.0.0.1";
    @Option(names = "--keep-dump")
    boolean keepDump;
    @Option(names = "--idle-timeout")
    Duration idle = Duration.ofSeconds(30);
    boolean ran;

    @Override
    public void run() {
      ran = true;
    }
  }

  private Path file(String text) throws Exception {
    return Files.writeString(dir.resolve("agent.conf"), text);
  }

  @Test
  void fileValuesBecomeDefaultsThatFlagsOverride() throws Exception {
    Path f = file("""
        # the agent
        port = 9000
          bind=0.0.0.0
        keep-dump = true

        idle-timeout = PT2M
        """);
    Agent a = new Agent();
    assertEquals(0, ConfigFile.execute(a, new String[] {"--config", f.toString(), "--port",
        "9100"}));
    assertTrue(a.ran);
    assertEquals(9100, a.port, "the flag wins");
    assertEquals("0.0.0.0", a.bind);
    assertTrue(a.keepDump);
    assertEquals(Duration.ofMinutes(2), a.idle);
  }

  @Test
  void optionsTheFileLeavesOutKeepTheirDefaults() throws Exception {
    Agent a = new Agent();
    assertEquals(0, ConfigFile.execute(a, new String[] {"--config=" + file("port = 1")}));
    assertEquals(1, a.port);
    assertEquals("127.0.0.1", a.bind);
    assertFalse(a.keepDump);
  }

  @Test
  void misspeltNameIsRefusedWithTheLineAndTheKnownNames() throws Exception {
    Path f = file("port = 1\nmax-migratoins = 8\n");
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> ConfigFile.load(f, new CommandLine(new Agent()).getCommandSpec()));
    assertTrue(e.getMessage().contains("agent.conf:2: 'max-migratoins' is no option"),
        e.getMessage());
    assertTrue(e.getMessage().contains("idle-timeout"), e.getMessage());
    assertFalse(e.getMessage().contains("config,"), "--config cannot be set from a file");
  }

  @Test
  void badFileIsAUsageErrorAndTheCommandDoesNotRun() throws Exception {
    Agent a = new Agent();
    assertEquals(CommandLine.ExitCode.USAGE, ConfigFile.execute(a,
        new String[] {"--config", file("port 1").toString()}));
    assertFalse(a.ran);
    assertEquals(CommandLine.ExitCode.USAGE, ConfigFile.execute(a,
        new String[] {"--config", dir.resolve("missing.conf").toString()}));
    assertEquals(CommandLine.ExitCode.USAGE, ConfigFile.execute(a,
        new String[] {"--config", file("port = 1\nport = 2").toString()}));
    assertFalse(a.ran);
  }

  @Test
  void oversizedFileIsRefused() throws Exception {
    Path f = file("# " + "x".repeat((int) ConfigFile.MAX_BYTES) + "\n");
    assertThrows(IllegalArgumentException.class,
        () -> ConfigFile.load(f, new CommandLine(new Agent()).getCommandSpec()));
  }

  @Test
  void configArgumentIsFoundInBothSpellings() {
    assertEquals(Path.of("/a"), ConfigFile.configArgument(new String[] {"--config", "/a"}));
    assertEquals(Path.of("/b"), ConfigFile.configArgument(new String[] {"x", "--config=/b"}));
    assertNull(ConfigFile.configArgument(new String[] {"--port", "1", "--config"}));
  }
}
