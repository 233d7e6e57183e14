package io.livemig.restore;

import io.livemig.common.security.TransportSecurity;
import io.livemig.restore.policy.RestorePolicy;
import java.net.InetSocketAddress;
import java.nio.file.Path;

/** Everything a restore agent is started with, in one place. */
public record RestoreAgentConfig(InetSocketAddress address, Path imagesDir, boolean keepImages,
    TransportSecurity security, RestorePolicy policy, RestoreLimits limits) {}
