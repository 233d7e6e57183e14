package io.livemig.loadtest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.livemig.common.os.ProcStat;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * A process that an attack or a refused request must leave alone: started here, it proves
 * afterwards that it still runs, unstopped, as the same process (same start time).
 */
final class Bystander implements AutoCloseable {
  private final Process process;
  private final int pid;
  private final long startTime;

  private Bystander(Process process, int pid) throws IOException {
    this.process = process;
    this.pid = pid;
    this.startTime = ProcStat.read(pid).startTime();
  }

  /** A plain process, as anybody would start one. */
  static Bystander start(List<String> cmd) throws IOException {
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.DISCARD)
        .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile())).start();
    return new Bystander(p, (int) p.pid());
  }

  /** cmd as the init of its own pid namespace (what the dump agent's default scope admits). */
  static Bystander inPidNamespace(List<String> cmd) throws IOException, InterruptedException {
    List<String> all = new ArrayList<>(List.of("unshare", "--pid", "--fork", "setsid"));
    all.addAll(cmd);
    return namespaceInitBelow(all);
  }

  /** The init of the pid namespace that cmd starts somewhere below itself. */
  static Bystander namespaceInitBelow(List<String> cmd) throws IOException, InterruptedException {
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.DISCARD)
        .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile())).start();
    Instant deadline = Instant.now().plusSeconds(10);
    while (Instant.now().isBefore(deadline)) {
      Optional<Long> init = p.descendants().map(ProcessHandle::pid)
          .filter(pid -> namespaceInit(pid.intValue())).findFirst();
      if (init.isPresent()) {
        return new Bystander(p, init.get().intValue());
      }
      Thread.sleep(10);
    }
    p.destroyForcibly();
    throw new IOException(cmd + " started no pid namespace within 10 s");
  }

  private static boolean namespaceInit(int pid) {
    try {
      return Files.readAllLines(Path.of("/proc", String.valueOf(pid), "status")).stream()
          .anyMatch(l -> l.startsWith("NSpid:") && l.matches("NSpid:\\s+\\d+\\s+1"));
    } catch (IOException gone) {
      return false;
    }
  }

  int pid() {
    return pid;
  }

  void assertUntouched() throws IOException {
    assertEquals(startTime, ProcStat.read(pid).startTime(),
        "pid " + pid + " is the same process");
    String state = Workload.state(pid);
    assertTrue(state.equals("S") || state.equals("R"), "pid " + pid + " state " + state);
  }

  @Override
  public void close() throws InterruptedException {
    ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
    process.destroyForcibly();
    process.waitFor(10, TimeUnit.SECONDS);
  }
}
