package io.livemig.cli;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.MessageOrBuilder;
import com.google.protobuf.util.JsonFormat;
import io.livemig.proto.MigrationProgress;
import io.livemig.proto.MigrationStatus;
import java.io.Console;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.time.Instant;
import picocli.CommandLine.Option;

/** How a command prints: for people (text), or one JSON object per line (a picocli mixin). */
final class Output {
  enum Format { text, json }

  enum Progress { auto, always, never }

  @Option(names = "--output", description = "text (default), or json: one JSON object per line"
      + " (progress events, the last of them the report; or statuses).")
  Format format = Format.text;

  @Option(names = "--progress", description = "The live progress bar of the running round and"
      + " the handoff, in text output: auto (default: on a terminal), always or never.")
  Progress progress = Progress.auto;

  private static final JsonFormat.Printer JSON = JsonFormat.printer()
      .omittingInsignificantWhitespace();

  /** Whether standard output is a terminal (not a pipe or a file). */
  boolean terminal = stdoutIsTerminal();
  private LiveLine live;

  boolean json() {
    return format == Format.json;
  }

  /** Whether the live progress bar is drawn: text output, on a terminal or when asked. */
  boolean drawsBar() {
    return !json() && (progress == Progress.always || progress == Progress.auto && terminal);
  }

  private synchronized LiveLine live() {
    if (live == null) {
      live = new LiveLine(drawsBar());
    }
    return live;
  }

  /** A progress event; in text, the report is left to the caller, which knows more. */
  void progress(PrintStream out, MigrationProgress p) {
    if (json()) {
      out.println(json(p));
      return;
    }
    switch (p.getEventCase()) {
      case ROUND_PROGRESS -> live().round(out, p.getRoundProgress());
      case ROUND -> live().line(out, ProgressFormat.round(p.getRound()));
      case PHASE -> live().phase(out, p.getPhase());
      default -> live().line(out, null);
    }
  }

  void status(PrintStream out, MigrationStatus s) {
    out.println(json() ? json(s) : String.format("%-24s %-10s %-16s pid %-7d -> %-21s since %s%s",
        s.getMigrationId(), s.getState(), s.getPhase(), s.getPid(), s.getDestination(),
        Instant.ofEpochMilli(s.getStartedUnixMs()), s.getCancelRequested()
            ? " (cancel requested)" : ""));
  }

  /** A note for people (skipped in json, whose readers parse every line). */
  void note(PrintStream out, String line) {
    if (!json()) {
      live().line(out, line);
    }
  }

  /**
   * System.console() is not null on a terminal; from Java 22 on it is not null either when
   * output is redirected, and Console.isTerminal tells.
   */
  private static boolean stdoutIsTerminal() {
    Console c = System.console();
    if (c == null) {
      return false;
    }
    try {
      return (Boolean) Console.class.getMethod("isTerminal").invoke(c);
    } catch (NoSuchMethodException beforeJava22) {
      return true;
    } catch (ReflectiveOperationException e) {
      return false;
    }
  }

  static String json(MessageOrBuilder m) {
    try {
      return JSON.print(m);
    } catch (InvalidProtocolBufferException e) {
      throw new UncheckedIOException(new java.io.IOException(e));
    }
  }
}
