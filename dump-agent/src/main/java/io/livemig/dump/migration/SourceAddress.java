package io.livemig.dump.migration;

import io.livemig.common.network.HandoffException;
import io.livemig.common.network.HandoffStep;
import io.livemig.common.network.NftTables;
import io.livemig.common.network.ServiceAddress;
import io.livemig.dump.criu.CriuNetworkLock;
import io.livemig.proto.Step;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * The source's side of moving the service address with its tree: traffic held right before the
 * freeze, the address released once the source is gone, or the traffic let through again after
 * a failure; and CRIU's own connection lock, which outlives a committed dump. Steps after the
 * point of no return report their failures instead of throwing them.
 */
final class SourceAddress {
  /** Where the steps are reported, with their detail. */
  interface Phases {
    void phase(Step step, String detail);
  }

  private final String id;
  private final MigrationSettings settings;
  private final Phases phases;
  /** Whether the address's traffic is held on this host and must flow again on failure. */
  private boolean held;

  SourceAddress(String id, MigrationSettings settings, Phases phases) {
    this.id = id;
    this.settings = settings;
    this.phases = phases;
  }

  /** Holds the service address's traffic on this host, if the migration moves one. */
  void hold() throws HandoffException {
    if (settings.service().isPresent()) {
      settings.network().run(HandoffStep.HOLD, id, service());
      held = true;
      phases.phase(Step.STEP_HOLD_TRAFFIC, "traffic to service address " + service() + " held");
    }
  }

  /** What gives the held traffic back if this agent dies first; empty when none is held. */
  List<String> reclaimCommand() {
    return held ? settings.network().reclaimCommand(id, service()) : List.of();
  }

  /** The nftables table of criu dump --tcp-established, left after a committed dump. */
  void removeCriuLock(Path dumpDir) {
    if (!settings.criu().getTcpEstablished()) {
      return;
    }
    try {
      NftTables.deleteIfPresent(CriuNetworkLock.table(dumpDir));
    } catch (IOException e) {
      phases.phase(Step.STEP_CRIU_LOCK, "could not remove CRIU's connection lock: " + e.getMessage()
          + "; delete its nftables table CRIU-* on this host by hand");
    }
  }

  /** The source is gone: the address leaves this host. */
  void release() {
    if (!held) {
      return;
    }
    held = false;
    try {
      settings.network().run(HandoffStep.RELEASE, id, service());
      phases.phase(Step.STEP_RELEASE_ADDRESS, "service address " + service()
          + " released from this host");
    } catch (HandoffException e) {
      phases.phase(Step.STEP_RELEASE_ADDRESS, e.getMessage() + ": remove the address from this"
          + " host by hand, or clients may still be sent here");
    }
  }

  /** After a failure: the held traffic flows to the resumed tree again; adds to the error. */
  String reclaim() {
    if (!held) {
      return "";
    }
    held = false;
    try {
      settings.network().run(HandoffStep.RECLAIM, id, service());
      return "; traffic to service address " + service() + " flows again";
    } catch (HandoffException e) {
      return "; " + e.getMessage() + ": clients cannot reach the tree until an operator lets"
          + " its traffic through on this host";
    }
  }

  private ServiceAddress service() {
    return settings.service().orElseThrow();
  }
}
