package io.livemig.cli;

/** What the CLI's exit code says, for scripts and schedulers. */
enum ExitCode {
  /** The migration succeeded (or the command did what it was asked). */
  OK(0),
  /** The migration failed; the report says where the tree runs. */
  FAILED(1),
  /** Refused or not understood: bad arguments, no connection, no permission. */
  REFUSED(2),
  /** The migration was cancelled before its commit point; the source runs. */
  CANCELLED(3),
  /** Contact with the dump agent was lost: the outcome is unknown; ask with status. */
  UNKNOWN(4);

  final int code;

  ExitCode(int code) {
    this.code = code;
  }

  static final String HELP = "Exit codes: 0 success, 1 migration failed (the report says where"
      + " the tree runs), 2 refused or bad arguments, 3 cancelled (the source runs), 4 contact"
      + " lost (the outcome is unknown: ask with migrate status).";
}
