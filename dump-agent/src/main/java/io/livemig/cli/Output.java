package io.livemig.cli;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.MessageOrBuilder;
import com.google.protobuf.util.JsonFormat;
import io.livemig.proto.MigrationProgress;
import io.livemig.proto.MigrationStatus;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.time.Instant;
import picocli.CommandLine.Option;

/** How a command prints: for people (text), or one JSON object per line (a picocli mixin). */
final class Output {
  enum Format { text, json }

  @Option(names = "--output", description = "text (default), or json: one JSON object per line"
      + " (progress events, the last of them the report; or statuses).")
  Format format = Format.text;

  private static final JsonFormat.Printer JSON = JsonFormat.printer()
      .omittingInsignificantWhitespace();

  boolean json() {
    return format == Format.json;
  }

  /** A progress event; in text, the report is left to the caller, which knows more. */
  void progress(PrintStream out, MigrationProgress p) {
    if (json()) {
      out.println(json(p));
      return;
    }
    switch (p.getEventCase()) {
      case ROUND -> out.println(ProgressFormat.round(p.getRound()));
      case PHASE -> out.println(ProgressFormat.phase(p.getPhase()));
      default -> { }
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
