#!/usr/bin/env bash
# A complete migration on this host: a restore agent and a dump agent as separate processes, a
# 256 MiB workload that keeps dirtying memory, the migrate CLI moving it, and the restored
# workload checking every one of its pages. Run as root; leaves nothing running behind.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
criu=$("$repo/deploy/prepare-host.sh" | tail -1)
export LIVEMIG_CRIU="$criu"
cd "$repo"
./mvnw -B -ntp -q -DskipTests install
java -cp loadtest/target/loadtest.jar io.livemig.loadtest.Demo "$@"
