#!/bin/bash
# 06-frames: hostile clients on the control socket (frames.py): frames of
# length 0 and over 1 MiB, cut-short streams, non-JSON, arrays, a wrong
# protocol version, missing or unknown commands, args of every wrong type,
# then 1,000 random frames; and crisisctl against a daemon that has all
# its connections taken. Every reply must be well formed, and afterwards
# crisisctl ping works and the daemon's log holds no sanitizer report.
#
# FRAMES_SEED=N repeats a run.
. "$(dirname "$0")/lib.sh"
start_site
SEED=${FRAMES_SEED:-$$}
note "FRAMES_SEED=$SEED"

python3 "$TESTDIR/frames.py" "$CRISISCAST_SOCKET" "$SEED" ||
    fail "frames.py found problems (above)"

# While another client holds more idle connections than the daemon serves
# (64), crisisctl must still end with one of its exit codes: 0, or 3 when
# the daemon turns it away. Never killed by a signal (SIGPIPE: 141).
python3 - "$CRISISCAST_SOCKET" "$SITE/held" <<'PY' &
import socket, sys, time
held = []
for i in range(70):
    s = socket.socket(socket.AF_UNIX)
    s.connect(sys.argv[1])
    held.append(s)
open(sys.argv[2], "w").close()
time.sleep(5)
PY
HOLDER=$!
wait_until 10 "70 held connections" test -e "$SITE/held"
sleep 0.2
codes=""
for i in 1 2 3 4 5; do
	rc=0
	ctl ping >/dev/null 2>&1 || rc=$?
	codes="$codes $rc"
done
wait "$HOLDER"
note "crisisctl ping with 70 connections held:$codes"
for rc in $codes; do
	case $rc in
	0|3) ;;
	*) fail "crisisctl ping while the daemon is full: expected exit 0 or 3, got$codes" ;;
	esac
done

kill -0 "$DPID" 2>/dev/null || fail "crisiscastd died"
expect_rc 0 ctl ping
assert_contains "$OUT" pong "ping after the garbage"
expect_rc 0 ctl --json roster check
assert_eq 94 "$(jget "$OUT" 'd["accounts"]')" "the roster is intact"
check_sanitizers
stop_site
echo "06-frames: ok"
