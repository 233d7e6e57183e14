package io.livemig.dump.policy;

import io.livemig.common.os.ProcStat;
import java.io.File;
import java.io.IOException;
import java.lang.ProcessBuilder.Redirect;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.IntSupplier;

/** The processes a test starts, with stdio on /dev/null; close() kills each by its pid. */
public final class Spawned implements AutoCloseable {
  private static final Duration DEADLINE = Duration.ofSeconds(10);

  private final List<ProcessHandle> started = new ArrayList<>();

  public Process start(String... command) throws IOException {
    Process p = new ProcessBuilder(command).redirectInput(new File("/dev/null"))
        .redirectOutput(Redirect.DISCARD).redirectError(Redirect.DISCARD).start();
    started.add(p.toHandle());
    return p;
  }

  /**
   * Runs `unshare --pid --fork setsid COMMAND` and returns the pid of unshare's child, the init
   * of the new pid namespace, once it runs a program called comm.
   */
  public int inPidNamespace(String comm, String... command)
      throws IOException, InterruptedException {
    List<String> argv = new ArrayList<>(List.of("unshare", "--pid", "--fork", "setsid"));
    argv.addAll(List.of(command));
    return namespaceInit(comm, argv.toArray(String[]::new));
  }

  /**
   * Runs command, which starts a pid namespace somewhere below it, and returns the pid of that
   * namespace's init once it runs a program called comm.
   */
  public int namespaceInit(String comm, String... command)
      throws IOException, InterruptedException {
    Process p = start(command);
    int init = await("a pid namespace init below pid " + p.pid(), () -> initBelow(p.toHandle()));
    // Killed first: the whole namespace dies with its init.
    ProcessHandle.of(init).ifPresent(h -> started.add(0, h));
    await("pid " + init + " running " + comm, () -> comm.equals(comm(init)) ? init : 0);
    return init;
  }

  /** Polls until supplier gives a pid (non-zero), for at most DEADLINE. */
  public static int await(String what, IntSupplier supplier) throws InterruptedException {
    long end = System.nanoTime() + DEADLINE.toNanos();
    while (System.nanoTime() < end) {
      int pid = supplier.getAsInt();
      if (pid != 0) {
        return pid;
      }
      Thread.sleep(10);
    }
    throw new AssertionError("no " + what + " after " + DEADLINE.toSeconds() + " s");
  }

  public static String comm(int pid) {
    try {
      return ProcStat.read(pid).comm();
    } catch (IOException e) {
      return "";
    }
  }

  private static int initBelow(ProcessHandle process) {
    return process.descendants().mapToInt(h -> (int) h.pid()).filter(pid -> {
      try {
        return ProcStatus.read(pid).pidNamespaceInit();
      } catch (IOException notYetOrGone) {
        return false;
      }
    }).findFirst().orElse(0);
  }

  /** SIGKILL to each process started, by pid, then waits until each is gone. */
  @Override
  public void close() throws InterruptedException {
    for (ProcessHandle h : started) {
      h.destroyForcibly();
    }
    for (ProcessHandle h : started) {
      try {
        h.onExit().get(DEADLINE.toSeconds(), TimeUnit.SECONDS);
      } catch (ExecutionException | TimeoutException e) {
        throw new AssertionError("pid " + h.pid() + " did not exit", e);
      }
    }
    started.clear();
  }
}
