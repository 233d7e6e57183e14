package io.livemig.loadtest.softdirty;

import io.livemig.loadtest.Repo;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

/** Drives src/main/c/pagepoke: a process that writes exactly the pages a test names. */
final class PagePoke implements AutoCloseable {
  static final long PAGE = 4096;

  private final Process process;
  private final Writer in;
  private final BufferedReader out;

  PagePoke() throws IOException {
    process = new ProcessBuilder(Repo.pagepoke().toString())
        .redirectError(ProcessBuilder.Redirect.INHERIT).start();
    in = new OutputStreamWriter(process.getOutputStream(), StandardCharsets.US_ASCII);
    out = new BufferedReader(new InputStreamReader(process.getInputStream(),
        StandardCharsets.US_ASCII));
  }

  int pid() {
    return (int) process.pid();
  }

  /** Maps and writes nrPages pages, huge pages advised on or off; returns their address. */
  long map(int nrPages, boolean thp) throws IOException {
    return Long.parseUnsignedLong(ask("map " + nrPages + (thp ? " thp" : " nothp")), 16);
  }

  void write(long addr, int... pages) throws IOException {
    ask("write " + Long.toHexString(addr) + list(pages));
  }

  long move(long addr, int nrPages) throws IOException {
    return Long.parseUnsignedLong(ask("move " + Long.toHexString(addr) + " " + nrPages), 16);
  }

  void unmap(long addr, int nrPages) throws IOException {
    ask("unmap " + Long.toHexString(addr) + " " + nrPages);
  }

  /** Empties nrPages pages from page first on with MADV_DONTNEED, then reads them. */
  void zap(long addr, int first, int nrPages) throws IOException {
    ask("zap " + Long.toHexString(addr) + " " + first + " " + nrPages);
  }

  /** Forks a child that writes only on {@link #childWrite}; returns its pid. */
  int fork() throws IOException {
    return Integer.parseInt(ask("fork"));
  }

  void childWrite(long addr, int... pages) throws IOException {
    ask("child-write " + Long.toHexString(addr) + list(pages));
  }

  /** kB of the mapping at addr backed by transparent huge pages. */
  long hugeKb(long addr) throws IOException {
    return Long.parseLong(ask("thp " + Long.toHexString(addr)));
  }

  private static String list(int[] pages) {
    return Arrays.stream(pages).mapToObj(p -> " " + p).collect(Collectors.joining());
  }

  private String ask(String command) throws IOException {
    in.write(command + "\n");
    in.flush();
    String answer = out.readLine();
    if (answer == null || answer.startsWith("ERR")) {
      throw new IOException("pagepoke: " + command + " -> " + answer);
    }
    return answer;
  }

  @Override
  public void close() throws Exception {
    try {
      in.write("exit\n");
      in.close();
    } catch (IOException alreadyGone) {
      // it ended by itself; waited for below
    }
    if (!process.waitFor(10, TimeUnit.SECONDS)) {
      process.destroyForcibly().waitFor();
    }
  }
}
