package io.livemig.common.criu;

import io.livemig.proto.CriuOption;
import io.livemig.proto.CriuOptions;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;

/** Which CRIU options an agent's policy lets a migration use. */
public record CriuOptionAllowList(Set<CriuOption> allowed, long maxGhostLimitBytes) {
  /** What the dump agent allows unless its policy says otherwise: options for the tree alone. */
  public static final Set<CriuOption> DUMP_DEFAULTS = EnumSet.of(CriuOption.TCP_ESTABLISHED,
      CriuOption.TCP_CLOSE, CriuOption.FILE_LOCKS, CriuOption.GHOST_LIMIT);
  /** What the restore agent allows unless its policy says otherwise. */
  public static final Set<CriuOption> RESTORE_DEFAULTS = EnumSet.of(CriuOption.TCP_ESTABLISHED,
      CriuOption.TCP_CLOSE, CriuOption.FILE_LOCKS);
  private static final long DEFAULT_MAX_GHOST = 64L << 20;

  /** From a policy's list; an empty list means the defaults. */
  public static CriuOptionAllowList of(List<CriuOption> listed, Set<CriuOption> defaults,
      long maxGhostLimitBytes) {
    Set<CriuOption> allowed = EnumSet.noneOf(CriuOption.class);
    for (CriuOption o : listed) {
      if (o == CriuOption.CRIU_OPTION_UNSPECIFIED || o == CriuOption.UNRECOGNIZED) {
        throw new IllegalArgumentException("allowed_criu_options lists an unknown option");
      }
      allowed.add(o);
    }
    if (listed.isEmpty()) {
      allowed.addAll(defaults);
    }
    return new CriuOptionAllowList(Set.copyOf(allowed),
        maxGhostLimitBytes > 0 ? maxGhostLimitBytes : DEFAULT_MAX_GHOST);
  }

  /**
   * Why the options may not be used here, or null when they may.
   *
   * @param relevant the requested options this agent decides on
   * @param agent names the agent and its policy in the message, e.g. "the dump agent"
   */
  public String deny(CriuOptions options, Set<CriuOption> relevant, String agent) {
    Set<CriuOption> refused = EnumSet.noneOf(CriuOption.class);
    refused.addAll(relevant);
    refused.removeAll(allowed);
    if (!refused.isEmpty()) {
      return "CRIU option(s) " + refused + " not allowed by " + agent + "'s policy; an"
          + " operator may add them to its allowed_criu_options";
    }
    if (relevant.contains(CriuOption.GHOST_LIMIT)
        && options.getGhostLimitBytes() > maxGhostLimitBytes) {
      return "ghost limit " + options.getGhostLimitBytes() + " bytes is over " + agent
          + "'s max_ghost_limit_bytes of " + maxGhostLimitBytes;
    }
    return null;
  }
}
