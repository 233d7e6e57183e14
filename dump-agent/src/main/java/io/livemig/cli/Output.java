package io.livemig.cli;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.MessageOrBuilder;
import com.google.protobuf.util.JsonFormat;
import io.livemig.proto.MigrationProgress;
import io.livemig.proto.MigrationStatus;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.time.Instant;
import java.util.List;
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

  /** Whether standard output is a terminal (not a pipe or a file). */
  boolean terminal = System.console() != null;
  /** Whether the live line is drawn now (the next line must erase it first). */
  private boolean drawn;
  private List<String> handoff = ProgressBar.PRECOPY_HANDOFF;

  private static final JsonFormat.Printer JSON = JsonFormat.printer()
      .omittingInsignificantWhitespace();

  boolean json() {
    return format == Format.json;
  }

  private boolean live() {
    return progress == Progress.always || progress == Progress.auto && terminal;
  }

  /** A progress event; in text, the report is left to the caller, which knows more. */
  void progress(PrintStream out, MigrationProgress p) {
    if (json()) {
      out.println(json(p));
      return;
    }
    switch (p.getEventCase()) {
      case ROUND_PROGRESS -> draw(out, ProgressBar.round(p.getRoundProgress()));
      case ROUND -> line(out, ProgressFormat.round(p.getRound()));
      case PHASE -> {
        line(out, ProgressFormat.phase(p.getPhase()));
        if (p.getPhase().getPhase().equals("hold-source")) {
          handoff = ProgressBar.POSTCOPY_HANDOFF;
        }
        String bar = ProgressBar.handoff(p.getPhase().getPhase(), handoff);
        if (bar != null) {
          draw(out, bar);
        }
      }
      default -> line(out, null);
    }
  }

  /** An event's line (null: none), above the live line, which it erases. */
  private void line(PrintStream out, String text) {
    if (drawn) {
      out.print(ProgressBar.CLEAR);
      drawn = false;
    }
    if (text != null) {
      out.println(text);
    }
  }

  /** Redraws the live line, when there is one. */
  private void draw(PrintStream out, String text) {
    if (live()) {
      out.print(ProgressBar.CLEAR + text);
      out.flush();
      drawn = true;
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
      out.println(line);
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
