package io.livemig.loadtest.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/** CPU time and peak memory of a process between {@link #start} and {@link #stop}. */
public final class AgentUsage {
  private static final double TICK = 100.0;
  private final long pid;
  private long cpuTicksAtStart;

  private AgentUsage(long pid) {
    this.pid = pid;
  }

  /** Resets the process's peak RSS (clear_refs 5) and notes its CPU time so far. */
  public static AgentUsage start(long pid) throws IOException {
    AgentUsage u = new AgentUsage(pid);
    Files.write(Path.of("/proc", String.valueOf(pid), "clear_refs"),
        "5".getBytes(StandardCharsets.US_ASCII));
    u.cpuTicksAtStart = cpuTicks(pid);
    return u;
  }

  public record Usage(double cpuSeconds, long peakRssBytes) {}

  public Usage stop() throws IOException {
    long hwmKb = 0;
    for (String line : Files.readAllLines(Path.of("/proc", String.valueOf(pid), "status"))) {
      if (line.startsWith("VmHWM:")) {
        hwmKb = Long.parseLong(line.replaceAll("\\D", ""));
      }
    }
    return new Usage((cpuTicks(pid) - cpuTicksAtStart) / TICK, hwmKb * 1024);
  }

  private static long cpuTicks(long pid) throws IOException {
    String stat = Files.readString(Path.of("/proc", String.valueOf(pid), "stat"));
    String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
    // Fields 14 and 15 of /proc/PID/stat (utime, stime) are at 11 and 12 after the comm field.
    return Long.parseLong(f[11]) + Long.parseLong(f[12]);
  }
}
