#!/usr/bin/env bash
# An example --network-hook for both agents: moves an IPv4 service address with ip(8), holds
# its traffic with nftables and announces it with arping, as the agents do themselves without
# a hook. Adapt it to where addresses really live (a cloud API, a load balancer, BGP).
#   dump-agent    ... --network-hook /path/network-hook-example.sh
#   restore-agent ... --network-hook /path/network-hook-example.sh
# with LIVEMIG_HOOK_DEVICE=<interface> in the restore agent's environment (where to attach the
# address). The agent runs it as: network-hook-example.sh STEP, with LIVEMIG_MIGRATION_ID and
# LIVEMIG_SERVICE_ADDRESS set; exit 0 means the step is done.
set -euo pipefail
step=$1
id=$LIVEMIG_MIGRATION_ID
addr=$LIVEMIG_SERVICE_ADDRESS
table=hook-$id

hold() {
  nft -f - <<NFT
table inet $table {
  chain hold {
    type filter hook input priority -300; policy accept;
    ip daddr $addr drop
  }
}
NFT
}

unhold() {
  if nft list tables inet | grep -qx "table inet $table"; then
    nft delete table inet "$table"
  fi
}

device_holding() {
  ip -o -4 addr show to "$addr/32" | awk '{print $2; exit}'
}

announce() {
  arping -q -U -c 3 -i 1 -I "$1" -s "$addr" "$addr" >/dev/null 2>&1 </dev/null &
}

case "$step" in
  hold)
    [ -n "$(device_holding)" ] || { echo "$addr is not on this host" >&2; exit 1; }
    hold ;;
  prepare)
    hold
    ip addr add "$addr/32" dev "${LIVEMIG_HOOK_DEVICE:?set LIVEMIG_HOOK_DEVICE}" || { unhold; exit 1; } ;;
  release|withdraw)
    dev=$(device_holding)
    [ -z "$dev" ] || ip addr del "$addr/32" dev "$dev"
    unhold ;;
  activate|reclaim)
    unhold
    dev=$(device_holding)
    [ -z "$dev" ] || announce "$dev" ;;
  *)
    echo "unknown step $step" >&2; exit 2 ;;
esac
