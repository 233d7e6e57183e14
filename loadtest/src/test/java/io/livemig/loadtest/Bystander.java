package io.livemig.loadtest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.livemig.common.os.ProcStat;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
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
    List<String> all = new java.util.ArrayList<>(List.of("unshare", "--pid", "--fork", "setsid"));
    all.addAll(cmd);
    Process p = new ProcessBuilder(all).redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.DISCARD)
        .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile())).start();
    Path children = Path.of("/proc", String.valueOf(p.pid()), "task", String.valueOf(p.pid()),
        "children");
    Instant deadline = Instant.now().plusSeconds(10);
    while (Instant.now().isBefore(deadline)) {
      String s = Files.readString(children).trim();
      if (!s.isEmpty()) {
        return new Bystander(p, Integer.parseInt(s.split("\\s+")[0]));
      }
      Thread.sleep(10);
    }
    p.destroyForcibly();
    throw new IOException("unshare started no child within 10 s");
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
