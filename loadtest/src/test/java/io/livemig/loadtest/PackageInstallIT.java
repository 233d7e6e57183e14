package io.livemig.loadtest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.livemig.common.criu.Criu;
import io.livemig.proto.MigrationReport;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Debian package as an operator uses it: deploy/package/build-deb.sh builds it from this
 * checkout's jars, dpkg installs it on this machine, the operator edits /etc/livemig (TLS
 * files, ports, policy, CRIU), both agents start from the installed files exactly as their
 * systemd units say, the installed migrate command migrates a tree, and dpkg --purge stops the
 * agents and leaves nothing behind. This machine does not run systemd (PID 1 is not systemd),
 * so each unit's ExecStart runs with its EnvironmentFile instead of systemctl starting it, the
 * units are checked with systemd-analyze verify, and the package's prerm stops the agents
 * through the pid files its wrappers write (under systemd it calls systemctl stop).
 */
class PackageInstallIT {
  private static final String PACKAGE = "livemig";
  private static final Path ETC = Path.of("/etc/livemig");
  private static final List<String> AGENTS = List.of("restore-agent", "dump-agent");

  @TempDir
  Path dir;

  @Test
  void builtPackageInstallsItsAgentsRunAMigrationAndPurgeLeavesNothingRunning()
      throws Exception {
    // A real installation's keys and journals are not this test's to purge.
    assertFalse(installed(), PACKAGE + " is installed on this machine: this test installs and"
        + " purges it, so it runs only where it is not (dpkg --purge " + PACKAGE + " first on a"
        + " test machine)");
    String built = run("deploy/package/build-deb.sh", dir.resolve("deb").toString());
    Path deb = Path.of(built.strip().lines().reduce((a, b) -> b).orElseThrow());
    run("dpkg", "-i", deb.toString());
    Map<String, Process> agents = new LinkedHashMap<>();
    int copy = -1;
    try {
      for (String agent : AGENTS) {
        run("systemd-analyze", "verify", unit(agent).toString());
      }
      Map<String, Integer> ports = configure();
      for (String agent : AGENTS) {
        agents.put(agent, startUnit(agent));
      }
      Path report = dir.resolve("report.json");
      try (Workload w = Workload.memload(Repo.memload(), dir.resolve("w"), 32, 2, "hot")) {
        List<String> cli = new ArrayList<>(List.of("/usr/bin/migrate", "--from",
            LocalCluster.HOST + ":" + ports.get("dump-agent"), "--to",
            LocalCluster.HOST + ":" + ports.get("restore-agent"), "--pid",
            String.valueOf(w.pid()), "--report-json", report.toString()));
        cli.addAll(Pki.in(dir.resolve("pki")).flags("client", "ops"));
        String out = run(cli.toArray(String[]::new));
        MigrationReport r = LocalCluster.readReport(report);
        copy = r.getRestoredRootPid();
        assertTrue(r.getSuccess(), out);
        assertTrue(Files.exists(Path.of("/proc", String.valueOf(copy))), "the copy runs");
      }
      run("dpkg", "--purge", PACKAGE);
      for (Map.Entry<String, Process> a : agents.entrySet()) {
        Await.until(a.getKey() + " stopped by the package's removal", Duration.ofSeconds(120),
            () -> !a.getValue().isAlive());
      }
      for (Path left : List.of(ETC, Path.of("/usr/share/livemig"), Path.of("/var/lib/livemig"),
          Path.of("/usr/bin/migrate"), unit("dump-agent"), unit("restore-agent"))) {
        assertFalse(Files.exists(left), left + " is left after purge");
      }
    } finally {
      if (copy > 0) {
        Workload.kill(copy);
      }
      for (Process p : agents.values()) {
        p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
      }
      if (installed()) {
        purge();
      }
    }
  }

  /** What an operator writes into /etc/livemig: ports, TLS files, policy, CRIU; returns ports. */
  private Map<String, Integer> configure() throws Exception {
    Pki pki = Pki.in(dir.resolve("pki"));
    Path tls = ETC.resolve("tls");
    Files.copy(pki.issue("dump-agent", LocalCluster.HOST).ca(), tls.resolve("ca.pem"));
    Map<String, Integer> ports = new HashMap<>();
    for (String agent : AGENTS) {
      pki.issue(agent, LocalCluster.HOST);
      Files.copy(pki.cert(agent, LocalCluster.HOST), tls.resolve(agent + ".pem"));
      Files.copy(pki.key(agent, LocalCluster.HOST), tls.resolve(agent + ".key"));
      int port = AgentProcess.freePort();
      ports.put(agent, port);
      Map<String, String> settings = new LinkedHashMap<>(Map.of("port", String.valueOf(port),
          "tls-ca", tls.resolve("ca.pem").toString(),
          "tls-cert", tls.resolve(agent + ".pem").toString(),
          "tls-key", tls.resolve(agent + ".key").toString(),
          "criu", Criu.locate(null).executable().toString(), "warmup-mib", "0"));
      if (agent.equals("restore-agent")) {
        Path policy = Files.writeString(ETC.resolve("restore-policy.json"),
            LocalCluster.RESTORE_ROOT_POLICY);
        settings.put("policy", policy.toString());
      }
      edit(ETC.resolve(agent + ".conf"), settings);
    }
    return ports;
  }

  /** Sets each name in the file: its line, commented out or not, or a new one at the end. */
  private static void edit(Path conf, Map<String, String> settings) throws IOException {
    List<String> lines = new ArrayList<>(Files.readAllLines(conf));
    for (Map.Entry<String, String> s : settings.entrySet()) {
      String line = s.getKey() + " = " + s.getValue();
      int at = -1;
      for (int i = 0; i < lines.size() && at < 0; i++) {
        if (lines.get(i).matches("#?" + s.getKey() + " = .*")) {
          at = i;
        }
      }
      if (at >= 0) {
        lines.set(at, line);
      } else {
        lines.add(line);
      }
    }
    Files.write(conf, lines);
  }

  private static Path unit(String agent) {
    return Path.of("/lib/systemd/system/livemig-" + agent + ".service");
  }

  /** Runs the unit's ExecStart with its EnvironmentFile, as systemd would; waits until it serves. */
  private Process startUnit(String agent) throws Exception {
    List<String> unit = Files.readAllLines(unit(agent));
    String exec = value(unit, "ExecStart");
    Map<String, String> env = new HashMap<>();
    Path envFile = Path.of(value(unit, "EnvironmentFile").replaceFirst("^-", ""));
    for (String line : Files.readAllLines(envFile)) {
      if (!line.isBlank() && !line.startsWith("#")) {
        env.put(line.substring(0, line.indexOf('=')), line.substring(line.indexOf('=') + 1));
      }
    }
    Path log = dir.resolve(agent + ".log");
    ProcessBuilder pb = new ProcessBuilder(Arrays.asList(exec.split(" ")))
        .redirectErrorStream(true).redirectOutput(log.toFile());
    pb.environment().putAll(env);
    Process p = pb.start();
    Await.until(agent + " listening (log " + log + ")", Duration.ofSeconds(120), () -> {
      if (!p.isAlive()) {
        throw new IOException(agent + " exited: " + Files.readString(log));
      }
      return Files.readString(log).contains(agent + " listening on");
    });
    return p;
  }

  private static String value(List<String> unit, String key) {
    return unit.stream().filter(l -> l.startsWith(key + "=")).findFirst()
        .map(l -> l.substring(key.length() + 1)).orElseThrow(() -> new AssertionError(
            "no " + key + " in the unit"));
  }

  private static boolean installed() throws Exception {
    Process p = new ProcessBuilder("dpkg-query", "-W", "-f=${Status}", PACKAGE)
        .redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes());
    return p.waitFor() == 0 && out.contains("installed") && !out.contains("not-installed");
  }

  private static void purge() throws Exception {
    Process p = new ProcessBuilder("dpkg", "--purge", PACKAGE).redirectErrorStream(true)
        .start();
    String out = new String(p.getInputStream().readAllBytes());
    assertEquals(0, p.waitFor(), out);
  }

  private static String run(String... cmd) throws Exception {
    Process p = new ProcessBuilder(cmd).directory(Repo.root().toFile())
        .redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes());
    if (!p.waitFor(5, TimeUnit.MINUTES)) {
      p.destroyForcibly();
      throw new AssertionError(String.join(" ", cmd) + " did not finish: " + out);
    }
    assertEquals(0, p.exitValue(), String.join(" ", cmd) + ":\n" + out);
    return out;
  }
}
