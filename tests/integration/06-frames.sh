#!/bin/bash
# 06-frames: hostile clients on the control socket (frames.py): frames of
# length 0 and over 1 MiB, cut-short streams, non-JSON, arrays, a wrong
# protocol version, missing or unknown commands, args of every wrong type,
# then 1,000 random frames. Every reply must be well formed, and afterwards
# crisisctl ping works and the daemon's log holds no sanitizer report.
#
# FRAMES_SEED=N repeats a run.
. "$(dirname "$0")/lib.sh"
start_site
SEED=${FRAMES_SEED:-$$}
note "FRAMES_SEED=$SEED"

python3 "$TESTDIR/frames.py" "$CRISISCAST_SOCKET" "$SEED" ||
    fail "frames.py found problems (above)"

kill -0 "$DPID" 2>/dev/null || fail "crisiscastd died"
expect_rc 0 ctl ping
assert_contains "$OUT" pong "ping after the garbage"
expect_rc 0 ctl --json roster check
assert_eq 94 "$(jget "$OUT" 'd["accounts"]')" "the roster is intact"
check_sanitizers
stop_site
echo "06-frames: ok"
