package io.livemig.loadtest;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/** The workload's status line: "heartbeat MONO_NS REAL_NS steps=N state=running". */
public record Heartbeat(long realtimeNanos, long steps) {
  static final Heartbeat NONE = new Heartbeat(-1, -1);

  public static Heartbeat read(Path status) throws IOException {
    String line;
    try {
      line = Files.readString(status).trim();
    } catch (NoSuchFileException e) {
      return NONE;
    }
    String[] f = line.split("\\s+");
    if (f.length < 4 || !f[0].equals("heartbeat") || !f[3].startsWith("steps=")) {
      return NONE;
    }
    return new Heartbeat(Long.parseLong(f[2]), Long.parseLong(f[3].substring(6)));
  }
}
