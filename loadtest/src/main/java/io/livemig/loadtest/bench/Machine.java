package io.livemig.loadtest.bench;

import io.livemig.common.criu.Criu;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/** What the numbers were measured on. */
final class Machine {
  private Machine() {}

  static Map<String, Object> describe(Criu criu) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("cpu", firstValue("/proc/cpuinfo", "model name"));
    m.put("cores", Runtime.getRuntime().availableProcessors());
    m.put("memory", firstValue("/proc/meminfo", "MemTotal"));
    m.put("kernel", firstLine("/proc/sys/kernel/osrelease"));
    m.put("os", firstValue("/etc/os-release", "PRETTY_NAME").replace("\"", ""));
    m.put("jdk", System.getProperty("java.vm.name") + " " + System.getProperty("java.version"));
    m.put("criu", criu.version());
    return m;
  }

  private static String firstValue(String file, String key) {
    try {
      for (String line : Files.readAllLines(Path.of(file))) {
        if (line.startsWith(key)) {
          return line.substring(line.indexOf(line.contains(":") ? ':' : '=') + 1).strip();
        }
      }
    } catch (IOException e) {
      return "unknown";
    }
    return "unknown";
  }

  private static String firstLine(String file) {
    try {
      return Files.readAllLines(Path.of(file)).get(0).strip();
    } catch (IOException | IndexOutOfBoundsException e) {
      return "unknown";
    }
  }
}
