#!/bin/bash
# CRIU's action script for the dump agent's final dump (criu dump --action-script).
# At post-dump the tree is dumped and still frozen under CRIU, its TCP connections locked. This
# tells the agent so through the FIFO "dumped", then waits for its verdict on the FIFO "verdict":
# exit 0 (commit) lets CRIU end the tree, whose copy is restored on the destination; anything
# else makes CRIU unlock the network and resume the tree as it was. It gives up, which rolls
# back, when the agent is gone or no verdict came within LIVEMIG_VERDICT_TIMEOUT_S.
#
# At pre-dump it says "freezing" on the FIFO "dumped" and starts a watcher beside CRIU that
# outlives it: if the agent dies before the
# migration ends (the agent then removes the handoff folder) and no commit was given, the
# watcher runs the agent's "on-abandon" command, which lets the tree's held service traffic
# through again, as the agent would have. It covers a death during the dump too, after which
# CRIU resumes the tree on its own.
dir=$LIVEMIG_HANDOFF_DIR
case "$CRTOOLS_SCRIPT_ACTION" in
  pre-dump)
    # CRIU freezes the tree right after this: the agent times the frozen dump from here.
    { exec 4<>"$dir/dumped" && echo freezing >&4; } 2>/dev/null
    [ -x "$dir/on-abandon" ] || exit 0
    setsid bash -c '
      while [ -d "$0" ]; do
        if ! kill -0 "$1" 2>/dev/null; then
          [ -e "$0/committed" ] || "$0/on-abandon"
          exit
        fi
        sleep 1
      done' "$dir" "$LIVEMIG_AGENT_PID" </dev/null >/dev/null 2>&1 &
    exit 0 ;;
  post-dump) ;;
  *) exit 0 ;;
esac
# Read-write opens of a FIFO never block, whether or not the agent still has its end open.
exec 3<>"$dir/verdict" 4<>"$dir/dumped" || exit 2
echo dumped >&4
deadline=$((SECONDS + LIVEMIG_VERDICT_TIMEOUT_S))
got=
while ((SECONDS < deadline)); do
  # bash reads a FIFO byte by byte: a read that times out in the middle of the line keeps the
  # part it got in $part, and the next read gets the rest.
  if IFS= read -r -t 1 part <&3; then
    if [ "$got$part" = commit ]; then
      : > "$dir/committed"
      exit 0
    fi
    exit 3
  fi
  got=$got$part
  kill -0 "$LIVEMIG_AGENT_PID" 2>/dev/null || exit 4
done
exit 5
