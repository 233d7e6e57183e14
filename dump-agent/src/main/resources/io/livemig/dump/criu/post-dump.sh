#!/bin/bash
# CRIU's action script for the dump agent's final dump (criu dump --action-script).
# At post-dump the tree is dumped and still frozen under CRIU, its TCP connections locked. This
# tells the agent so through the FIFO "dumped", then waits for its verdict on the FIFO "verdict":
# exit 0 (commit) lets CRIU end the tree, whose copy is restored on the destination; anything
# else makes CRIU unlock the network and resume the tree as it was. It gives up, which rolls
# back, when the agent is gone or no verdict came within LIVEMIG_VERDICT_TIMEOUT_S; then it
# also runs the agent's "on-abandon" command, if any, which lets the tree's held service
# traffic through again, as the agent would have.
[ "$CRTOOLS_SCRIPT_ACTION" = post-dump ] || exit 0
dir=$LIVEMIG_HANDOFF_DIR
# Read-write opens of a FIFO never block, whether or not the agent still has its end open.
exec 3<>"$dir/verdict" 4<>"$dir/dumped" || exit 2
echo dumped >&4
deadline=$((SECONDS + LIVEMIG_VERDICT_TIMEOUT_S))
while ((SECONDS < deadline)); do
  if read -r -t 1 verdict <&3; then
    [ "$verdict" = commit ] && exit 0
    exit 3
  fi
  kill -0 "$LIVEMIG_AGENT_PID" 2>/dev/null && continue
  [ -x "$dir/on-abandon" ] && "$dir/on-abandon" </dev/null >/dev/null 2>&1
  exit 4
done
[ -x "$dir/on-abandon" ] && "$dir/on-abandon" </dev/null >/dev/null 2>&1
exit 5
