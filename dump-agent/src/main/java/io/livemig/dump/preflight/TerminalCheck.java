package io.livemig.dump.preflight;

import io.livemig.common.os.ProcStat;
import io.livemig.common.os.ProcessTree;
import io.livemig.proto.PreflightCheckName;
import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * No process of the tree holds a pseudo-terminal whose master end is outside the tree, as a
 * workload started from a shell does with its stdio: CRIU cannot dump half a terminal ("Found
 * slave peer index N without correspond master peer"), and finds out only after the freeze.
 */
final class TerminalCheck implements TreeCheck {
  private static final Pattern PTS = Pattern.compile("/dev/pts/(\\d+)");
  private static final Set<String> PTMX = Set.of("/dev/ptmx", "/dev/pts/ptmx");
  private static final Pattern TTY_INDEX = Pattern.compile("(?m)^tty-index:\\s*(\\d+)$");
  private static final List<String> STDIO = List.of("stdin", "stdout", "stderr");

  @Override
  public PreflightCheckName name() {
    return PreflightCheckName.CHECK_TERMINALS;
  }

  @Override
  public String passed() {
    return "no terminal of the tree has its other end outside it";
  }

  @Override
  public Optional<String> problem(ProcessTree tree) throws IOException {
    Set<Integer> masters = new HashSet<>();
    for (ProcessTree.Task t : tree.tasks()) {
      for (Map.Entry<Integer, String> fd : fds(t.pid()).entrySet()) {
        masterIndex(t.pid(), fd.getKey(), fd.getValue()).ifPresent(masters::add);
      }
    }
    for (ProcessTree.Task t : tree.tasks()) {
      for (Map.Entry<Integer, String> fd : fds(t.pid()).entrySet()) {
        Matcher m = PTS.matcher(fd.getValue());
        if (m.matches() && !masters.contains(Integer.parseInt(m.group(1)))) {
          int fdNum = fd.getKey();
          String as = fdNum < STDIO.size() ? STDIO.get(fdNum) + " (fd " + fdNum + ")"
              : "fd " + fdNum;
          return Optional.of(TreeCheck.who(tree, t.pid(), ProcStat.read(t.pid()).comm())
              + " has terminal " + fd.getValue() + " open as its " + as + ", and the other end"
              + " of that terminal is held by " + masterHolder(Integer.parseInt(m.group(1)))
              + ", outside the tree; CRIU cannot dump half a terminal; start the workload with"
              + " its stdio redirected away from the terminal, e.g."
              + " `unshare --pid --fork setsid CMD </dev/null >LOG 2>&1`");
        }
      }
    }
    return Optional.empty();
  }

  /** fd number to link target; fds closed while listing are left out. */
  private static Map<Integer, String> fds(int pid) throws IOException {
    Map<Integer, String> out = new LinkedHashMap<>();
    try (Stream<Path> list = Files.list(Path.of("/proc", String.valueOf(pid), "fd"))) {
      for (Path fd : (Iterable<Path>) list.sorted()::iterator) {
        try {
          out.put(Integer.parseInt(fd.getFileName().toString()),
              Files.readSymbolicLink(fd).toString());
        } catch (NoSuchFileException closed) {
          // closed meanwhile: nothing to dump
        }
      }
    }
    return out;
  }

  /** The pts index of a pseudo-terminal master, from its fdinfo. */
  private static OptionalInt masterIndex(int pid, int fd, String target) throws IOException {
    if (!PTMX.contains(target)) {
      return OptionalInt.empty();
    }
    try {
      Matcher m = TTY_INDEX.matcher(Files.readString(Path.of("/proc", String.valueOf(pid),
          "fdinfo", String.valueOf(fd))));
      return m.find() ? OptionalInt.of(Integer.parseInt(m.group(1))) : OptionalInt.empty();
    } catch (NoSuchFileException closed) {
      return OptionalInt.empty();
    }
  }

  /** Who holds the master of /dev/pts/index, for the message; a scan of every process. */
  private static String masterHolder(int index) throws IOException {
    try (Stream<Path> procs = Files.list(Path.of("/proc"))) {
      for (Path p : (Iterable<Path>) procs::iterator) {
        String name = p.getFileName().toString();
        if (!name.chars().allMatch(Character::isDigit)) {
          continue;
        }
        int pid = Integer.parseInt(name);
        try {
          for (Map.Entry<Integer, String> fd : fds(pid).entrySet()) {
            if (masterIndex(pid, fd.getKey(), fd.getValue()).orElse(-1) == index) {
              return "pid " + pid + " (" + ProcStat.read(pid).comm() + ")";
            }
          }
        } catch (NoSuchFileException | AccessDeniedException gone) {
          // exited while scanning, or not ours to read
        }
      }
    }
    return "no process left (its master was closed)";
  }
}
