#!/usr/bin/env bash
# The project's test command: prepares the host (JDK, gcc, CRIU), then builds and runs every
# test, unit and end-to-end. Run as root from anywhere.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
criu=$("$repo/deploy/prepare-host.sh" | tail -1)
export LIVEMIG_CRIU="$criu"
cd "$repo"
./mvnw -B -ntp verify "$@"
