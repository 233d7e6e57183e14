package io.livemig.loadtest.bench;

import io.livemig.proto.PostcopyReport;
import java.util.List;

/** The report's post-copy section: the handoff's pause against both of CRIU's, and after. */
final class PostcopyTable {
  static final String METHOD = "migrate --mode postcopy: the pre-copy rounds as in the other"
      + " cases, then `criu dump --lazy-pages` freezes the tree and dumps all but its private"
      + " memory, the copy is restored with `criu restore --lazy-pages` and runs, the restore"
      + " agent handling its userfaultfds; its pages come from its pre-copy images where"
      + " unchanged, else from the frozen source (on demand, or pushed). \"all pages in\" runs"
      + " from the copy's resume to the last page. Fault latency runs from a fault to its page"
      + " being in, waits on the source included."
      + " \"pace\" is the workload's steps per second during post-copy against the second"
      + " before the migration. CRIU lazy = `criu dump --lazy-pages` on hostA, the other images"
      + " through tar|nc, `criu lazy-pages --page-server` and `criu restore --lazy-pages -d` on"
      + " hostB, of a fresh workload with memory warmed the same way; its downtime ends when"
      + " the restore returns.\n\n";

  private PostcopyTable() {}

  static String of(List<CaseResult> results) {
    StringBuilder b = new StringBuilder("| case | downtime s (agents / heartbeat) |"
        + " dump / images / restore s | CRIU stop-and-copy s (ratio) | CRIU lazy s (ratio) |"
        + " all pages in s | pages from pre-copy / pushed / demanded | faults p50 / p99 ms |"
        + " pace | verify |\n|---|---|---|---|---|---|---|---|---|---|\n");
    for (CaseResult r : results) {
      if (!r.benchCase().postcopy()) {
        continue;
      }
      PostcopyReport p = r.ours().getPostcopy();
      b.append(String.format("| %s | %s | %.3f / %.3f / %.3f | %s | %s | %.1f | %d / %d / %d |"
              + " %.2f / %.2f | %s | %s |%n", r.benchCase().label(),
          r.ours().getSuccess() ? String.format("%.3f / %.3f", r.ours().getDowntimeUs() / 1e6,
              r.oursHeartbeatGapNanos() / 1e9) : "FAILED: " + r.ours().getError(),
          r.ours().getFreezeDumpUs() / 1e6, r.ours().getFinalTransferUs() / 1e6,
          r.ours().getRestoreUs() / 1e6,
          r.criu() == null ? "-" : String.format("%.3f (%.2f)", r.criu().downtimeNanos() / 1e9,
              r.downtimeRatio()),
          lazy(r), p.getCompleteUs() / 1e6, p.getPagesFromPrecopy(), p.getPagesPushed(),
          p.getPagesDemanded(), p.getFaultP50Us() / 1e3, p.getFaultP99Us() / 1e3,
          r.progress().postcopyShare() > 0 ? String.format("%.0f%%",
              100 * r.progress().postcopyShare()) : "-",
          r.oursVerify().startsWith("verify OK") ? "OK" : r.oursVerify()));
    }
    return b.toString();
  }

  private static String lazy(CaseResult r) {
    if (r.criuLazy() == null) {
      return "-";
    }
    if (!r.criuLazy().success()) {
      return "failed: " + r.criuLazy().failure().replace('|', '/');
    }
    return String.format("%.3f (%.2f); all pages in %.1f s", r.criuLazy().downtimeNanos() / 1e9,
        r.downtimeRatioToCriuLazy(), r.criuLazy().allPagesInNanos() / 1e9);
  }
}
