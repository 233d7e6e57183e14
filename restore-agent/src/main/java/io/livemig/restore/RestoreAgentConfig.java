package io.livemig.restore;

import io.livemig.common.network.NetworkHandoff;
import io.livemig.common.security.TransportSecurity;
import io.livemig.restore.policy.RestorePolicy;
import java.net.InetSocketAddress;
import java.nio.file.Path;

/**
 * Everything a restore agent is started with, in one place.
 *
 * @param network how service addresses arrive on this host with their trees
 * @param stateDir the journal: each migration's phase and copy, kept across restarts
 */
public record RestoreAgentConfig(InetSocketAddress address, Path imagesDir, boolean keepImages,
    TransportSecurity security, RestorePolicy policy, RestoreLimits limits,
    NetworkHandoff network, Path stateDir) {}
