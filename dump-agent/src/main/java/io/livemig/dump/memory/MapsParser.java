package io.livemig.dump.memory;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Parses /proc/PID/maps (also the header lines of /proc/PID/smaps; attribute lines are skipped). */
public final class MapsParser {
  private MapsParser() {}

  public static List<Vma> read(int pid) throws IOException {
    try (BufferedReader r = Files.newBufferedReader(Path.of("/proc", String.valueOf(pid), "maps"))) {
      return parse(r);
    }
  }

  public static List<Vma> parse(Reader source) throws IOException {
    BufferedReader r = source instanceof BufferedReader b ? b : new BufferedReader(source);
    List<Vma> vmas = new ArrayList<>();
    for (String line; (line = r.readLine()) != null; ) {
      Vma vma = parseLine(line);
      if (vma != null) {
        vmas.add(vma);
      }
    }
    return vmas;
  }

  /** A maps line, or null for an smaps attribute line ("Rss:   12 kB"). */
  static Vma parseLine(String line) {
    int dash = line.indexOf('-');
    int sp = line.indexOf(' ');
    if (dash <= 0 || sp < dash || !isHex(line, 0, dash)) {
      return null;
    }
    String[] f = line.split("\\s+", 6);
    if (f.length < 5) {
      throw new IllegalArgumentException("malformed maps line: " + line);
    }
    long start = Long.parseUnsignedLong(f[0].substring(0, dash), 16);
    long end = Long.parseUnsignedLong(f[0].substring(dash + 1), 16);
    long offset = Long.parseUnsignedLong(f[2], 16);
    long inode = Long.parseLong(f[4]);
    String path = f.length == 6 ? f[5].strip() : "";
    return new Vma(start, end, f[1], offset, f[3], inode, path);
  }

  private static boolean isHex(String s, int from, int to) {
    for (int i = from; i < to; i++) {
      if (Character.digit(s.charAt(i), 16) < 0) {
        return false;
      }
    }
    return true;
  }
}
