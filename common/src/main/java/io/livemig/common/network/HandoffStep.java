package io.livemig.common.network;

import java.util.Locale;

/**
 * The steps of moving a service address with its tree, in the order a migration runs them.
 * They are ordered so that no packet for the service reaches a tree that will not answer it:
 * traffic is held on the source from right before the freeze, and on the destination until the
 * copy runs. Held packets are dropped, not refused, so TCP peers retransmit them later.
 */
public enum HandoffStep {
  /**
   * Source, right before the freeze: incoming traffic for the address is held, so that no
   * connection or request arrives that the dump would miss. The address stays, so that what
   * the tree still sends until it is frozen goes out.
   */
  HOLD,
  /** Destination, before criu restore: the address is there for the sockets, traffic held. */
  PREPARE,
  /** Source, once the source tree is gone: the address leaves the source host. */
  RELEASE,
  /** Destination, once the copy runs: traffic is let through and the new place announced. */
  ACTIVATE,
  /** Destination, when its copy is removed after a failure: the address goes again. */
  WITHDRAW,
  /** Source, after a failure gave the tree back: its traffic flows again, announced. */
  RECLAIM;

  /** Which agent runs a step. */
  public enum Side {
    SOURCE,
    DESTINATION
  }

  public Side side() {
    return switch (this) {
      case HOLD, RELEASE, RECLAIM -> Side.SOURCE;
      case PREPARE, ACTIVATE, WITHDRAW -> Side.DESTINATION;
    };
  }

  /** The name hooks see as their argument, e.g. "hold". */
  public String argument() {
    return name().toLowerCase(Locale.ROOT);
  }
}
