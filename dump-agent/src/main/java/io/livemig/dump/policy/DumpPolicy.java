package io.livemig.dump.policy;

import io.livemig.common.agent.HostPort;
import io.livemig.common.criu.CriuFlags;
import io.livemig.common.criu.CriuOptionAllowList;
import io.livemig.common.network.AddressPrefix;
import io.livemig.common.network.ServiceAddress;
import io.livemig.common.security.IdentityPattern;
import io.livemig.common.security.Peer;
import io.livemig.common.security.PeerAuthenticator;
import io.livemig.common.security.SpiffeId;
import io.livemig.proto.ClientGrant;
import io.livemig.proto.CriuOptions;
import io.livemig.proto.Destination;
import io.livemig.proto.DumpAgentPolicy;
import io.livemig.proto.DumpServiceGrpc;
import io.livemig.proto.Permission;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * The dump agent's policy file, checked: which clients may do what, and which restore agent
 * identity each destination must present. Without TLS there are no identities, and the agent
 * serves loopback only, so every local caller is allowed.
 */
public final class DumpPolicy implements PeerAuthenticator.Authorizer {
  private record Grant(IdentityPattern who, Set<Permission> allow) {}

  private record Dest(String host, String port, IdentityPattern identity) {}

  private final List<Grant> clients;
  private final List<Dest> destinations;
  private final Optional<String> trustDomain;
  private final SourceScope scope;
  private final CriuOptionAllowList criuOptions;
  private final List<AddressPrefix> servicePrefixes;

  private DumpPolicy(List<Grant> clients, List<Dest> destinations, Optional<String> trustDomain,
      SourceScope scope, CriuOptionAllowList criuOptions, List<AddressPrefix> servicePrefixes) {
    this.clients = clients;
    this.destinations = destinations;
    this.trustDomain = trustDomain;
    this.scope = scope;
    this.criuOptions = criuOptions;
    this.servicePrefixes = servicePrefixes;
  }

  /** @param self this agent's identity, whose trust domain the defaults are drawn from */
  public static DumpPolicy of(DumpAgentPolicy p, Optional<SpiffeId> self) {
    Optional<String> td = self.map(SpiffeId::trustDomain);
    List<Grant> clients = new ArrayList<>();
    for (ClientGrant g : p.getClientsList()) {
      if (g.getAllowCount() == 0) {
        throw new IllegalArgumentException("client grant for " + g.getIdentity()
            + " allows nothing");
      }
      clients.add(new Grant(IdentityPattern.parse(g.getIdentity()),
          EnumSet.copyOf(g.getAllowList())));
    }
    if (clients.isEmpty() && td.isPresent()) {
      clients.add(new Grant(IdentityPattern.anyNamed(td.get(), SpiffeId.Role.CLIENT),
          EnumSet.of(Permission.MIGRATE)));
    }
    List<Dest> dests = new ArrayList<>();
    for (Destination d : p.getDestinationsList()) {
      int colon = d.getAddress().lastIndexOf(':');
      if (colon <= 0) {
        throw new IllegalArgumentException("destination address '" + d.getAddress()
            + "' must be host:port or host:*");
      }
      dests.add(new Dest(d.getAddress().substring(0, colon), d.getAddress().substring(colon + 1),
          IdentityPattern.parse(d.getIdentity())));
    }
    ScopeRules rules = ScopeRules.defaults()
        .withAllowedCgroups(Set.copyOf(p.getScope().getCgroupsList()))
        .withAllowedUids(Set.copyOf(p.getScope().getUidsList()));
    if (p.getScope().getMaxTasks() > 0) {
      rules = rules.withMaxTasks(p.getScope().getMaxTasks());
    }
    return new DumpPolicy(List.copyOf(clients), List.copyOf(dests), td, new SourceScope(rules),
        CriuOptionAllowList.of(p.getAllowedCriuOptionsList(), CriuOptionAllowList.DUMP_DEFAULTS,
            p.getMaxGhostLimitBytes()),
        p.getServicePrefixesList().stream().map(AddressPrefix::parse).toList());
  }

  /**
   * Checks a request's CRIU options and service address against the policy.
   *
   * @throws IllegalArgumentException when they are malformed
   * @throws SecurityException when the policy does not allow them
   */
  public void checkRequest(CriuOptions options, Optional<ServiceAddress> service) {
    String denied = criuOptions.deny(options, CriuFlags.requested(options), "the dump agent");
    if (denied != null) {
      throw new SecurityException(denied);
    }
    if (service.isPresent()
        && servicePrefixes.stream().noneMatch(p -> p.contains(service.get()))) {
      throw new SecurityException("service address " + service.get() + " is not in the dump"
          + " agent's service_prefixes; an operator must list its range there before the agent"
          + " may take it off this host");
    }
  }

  /** What may be migrated. */
  public SourceScope scope() {
    return scope;
  }

  @Override
  public String deny(Peer peer, String method) {
    // Every call of the control API, a pre-flight or a list too, reads or changes what
    // migrations touch: one grant.
    return PeerAuthenticator.Authorizer.guarding(peer, method, CONTROL_METHODS,
        this::denyMigrate);
  }

  private static final Set<String> CONTROL_METHODS = DumpServiceGrpc.getServiceDescriptor()
      .getMethods().stream().map(m -> m.getFullMethodName())
      .collect(java.util.stream.Collectors.toUnmodifiableSet());

  private String denyMigrate(SpiffeId id) {
    for (Grant g : clients) {
      if (g.who().matches(id) && g.allow().contains(Permission.MIGRATE)) {
        return null;
      }
    }
    return id + " may not manage migrations: no client grant in the dump agent's policy allows"
        + " it MIGRATE";
  }

  /**
   * The identity the restore agent at destination ("host:port") must present; throws
   * SecurityException when this agent may not send there at all.
   */
  public IdentityPattern destinationIdentity(String destination) {
    HostPort target = HostPort.parse(destination);
    String host = target.host();
    String port = String.valueOf(target.port());
    if (destinations.isEmpty()) {
      if (trustDomain.isEmpty()) {
        // Plaintext: no identities to pin; InsecurePlaintext allows local addresses only.
        return IdentityPattern.none(SpiffeId.Role.RESTORE_AGENT);
      }
      String td = trustDomain.get();
      if (!host.matches("[A-Za-z0-9._-]{1,128}")) {
        throw new SecurityException("destination host '" + host + "' cannot name an identity;"
            + " list it in the policy's destinations");
      }
      return IdentityPattern.exactly(new SpiffeId(td, SpiffeId.Role.RESTORE_AGENT, host));
    }
    for (Dest d : destinations) {
      if (d.host().equals(host) && (d.port().equals("*") || d.port().equals(port))) {
        return d.identity();
      }
    }
    throw new SecurityException("destination " + destination + " is not in the dump agent's"
        + " policy; add it to \"destinations\" with the identity its restore agent presents");
  }
}
