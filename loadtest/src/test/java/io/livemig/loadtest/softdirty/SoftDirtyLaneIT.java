package io.livemig.loadtest.softdirty;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.platform.engine.discovery.ClassNameFilter.includeClassNamePatterns;
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectPackage;

import io.livemig.loadtest.Repo;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.junit.platform.engine.support.descriptor.MethodSource;
import org.junit.platform.launcher.TestIdentifier;
import org.junit.platform.launcher.TestPlan;
import org.junit.platform.launcher.core.LauncherDiscoveryRequestBuilder;
import org.junit.platform.launcher.core.LauncherFactory;

/**
 * The soft-dirty lane (issue #11): this machine's kernel has no soft-dirty, so the *InGuest tests
 * run on Debian 12's stock kernel under QEMU TCG ({@code deploy/softdirty-vm.sh}), which sees
 * this machine's root file system, JDK, CRIU and build. Each guest test comes back as one test
 * here; a guest that does not come up, or a test that did not run there, fails.
 */
class SoftDirtyLaneIT {
  private static final long GUEST_MINUTES = 10;
  static final String GUEST_JVM = "-XX:TieredStopAtLevel=1";

  @TestFactory
  List<DynamicTest> guestTestsPassOnAKernelWithSoftDirty() throws Exception {
    Path root = Repo.root();
    Path out = root.resolve("loadtest/target/softdirty-lane");
    Files.createDirectories(out);
    Files.deleteIfExists(out.resolve("results.tsv"));
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    // Every JVM in the guest (this runner, the agents, the CLI) compiles with C1 only: under
    // TCG a C2 compilation costs more emulated time than it saves in a run of minutes.
    String command = String.join(" ", "cd", root.resolve("loadtest").toString(), "&&",
        "JAVA_TOOL_OPTIONS='" + GUEST_JVM + "'",
        System.getenv().containsKey("LIVEMIG_CRIU") ? "LIVEMIG_CRIU=" + System.getenv(
            "LIVEMIG_CRIU") : "", java,
        "-cp", System.getProperty("java.class.path"), GuestRunner.class.getName(),
        "/run/livemig-out/results.tsv");
    long start = System.nanoTime();
    Process vm = new ProcessBuilder(root.resolve("deploy/softdirty-vm.sh").toString(),
        out.toString(), command).redirectErrorStream(true)
        .redirectOutput(out.resolve("lane.log").toFile()).start();
    if (!vm.waitFor(GUEST_MINUTES + 2, TimeUnit.MINUTES)) {
      vm.destroyForcibly().waitFor();
      fail("the soft-dirty guest did not finish within " + GUEST_MINUTES + " minutes; see "
          + out.resolve("lane.log"));
    }
    String log = Files.readString(out.resolve("lane.log"));
    System.out.print(log);
    System.out.printf("soft-dirty lane: guest ran %.1f s%n", (System.nanoTime() - start) / 1e9);
    if (vm.exitValue() == 125 || !Files.exists(out.resolve("results.tsv"))) {
      fail("the soft-dirty guest did not come up or did not report (exit " + vm.exitValue()
          + "):\n" + log);
    }
    Map<String, String[]> results = new LinkedHashMap<>();
    for (String line : Files.readAllLines(out.resolve("results.tsv"))) {
      String[] f = line.split("\t", -1);
      // A name run more than once (a repeated or parameterized test) keeps its worst result.
      results.merge(f[1], f, (kept, next) -> kept[0].equals("SUCCESSFUL") ? next : kept);
    }
    List<DynamicTest> tests = new ArrayList<>();
    TreeSet<String> expected = expectedTests();
    assertFalse(expected.isEmpty(), "no *InGuest tests found on the class path");
    for (String name : expected) {
      tests.add(DynamicTest.dynamicTest(name, () -> {
        String[] r = results.get(name);
        if (r == null) {
          fail(name + " did not run in the guest; its output:\n" + log);
        }
        String failure = new String(Base64.getDecoder().decode(r[3]), StandardCharsets.UTF_8);
        assertEquals("SUCCESSFUL", r[0], name + " in the guest (" + r[2] + " ms):\n" + failure);
      }));
    }
    for (String name : results.keySet()) {
      if (!expected.contains(name)) {
        tests.add(DynamicTest.dynamicTest(name, () -> fail(name + " failed in the guest: "
            + new String(Base64.getDecoder().decode(results.get(name)[3]),
                StandardCharsets.UTF_8))));
      }
    }
    return tests;
  }

  /** Every test method of the *InGuest classes, as {@link GuestRunner} names them. */
  private static TreeSet<String> expectedTests() throws IOException {
    TestPlan plan = LauncherFactory.create().discover(LauncherDiscoveryRequestBuilder.request()
        .selectors(selectPackage(GuestRunner.class.getPackageName()))
        .filters(includeClassNamePatterns(".*InGuest")).build());
    TreeSet<String> names = new TreeSet<>();
    List<TestIdentifier> todo = new ArrayList<>(plan.getRoots());
    while (!todo.isEmpty()) {
      TestIdentifier id = todo.remove(todo.size() - 1);
      todo.addAll(plan.getChildren(id));
      id.getSource().filter(MethodSource.class::isInstance).map(MethodSource.class::cast)
          .filter(m -> id.isTest())
          .ifPresent(m -> names.add(m.getJavaClass().getSimpleName() + "#" + m.getMethodName()));
    }
    return names;
  }
}
