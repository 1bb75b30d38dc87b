#!/bin/bash
# 61-notify: crisiscastd speaks the sd_notify protocol a Type=notify unit
# with WatchdogSec= expects, checked against a fake NOTIFY_SOCKET: READY=1
# after start; WATCHDOG=1 at half of WATCHDOG_USEC (here every 0.5 s);
# SIGHUP answers RELOADING=1 with a current MONOTONIC_USEC, then READY=1
# (and a failed reload too); SIGTERM sends STOPPING=1 before the exit.
# The protocol is spoken without libsystemd (daemon/notify.c), so also: an
# abstract socket ('@name'); WATCHDOG_PID naming another process means no
# watchdog; a NOTIFY_SOCKET or WATCHDOG_USEC that cannot be used is logged
# and the daemon runs as without them.
. "$(dirname "$0")/lib.sh"
write_config

# listen ADDRESS LOG: a fake manager on ADDRESS (a path, or @name for an
# abstract socket) writing each datagram to LOG as one line ('|' for each
# newline); returns once it is bound. Its pid is added to LPIDS.
LPIDS=""
listen() {
	python3 - "$1" "$2" <<'EOF' &
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
a = sys.argv[1]
s.bind("\0" + a[1:] if a.startswith("@") else a)
open(sys.argv[2] + ".up", "w").close()
with open(sys.argv[2], "a") as f:
    while True:
        msg = s.recv(4096).decode()
        f.write(msg.replace("\n", "|") + "\n")
        f.flush()
EOF
	LPIDS="$LPIDS $!"
	for _ in $(seq 1 50); do [ -e "$2.up" ] && return 0; sleep 0.1; done
	fail "fake notify socket $1 did not appear"
}
# Stop the listeners too; cleanup exits with the test's status.
trap 'rc=$?; kill $LPIDS 2>/dev/null; (exit $rc); cleanup' EXIT

NOTIFY=$SITE/notify.sock
MSGS=$SITE/notify.log
listen "$NOTIFY" "$MSGS"

count() { grep -c -- "$1" "$MSGS" 2>/dev/null || true; }
count_ge() { [ "$(count "$1")" -ge "$2" ]; }	# PATTERN N
monotonic_usec() {
	python3 -c 'import time; print(time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000)'
}

note "READY=1 and the watchdog"
NOTIFY_SOCKET=$NOTIFY WATCHDOG_USEC=1000000 start_daemon
wait_until 5 "READY=1" count_ge '^READY=1' 1
assert_match "$(cat "$MSGS")" '^READY=1\|STATUS=94 accounts' "first READY=1"
sleep 1.6
n=$(count '^WATCHDOG=1$')
assert_ge 2 "$n" "WATCHDOG=1 keep-alives in 1.6 s at WATCHDOG_USEC=1 s"
[ "$n" -le 5 ] || fail "too many keep-alives: $n in 1.6 s"
assert_contains "$(cat "$LOG")" "watchdog: keep-alive every 500 ms" "log"

note "SIGHUP: RELOADING=1 with MONOTONIC_USEC, then READY=1"
before=$(monotonic_usec)
kill -HUP "$DPID"
wait_until 5 "READY=1 after the reload" count_ge '^READY=1$' 1
after=$(monotonic_usec)
line=$(grep '^RELOADING=1' "$MSGS" | tail -n 1)
assert_match "$line" '^RELOADING=1\|MONOTONIC_USEC=[0-9]+$' "RELOADING=1 message"
mono=${line##*=}
[ "$mono" -ge "$before" ] && [ "$mono" -le "$after" ] ||
    fail "MONOTONIC_USEC $mono not between $before and $after"
# RELOADING=1 comes before its READY=1.
order=$(grep -n -e '^RELOADING=1' -e '^READY=1$' "$MSGS" | cut -d: -f2 | tr '\n' ' ')
assert_eq "RELOADING=1|MONOTONIC_USEC=$mono READY=1 " "$order" "reload order"

note "a failed reload still ends in READY=1"
cp "$CFG" "$SITE/cfg.bak"
echo "bogus_key: 1" >>"$CFG"
kill -HUP "$DPID"
wait_until 5 "second READY=1" count_ge '^READY=1$' 2
assert_eq 2 "$(count '^RELOADING=1')" "RELOADING=1 per SIGHUP"
cp "$SITE/cfg.bak" "$CFG"
expect_rc 0 ctl ping

note "the watchdog keeps going after reloads"
n=$(count '^WATCHDOG=1$')
sleep 1.1
assert_ge $((n + 2)) "$(count '^WATCHDOG=1$')" "keep-alives after reload"

note "SIGTERM: STOPPING=1"
stop_site
assert_eq 1 "$(count '^STOPPING=1$')" "STOPPING=1"
last=$(grep -v '^WATCHDOG=1$' "$MSGS" | tail -n 1)
assert_eq "STOPPING=1" "$last" "STOPPING=1 is the last state message"
note "an abstract socket, WATCHDOG_PID of another process"
ABS=crisiscast-test-$$-$RANDOM
AMSGS=$SITE/abstract.log
listen "@$ABS" "$AMSGS"
acount() { grep -c -- "$1" "$AMSGS" 2>/dev/null || true; }
NOTIFY_SOCKET=@$ABS WATCHDOG_USEC=400000 WATCHDOG_PID=1 start_daemon
wait_until 5 "READY=1 on the abstract socket" \
    eval '[ "$(acount "^READY=1")" -ge 1 ]'
sleep 0.6
assert_eq 0 "$(acount '^WATCHDOG=1$')" \
    "keep-alives when WATCHDOG_PID is another process"
stop_site
assert_eq 1 "$(acount '^STOPPING=1$')" "STOPPING=1 on the abstract socket"

note "unusable NOTIFY_SOCKET and WATCHDOG_USEC: logged, the daemon runs"
long=/$(printf 'x%.0s' $(seq 1 120))
for bad in relative/notify.sock @ "$long"; do
	: >"$LOG"
	NOTIFY_SOCKET=$bad WATCHDOG_USEC=12abc start_daemon
	expect_rc 0 ctl ping
	assert_eq 1 "$(grep -c 'NOTIFY_SOCKET .* not notifying' "$LOG")" \
	    "NOTIFY_SOCKET=${bad:0:24}: one warning"
	assert_contains "$(cat "$LOG")" 'WATCHDOG_USEC "12abc" is not a positive number' \
	    "WATCHDOG_USEC=12abc"
	kill -HUP "$DPID"
	wait_until 5 "reloaded" grep -q 'reloaded' "$LOG"
	stop_site
	assert_eq 1 "$(grep -c 'NOTIFY_SOCKET .* not notifying' "$LOG")" \
	    "NOTIFY_SOCKET=${bad:0:24}: still one warning after a reload and a stop"
done

note "a notify socket nobody listens on: logged, the daemon runs"
: >"$LOG"
NOTIFY_SOCKET=$SITE/nobody.sock start_daemon
expect_rc 0 ctl ping
stop_site
assert_contains "$(cat "$LOG")" "notify: $SITE/nobody.sock" "send failure logged"
note "ok"
