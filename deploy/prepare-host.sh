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
# The agents' network handoff: holding a service address's traffic, announcing its new place.
command -v nft >/dev/null || need+=(nftables)
command -v arping >/dev/null || need+=(iputils-arping)
# Third-party servers the tests and the benchmark migrate; they start their own copies.
command -v python3 >/dev/null || need+=(python3)
new_services=()
[ -x /usr/bin/memcached ] || { need+=(memcached); new_services+=(memcached); }
[ -x /usr/bin/redis-server ] || { need+=(redis-server); new_services+=(redis-server); }
# Observability tests: a browser draws the trace view, a real Prometheus runs the dashboard's
# queries (each test starts its own on loopback).
[ -x /usr/lib/chromium/chromium ] || need+=(chromium)
[ -x /usr/bin/prometheus ] || { need+=(prometheus)
  new_services+=(prometheus prometheus-node-exporter); }
if [ ${#need[@]} -gt 0 ]; then
  echo "prepare-host: installing ${need[*]}" >&2
  apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >&2
fi
# Debian starts the packages' own services (Prometheus on every interface); nothing here needs
# them. One by one: a unit that is missing must not keep the others running.
if command -v systemctl >/dev/null; then
  for service in "${new_services[@]}"; do
    systemctl disable --now "$service" >&2 2>/dev/null || true
  done
fi
"$here/install-criu.sh"
