package io.livemig.restore.policy;

import io.livemig.common.criu.CriuOptionAllowList;
import io.livemig.common.network.AddressPrefix;
import io.livemig.common.network.ServiceAddress;
import io.livemig.common.security.IdentityPattern;
import io.livemig.common.security.Peer;
import io.livemig.common.security.PeerAuthenticator;
import io.livemig.common.security.SpiffeId;
import io.livemig.proto.ExternalMountPath;
import io.livemig.proto.IdRange;
import io.livemig.proto.RestoreAgentPolicy;
import io.livemig.proto.RestoreServiceGrpc;
import io.livemig.proto.ServiceRoute;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The restore agent's policy file, checked: which dump agents may send migrations, and what the
 * restored tasks may be (their ids and their number). Without TLS there are no identities and
 * the agent serves loopback only, so every local sender is allowed; the task rules still hold.
 */
public final class RestorePolicy implements PeerAuthenticator.Authorizer {
  static final int DEFAULT_MAX_TASKS = 4096;
  /** Everything but root: a compromised source host must not gain root here by default. */
  static final List<IdRange> NOT_ROOT = List.of(IdRange.newBuilder().setFirst(1)
      .setLast(0xFFFF_FFFE).build());

  private final List<IdentityPattern> sources;
  private final List<IdRange> uids;
  private final List<IdRange> gids;
  private final int maxTasks;
  private final boolean capabilities;
  private final CriuOptionAllowList criuOptions;
  private final Map<AddressPrefix, String> serviceDevices;
  private final Map<String, String> mountPaths;

  private RestorePolicy(List<IdentityPattern> sources, List<IdRange> uids, List<IdRange> gids,
      int maxTasks, boolean capabilities, CriuOptionAllowList criuOptions,
      Map<AddressPrefix, String> serviceDevices, Map<String, String> mountPaths) {
    this.sources = sources;
    this.uids = uids;
    this.gids = gids;
    this.maxTasks = maxTasks;
    this.capabilities = capabilities;
    this.criuOptions = criuOptions;
    this.serviceDevices = serviceDevices;
    this.mountPaths = mountPaths;
  }

  /** @param self this agent's identity, whose trust domain the defaults are drawn from */
  public static RestorePolicy of(RestoreAgentPolicy p, Optional<SpiffeId> self) {
    List<IdentityPattern> sources = new ArrayList<>();
    p.getSourcesList().forEach(s -> sources.add(IdentityPattern.parse(s)));
    if (sources.isEmpty() && self.isPresent()) {
      sources.add(IdentityPattern.anyNamed(self.get().trustDomain(), SpiffeId.Role.DUMP_AGENT));
    }
    for (IdRange r : concat(p.getUidsList(), p.getGidsList())) {
      if (Integer.compareUnsigned(r.getFirst(), r.getLast()) > 0) {
        throw new IllegalArgumentException("id range " + r.getFirst() + "-" + r.getLast()
            + " is empty");
      }
    }
    Map<AddressPrefix, String> devices = new LinkedHashMap<>();
    for (ServiceRoute r : p.getServiceAddressesList()) {
      if (!r.getDevice().matches("[A-Za-z0-9._@-]{1,15}")) {
        throw new IllegalArgumentException("service address device '" + r.getDevice()
            + "' is not an interface name");
      }
      devices.put(AddressPrefix.parse(r.getPrefix()), r.getDevice());
    }
    Map<String, String> mounts = new LinkedHashMap<>();
    for (ExternalMountPath m : p.getExternalMountsList()) {
      if (!m.getPath().startsWith("/") || m.getPath().contains("..")) {
        throw new IllegalArgumentException("external mount path '" + m.getPath()
            + "' must be absolute, without ..");
      }
      mounts.put(m.getKey(), m.getPath());
    }
    return new RestorePolicy(List.copyOf(sources),
        p.getUidsCount() > 0 ? p.getUidsList() : NOT_ROOT,
        p.getGidsCount() > 0 ? p.getGidsList() : NOT_ROOT,
        p.getMaxTasks() > 0 ? p.getMaxTasks() : DEFAULT_MAX_TASKS, p.getAllowCapabilities(),
        CriuOptionAllowList.of(p.getAllowedCriuOptionsList(),
            CriuOptionAllowList.RESTORE_DEFAULTS, 0),
        Collections.unmodifiableMap(devices), Map.copyOf(mounts));
  }

  private static List<IdRange> concat(List<IdRange> a, List<IdRange> b) {
    List<IdRange> all = new ArrayList<>(a);
    all.addAll(b);
    return all;
  }

  @Override
  public String deny(Peer peer, String method) {
    return PeerAuthenticator.Authorizer.guarding(peer, method,
        Set.of(RestoreServiceGrpc.getMigrateMethod().getFullMethodName(),
            RestoreServiceGrpc.getDescribeCriuMethod().getFullMethodName(),
            RestoreServiceGrpc.getReconcileMethod().getFullMethodName(),
            RestoreServiceGrpc.getPostcopyMethod().getFullMethodName()), this::denySource);
  }

  private String denySource(SpiffeId id) {
    for (IdentityPattern p : sources) {
      if (p.matches(id)) {
        return null;
      }
    }
    return id + " is not a dump agent this restore agent accepts migrations from (policy"
        + " \"sources\": " + sources + ")";
  }

  public CriuOptionAllowList criuOptions() {
    return criuOptions;
  }

  /** Where service addresses may be attached here: the interface for each range. */
  public Map<AddressPrefix, String> serviceDevices() {
    return serviceDevices;
  }

  public boolean serviceAddressAllowed(ServiceAddress a) {
    return serviceDevices.keySet().stream().anyMatch(p -> p.contains(a));
  }

  /** Host paths external mounts may be bound to, by key. */
  public Map<String, String> mountPaths() {
    return mountPaths;
  }

  public int maxTasks() {
    return maxTasks;
  }

  public boolean capabilitiesAllowed() {
    return capabilities;
  }

  public boolean uidAllowed(long uid) {
    return inside(uids, uid);
  }

  public boolean gidAllowed(long gid) {
    return inside(gids, gid);
  }

  private static boolean inside(List<IdRange> ranges, long id) {
    for (IdRange r : ranges) {
      if (Integer.toUnsignedLong(r.getFirst()) <= id && id <= Integer.toUnsignedLong(r.getLast())) {
        return true;
      }
    }
    return false;
  }

  /** For logs: what this agent accepts. */
  @Override
  public String toString() {
    return "sources " + sources + ", uids " + describe(uids) + ", gids " + describe(gids)
        + ", at most " + maxTasks + " tasks, capabilities "
        + (capabilities ? "allowed" : "refused");
  }

  private static String describe(List<IdRange> ranges) {
    List<String> out = new ArrayList<>();
    for (IdRange r : ranges) {
      out.add(Integer.toUnsignedString(r.getFirst()) + "-" + Integer.toUnsignedString(r.getLast()));
    }
    return String.join(",", out);
  }
}
