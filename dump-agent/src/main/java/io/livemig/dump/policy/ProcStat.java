package io.livemig.dump.policy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** The fields of /proc/PID/stat that the scope looks at. */
record ProcStat(String comm, long flags) {
  /** include/linux/sched.h: the task is a kernel thread. */
  static final long PF_KTHREAD = 0x00200000;

  static ProcStat read(int pid) throws IOException {
    return parse(Files.readString(Path.of("/proc", String.valueOf(pid), "stat")));
  }

  /**
   * comm is in parentheses and may itself hold spaces and parentheses ("(a) (b)"), so the fields
   * after it start after the last ')'.
   */
  static ProcStat parse(String stat) {
    int open = stat.indexOf('(');
    int close = stat.lastIndexOf(')');
    String[] f = close > open && open > 0 ? stat.substring(close + 1).strip().split("\\s+")
        : new String[0];
    // state ppid pgrp session tty_nr tpgid flags ...
    if (f.length < 7) {
      throw new IllegalArgumentException("malformed /proc/PID/stat: " + stat);
    }
    return new ProcStat(stat.substring(open + 1, close), Long.parseLong(f[6]));
  }

  boolean kernelThread() {
    return (flags & PF_KTHREAD) != 0;
  }
}
