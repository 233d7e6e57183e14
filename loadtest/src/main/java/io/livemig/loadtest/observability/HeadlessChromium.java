package io.livemig.loadtest.observability;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Debian's chromium, headless, for pages drawn by JavaScript: it renders a page as a browser
 * does and gives back the drawn DOM or a screenshot. Without a sandbox, because tests run as
 * root, where Chromium refuses its sandbox (and then exits 0 without output, hence the checks).
 */
public final class HeadlessChromium {
  private static final Path BINARY = Path.of("/usr/lib/chromium/chromium");
  /** Virtual time for the page's scripts to fetch and draw before the capture. */
  private static final String SETTLE_MS = "10000";
  private static final long TIMEOUT_S = 90;

  private final Path profile;

  /** @param profile a fresh folder for Chromium's profile and crash files */
  public HeadlessChromium(Path profile) {
    this.profile = profile;
  }

  /**
   * The page as drawn after its scripts ran in a window of width x height pixels (pages that
   * draw only the rows in view differ by size).
   */
  public String dom(String url, int width, int height) throws IOException,
      InterruptedException {
    Path out = profile.resolveSibling("dom-" + System.nanoTime() + ".html");
    run(out, "--dump-dom", "--window-size=" + width + "," + height, url);
    return Files.readString(out, StandardCharsets.UTF_8);
  }

  /** A PNG of the page, width x height pixels. */
  public Path screenshot(String url, Path png, int width, int height) throws IOException,
      InterruptedException {
    Files.deleteIfExists(png);
    run(profile.resolveSibling("screenshot.log"), "--screenshot=" + png,
        "--window-size=" + width + "," + height, url);
    if (!Files.exists(png)) {
      throw new IOException("chromium wrote no screenshot of " + url);
    }
    return png;
  }

  private void run(Path stdout, String... args) throws IOException, InterruptedException {
    if (!Files.isExecutable(BINARY)) {
      throw new IOException(BINARY + " is missing: install Debian's chromium package"
          + " (deploy/prepare-host.sh does)");
    }
    List<String> cmd = new ArrayList<>(List.of(BINARY.toString(), "--headless=new",
        "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--hide-scrollbars",
        "--no-first-run", "--user-data-dir=" + profile,
        "--virtual-time-budget=" + SETTLE_MS));
    cmd.addAll(List.of(args));
    Path err = profile.resolveSibling("chromium.err");
    Process p = new ProcessBuilder(cmd).redirectOutput(stdout.toFile())
        .redirectError(err.toFile()).start();
    if (!p.waitFor(TIMEOUT_S, TimeUnit.SECONDS)) {
      p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
      throw new IOException("chromium did not finish within " + TIMEOUT_S + " s: "
          + String.join(" ", cmd));
    }
    if (p.exitValue() != 0) {
      throw new IOException("chromium exited " + p.exitValue() + ": " + Files.readString(err));
    }
  }
}
