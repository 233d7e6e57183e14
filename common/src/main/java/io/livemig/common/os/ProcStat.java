package io.livemig.common.os;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

/**
 * A process's /proc/PID/stat: its command name and the fields after it.
 *
 * @param fields field 3 of proc(5) (state) onwards: state, ppid, pgrp, session, tty_nr, tpgid,
 *     flags, ... starttime at index 19
 */
public record ProcStat(String comm, List<String> fields) {
  /** include/linux/sched.h: the task is a kernel thread. */
  static final long PF_KTHREAD = 0x00200000;
  /** include/linux/sched.h: the task is being torn down (its memory may be gone already). */
  static final long PF_EXITING = 0x00000004;

  public static ProcStat read(int pid) throws IOException {
    return parse(Files.readString(Path.of("/proc", String.valueOf(pid), "stat")));
  }

  /**
   * comm is in parentheses and may itself hold spaces and parentheses ("(a) (b)"), so the fields
   * after it start after the last ')'.
   */
  public static ProcStat parse(String stat) {
    int open = stat.indexOf('(');
    int close = stat.lastIndexOf(')');
    String[] f = close > open && open > 0 ? stat.substring(close + 1).strip().split("\\s+")
        : new String[0];
    if (f.length < 7) {
      throw new IllegalArgumentException("malformed /proc/PID/stat: " + stat);
    }
    return new ProcStat(stat.substring(open + 1, close), List.copyOf(Arrays.asList(f)));
  }

  public char state() {
    return fields.get(0).charAt(0);
  }

  public long flags() {
    return Long.parseLong(fields.get(6));
  }

  public boolean kernelThread() {
    return (flags() & PF_KTHREAD) != 0;
  }

  /** Clock ticks after boot: with the pid, what tells this process from a later one. */
  public long startTime() {
    return Long.parseLong(fields.get(19));
  }

  /** Dead, or a zombie waiting for its parent: it holds no memory, sockets or locks any more. */
  public boolean exited() {
    return state() == 'Z' || state() == 'X';
  }

  /**
   * Exited, or on its way out (killed, say) while the kernel still tears it down: it will not
   * run again, though it may still hold what it had.
   */
  public boolean exiting() {
    return exited() || (flags() & PF_EXITING) != 0;
  }
}
