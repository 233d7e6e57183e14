package io.livemig.restore.handoff;

import io.livemig.common.os.Incarnation;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A criu restore whose agent died while it ran: CRIU goes on without it and may leave a
 * restored, stopped copy that no journal names. It is found by its image folder on its
 * command line, awaited (killed past the timeout), and the copy its pidfile names is killed:
 * its source never heard of it, so it was given back.
 */
final class InterruptedRestore {
  private static final String PIDFILE = "restored.pid";

  private InterruptedRestore() {}

  /** Returns what was done, for the journal and the log. */
  static String settle(Path imagesOfRestore, Duration timeout) throws IOException {
    String dir = imagesOfRestore.toString();
    long deadline = System.nanoTime() + timeout.toNanos();
    List<Integer> running;
    while (!(running = restoresOf(dir)).isEmpty()) {
      if (System.nanoTime() - deadline > 0) {
        for (int pid : running) {
          try {
            Incarnation.of(pid).killAndAwait(DestinationHandoff.KILL_TIMEOUT);
          } catch (NoSuchFileException exited) {
            // ended by itself meanwhile
          }
        }
        break;
      }
      try {
        Thread.sleep(100);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IOException("interrupted while waiting for criu restore", e);
      }
    }
    Path pidfile = imagesOfRestore.resolve(PIDFILE);
    if (!Files.exists(pidfile)) {
      return "the interrupted restore left no copy";
    }
    int pid;
    try {
      pid = Integer.parseInt(Files.readString(pidfile).trim());
    } catch (NumberFormatException e) {
      return "the interrupted restore left an unreadable pidfile " + pidfile;
    }
    Incarnation copy;
    try {
      copy = Incarnation.of(pid);
    } catch (IOException gone) {
      return "the interrupted restore's copy, pid " + pid + ", is gone";
    }
    // A copy CRIU restored waits stopped; a stopped process with that pid is it, anything
    // else has the pid since (a reboot, say) and is left alone.
    if (copy.state().orElse(' ') != 'T') {
      return "the interrupted restore's copy, pid " + pid + ", is gone (the pid is another"
          + " process's now)";
    }
    copy.killAndAwait(DestinationHandoff.KILL_TIMEOUT);
    return "the interrupted restore's copy, pid " + pid + ", killed";
  }

  /** criu restore processes (or their wrappers) working on dir. */
  private static List<Integer> restoresOf(String dir) throws IOException {
    List<Integer> found = new ArrayList<>();
    try (DirectoryStream<Path> procs = Files.newDirectoryStream(Path.of("/proc"), "[0-9]*")) {
      for (Path p : procs) {
        List<String> args;
        try {
          args = Arrays.asList(new String(Files.readAllBytes(p.resolve("cmdline")),
              StandardCharsets.UTF_8).split("\0"));
        } catch (IOException exited) {
          continue;
        }
        if (args.contains("restore") && args.contains(dir)) {
          found.add(Integer.parseInt(p.getFileName().toString()));
        }
      }
    }
    return found;
  }
}
