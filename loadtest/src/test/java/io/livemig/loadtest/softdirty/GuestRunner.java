package io.livemig.loadtest.softdirty;

import static org.junit.platform.engine.discovery.ClassNameFilter.includeClassNamePatterns;
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectPackage;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.platform.engine.TestExecutionResult;
import org.junit.platform.engine.support.descriptor.MethodSource;
import org.junit.platform.launcher.Launcher;
import org.junit.platform.launcher.LauncherDiscoveryRequest;
import org.junit.platform.launcher.TestExecutionListener;
import org.junit.platform.launcher.TestIdentifier;
import org.junit.platform.launcher.core.LauncherDiscoveryRequestBuilder;
import org.junit.platform.launcher.core.LauncherFactory;

/**
 * Runs this package's *InGuest test classes inside the soft-dirty guest and writes one line per
 * test to a results file that {@link SoftDirtyLaneIT} reads back on the host:
 * {@code STATUS <tab> Class#method <tab> millis <tab> base64(failure)}. A test that never
 * started does not appear, so the host compares against what it expects.
 */
public final class GuestRunner {
  private GuestRunner() {}

  public static void main(String[] args) throws IOException {
    Path results = Path.of(args[0]);
    List<String> lines = new ArrayList<>();
    Map<String, Long> started = new ConcurrentHashMap<>();
    TestExecutionListener listener = new TestExecutionListener() {
      @Override
      public void executionStarted(TestIdentifier id) {
        started.put(id.getUniqueId(), System.nanoTime());
        if (id.isTest()) {
          System.out.println("guest test started: " + name(id));
        }
      }

      @Override
      public void executionSkipped(TestIdentifier id, String reason) {
        if (id.isTest()) {
          lines.add(line("SKIPPED", name(id), 0, reason));
        }
      }

      @Override
      public void executionFinished(TestIdentifier id, TestExecutionResult result) {
        long millis = (System.nanoTime() - started.getOrDefault(id.getUniqueId(),
            System.nanoTime())) / 1_000_000;
        String failure = result.getThrowable().map(GuestRunner::stackTrace).orElse("");
        if (id.isTest() || result.getStatus() != TestExecutionResult.Status.SUCCESSFUL) {
          // A failing container (a class whose set-up failed) is reported like a test.
          lines.add(line(result.getStatus().name(), name(id), millis, failure));
          System.out.println("guest test " + result.getStatus() + ": " + name(id) + " ("
              + millis + " ms)" + (failure.isEmpty() ? "" : "\n" + failure));
        }
      }
    };
    LauncherDiscoveryRequest request = LauncherDiscoveryRequestBuilder.request()
        .selectors(selectPackage(GuestRunner.class.getPackageName()))
        .filters(includeClassNamePatterns(".*InGuest"))
        .build();
    Launcher launcher = LauncherFactory.create();
    launcher.execute(request, listener);
    Files.write(results, lines, StandardCharsets.UTF_8);
  }

  private static String name(TestIdentifier id) {
    return id.getSource().filter(MethodSource.class::isInstance).map(MethodSource.class::cast)
        .map(m -> m.getJavaClass().getSimpleName() + "#" + m.getMethodName())
        .orElse(id.getDisplayName());
  }

  private static String line(String status, String name, long millis, String failure) {
    return status + "\t" + name + "\t" + millis + "\t"
        + Base64.getEncoder().encodeToString(failure.getBytes(StandardCharsets.UTF_8));
  }

  private static String stackTrace(Throwable t) {
    StringWriter w = new StringWriter();
    t.printStackTrace(new PrintWriter(w));
    return w.toString();
  }
}
