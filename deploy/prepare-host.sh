#!/usr/bin/env bash
# Installs what building, testing and running the agents needs on a Debian host, then CRIU.
# Idempotent; run as root. Prints the CRIU executable's path on its last line.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)

[ "$(id -u)" -eq 0 ] || { echo "prepare-host: run as root (sudo)" >&2; exit 1; }

need=()
command -v gcc >/dev/null || need+=(gcc libc6-dev)
command -v unshare >/dev/null || need+=(util-linux)
command -v ip >/dev/null || need+=(iproute2)
# deploy/make-certs.sh: the demo's and the tests' throw-away certificates.
command -v openssl >/dev/null || need+=(openssl)
command -v javac >/dev/null || need+=(openjdk-17-jdk-headless)
# The benchmark's baselines: link capacity, and copying CRIU's image files over the link.
command -v iperf3 >/dev/null || need+=(iperf3)
command -v nc >/dev/null || need+=(netcat-openbsd)
# The benchmark's third-party server workload; the tests start their own copies.
new_memcached=
[ -x /usr/bin/memcached ] || { need+=(memcached); new_memcached=1; }
if [ ${#need[@]} -gt 0 ]; then
  echo "prepare-host: installing ${need[*]}" >&2
  apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >&2
fi
# Debian starts the package's own service on 127.0.0.1:11211; nothing here needs it.
if [ -n "$new_memcached" ] && command -v systemctl >/dev/null; then
  systemctl disable --now memcached >&2 2>/dev/null || true
fi
"$here/install-criu.sh"
