# lib.sh: sourced by every tests/integration/NN-name.sh. Starts one isolated
# crisiscastd (own temp dir, config, state dir, control socket, log) and
# offers the helpers the tests assert with.
#
# Contract for a test script:
#   . "$(dirname "$0")/lib.sh"
#   start_site [ROSTER...]    # default: the repo's etc/rosters/*.yaml
#   ctl ...; expect_rc N ctl ...; assert_eq ...
#   stop_site                 # SIGTERM, wait, sanitizer check
# Any failed assertion exits non-zero at once; the EXIT trap stops the
# daemon, prints the tail of its log and removes the temp dir.
#
# Environment: BUILD (absolute dir with crisiscastd and crisisctl; default
# $PWD/build). Never talks to the network: the control socket is a Unix
# socket in the temp dir, and every transport is the file transport.

set -eu
set -o pipefail

TESTDIR=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$TESTDIR/../.." && pwd)
TESTNAME=$(basename "$0" .sh)
: "${BUILD:=$PWD/build}"
CRISISCASTD=$BUILD/crisiscastd
CRISISCTL=$BUILD/crisisctl
[ -x "$CRISISCASTD" ] && [ -x "$CRISISCTL" ] || {
	echo "$TESTNAME: no crisiscastd/crisisctl in BUILD=$BUILD" >&2
	exit 1
}
export LC_ALL=C.UTF-8

# Sanitizers (ignored by plain builds): report leaks at exit, and use exit
# codes that cannot be mistaken for crisisctl's 1/2/3.
export ASAN_OPTIONS="detect_leaks=1:exitcode=86:abort_on_error=0:allocator_may_return_null=0"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:exitcode=87"
export LSAN_OPTIONS="exitcode=88"
SAN_PATTERN='ERROR: AddressSanitizer|runtime error:|LeakSanitizer|ERROR: UndefinedBehaviorSanitizer'

# VALGRIND=1: start_daemon runs crisiscastd under valgrind memcheck (exit
# 99 on any error or definite/indirect leak, seen by stop_site), and every
# bounded wait here is SLOW times longer (VALGRIND_SLOW, default 8).
VALGRIND=${VALGRIND:-}
SLOW=1
[ -z "$VALGRIND" ] || SLOW=${VALGRIND_SLOW:-8}
VALGRIND_CMD=(valgrind -q --leak-check=full
    --errors-for-leak-kinds=definite,indirect --error-exitcode=99
    --show-leak-kinds=definite,indirect --num-callers=30)

SITE=""	# temp dir of this test
DPID=""	# pid of the running daemon, "" when stopped

# ---------------------------------------------------------------------------
# Failing and asserting. Every message says what was expected and what came.

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

note() {
	echo "-- $*"
}

assert_eq() {	# EXPECTED GOT WHAT
	[ "$1" = "$2" ] || fail "$3: expected [$1], got [$2]"
}

assert_ge() {	# MIN GOT WHAT
	[ "$2" -ge "$1" ] || fail "$3: expected at least $1, got $2"
}

assert_contains() {	# HAYSTACK NEEDLE WHAT
	case $1 in
	*"$2"*) ;;
	*) fail "$3: expected to contain [$2], got:
$1" ;;
	esac
}

assert_not_contains() {	# HAYSTACK NEEDLE WHAT
	case $1 in
	*"$2"*) fail "$3: expected not to contain [$2], got:
$1" ;;
	esac
}

assert_match() {	# HAYSTACK ERE WHAT
	grep -Eq -- "$2" <<<"$1" ||
	    fail "$3: expected a line matching /$2/, got:
$1"
}

# ---------------------------------------------------------------------------
# crisisctl

# ctl ARGS: crisisctl on this site's socket. Sanitizer reports of the client
# go to files in $SITE/san, checked by check_sanitizers.
ctl() {
	ASAN_OPTIONS="$ASAN_OPTIONS:log_path=$SITE/san/ctl" \
	UBSAN_OPTIONS="$UBSAN_OPTIONS:log_path=$SITE/san/ctl" \
	    "$CRISISCTL" "$@"
}

# expect_rc N CMD...: runs CMD, fails unless it exits N. Its stdout and
# stderr are kept in $OUT and $ERR for further asserts.
OUT="" ERR=""
expect_rc() {
	local want=$1 rc=0
	shift
	"$@" >"$SITE/last.out" 2>"$SITE/last.err" || rc=$?
	OUT=$(cat "$SITE/last.out")
	ERR=$(cat "$SITE/last.err")
	! grep -Eq "$SAN_PATTERN" <<<"$ERR" ||
	    fail "\`$*\`: sanitizer report on stderr:
$ERR"
	[ "$rc" = "$want" ] || fail "\`$*\`: expected exit $want, got $rc
stdout: $OUT
stderr: $ERR"
}

# jget JSON EXPR: evaluates a Python expression over d = the parsed JSON;
# strings print as they are, everything else as JSON.
jget() {
	python3 - "$1" "$2" <<'EOF'
import json, sys
d = json.loads(sys.argv[1])
v = eval(sys.argv[2], {"len": len, "isinstance": isinstance, "list": list,
    "max": max, "min": min, "sorted": sorted, "set": set, "d": d,
    "sum": sum, "any": any, "all": all})
print(v if isinstance(v, str) else json.dumps(v, ensure_ascii=False))
EOF
}

# ---------------------------------------------------------------------------
# The outbox (state/outbox.jsonl of the file transport).

outbox_count() {	# [KEY=VALUE...]: lines matching every filter
	python3 "$TESTDIR/outbox.py" "$OUTBOX" count "$@"
}

outbox() {	# VERB [ARGS...]: see outbox.py
	python3 "$TESTDIR/outbox.py" "$OUTBOX" "$@"
}

# ---------------------------------------------------------------------------
# Waiting, always bounded.

# wait_until SECONDS WHAT CMD...: polls CMD every 0.1 s.
# Predicates for wait_until, which runs its command again each turn: a
# "$(...)" written in the call itself would be evaluated only once.
# outbox_count_is N FILTER...: exactly N outbox lines match.
outbox_count_is() {
	local n=$1
	shift
	[ "$(outbox_count "$@")" = "$n" ]
}

# outbox_has_link FILTER...: a matching outbox line carries a link.
outbox_has_link() {
	[ -n "$(outbox field link "$@")" ]
}

wait_until() {
	local secs=$(($1 * SLOW)) what=$2 i=0
	shift 2
	while ! "$@" >/dev/null 2>&1; do
		i=$((i + 1))
		[ "$i" -le $((secs * 10)) ] || fail "timed out after ${secs}s waiting for $what"
		sleep 0.1
	done
}

sent_count() {	# ID: how many recipients of alert ID are "sent"
	local j
	j=$(ctl --json status "$1") || return 1
	jget "$j" 'sum(1 for r in d["recipients"] if r["state"] == "sent")'
}

# wait_sent ID N [SECONDS]: until N recipients of alert ID are sent.
wait_sent() {
	local id=$1 n=$2 secs=$((${3:-20} * SLOW)) i=0 got=""
	while :; do
		got=$(sent_count "$id" 2>/dev/null || echo "?")
		[ "$got" = "$n" ] && return 0
		i=$((i + 1))
		[ "$i" -le $((secs * 10)) ] ||
		    fail "alert $id: expected $n recipients sent within ${secs}s, got $got"
		sleep 0.1
	done
}

# ---------------------------------------------------------------------------
# The site.

HTTP_PORT=""	# the daemon's HTTP port, set by write_config
BASE_URL=""	# its public_url, http(s)://127.0.0.1:$HTTP_PORT

# free_port: a TCP port on 127.0.0.1 that nobody listens on now.
free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

cleanup() {
	local rc=$?
	set +e
	if [ -n "$DPID" ] && kill -0 "$DPID" 2>/dev/null; then
		kill -TERM "$DPID" 2>/dev/null
		for _ in $(seq 1 $((100 * SLOW))); do
			kill -0 "$DPID" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$DPID" 2>/dev/null
		wait "$DPID" 2>/dev/null
	fi
	if [ "$rc" -ne 0 ] && [ -n "$SITE" ] && [ -s "$SITE/daemon.log" ]; then
		echo "---- last lines of the daemon log ($SITE/daemon.log)" >&2
		tail -n 40 "$SITE/daemon.log" >&2
	fi
	[ -n "$SITE" ] && rm -rf "$SITE"
	exit "$rc"
}

# site_init: the temp dir and the paths every helper uses.
site_init() {
	[ -z "$SITE" ] || return 0
	SITE=$(mktemp -d "${TMPDIR:-/tmp}/cc-it.XXXXXX")
	trap cleanup EXIT
	trap 'exit 143' TERM
	trap 'exit 130' INT
	mkdir -p "$SITE/state" "$SITE/san"
	chmod 1777 "$SITE/san"
	CFG=$SITE/crisiscast.yaml
	STATE=$SITE/state
	OUTBOX=$STATE/outbox.jsonl
	LOG=$SITE/daemon.log
	export CRISISCAST_SOCKET=$SITE/control.sock
}

# build_shim NAME: builds tests/integration/NAME.c into $SITE/NAME.so, a
# library to preload into crisiscastd. ASan wants to be first in the
# library list and a shim goes before it, so ASan's check of that order is
# turned off for the rest of the test.
build_shim() {
	site_init
	cc -shared -fPIC -O2 -o "$SITE/$1.so" "$REPO/tests/integration/$1.c" \
	    -ldl || fail "cannot build $1"
	export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0"
}

# write_config [ROSTER...]: the sample site (etc/crisiscast.yaml) with its
# state and socket in $SITE and absolute paths to the repo's rules and
# templates. Rosters default to the repo's etc/rosters.
# The HTTP server listens on 127.0.0.1:$HTTP_PORT (a free port), and
# $BASE_URL is its public_url; with TLS_CERT and TLS_KEY set (PEM paths)
# it serves HTTPS there instead.
write_config() {
	local rosters="" r scheme=http tls=""
	site_init
	[ $# -gt 0 ] || set -- "$REPO/etc/rosters/crisis.yaml" \
	    "$REPO/etc/rosters/shelters.yaml"
	for r in "$@"; do
		rosters="${rosters:+$rosters, }\"$r\""
	done
	HTTP_PORT=$(free_port)
	if [ -n "${TLS_CERT:-}" ]; then
		scheme=https
		tls="
    tls_cert: \"$TLS_CERT\"
    tls_key: \"$TLS_KEY\""
	fi
	BASE_URL=$scheme://127.0.0.1:$HTTP_PORT
	cat >"$CFG" <<EOF
# Written by tests/integration/lib.sh for $TESTNAME.
organization: 〇〇町
public_url: $BASE_URL
listen:
  - address: 127.0.0.1:$HTTP_PORT$tls
control_socket: "$SITE/control.sock"
state_dir: "$STATE"
rosters: [$rosters]
rules_dir: "$REPO/rules"
templates_dir: "$REPO/templates"
approval:
  approvers: [mayor, deputy_mayor]
  step_timeout: 10m
  link_ttl: 30m
  channels: [sms, lineworks]
delivery:
  channels: [lineworks, ntfy, sms, email]
  ack_deadline: 10m
  renotify_max: 3
transports:
  lineworks: {type: file, path: outbox.jsonl}
  sms:       {type: file, path: outbox.jsonl, form: sms}
  email:     {type: file, path: outbox.jsonl}
  ntfy:      {type: file, path: outbox.jsonl}
EOF
}

# start_daemon: starts crisiscastd on $CFG (stderr appended to $LOG) and
# waits until it answers ping (10 s at most).
start_daemon() {
	local i=0
	[ -z "$DPID" ] || fail "start_daemon: a daemon is already running"
	echo "==== start $(date +%T.%N)" >>"$LOG"
	if [ -n "$VALGRIND" ]; then
		"${VALGRIND_CMD[@]}" "$CRISISCASTD" -d -f "$CFG" 2>>"$LOG" &
	else
		"$CRISISCASTD" -d -f "$CFG" 2>>"$LOG" &
	fi
	DPID=$!
	while ! ctl ping >/dev/null 2>&1; do
		if ! kill -0 "$DPID" 2>/dev/null; then
			wait "$DPID" || true
			DPID=""
			cat "$LOG" >&2
			fail "crisiscastd exited during start"
		fi
		i=$((i + 1))
		[ "$i" -le $((100 * SLOW)) ] ||
		    fail "crisiscastd did not answer ping within $((10 * SLOW)) s"
		sleep 0.1
	done
}

# start_site [ROSTER...]: write_config and start_daemon.
start_site() {
	write_config "$@"
	start_daemon
}

# check_sanitizers: fails if the daemon log or a client report holds a
# sanitizer error.
check_sanitizers() {
	if grep -Eq "$SAN_PATTERN" "$LOG" 2>/dev/null; then
		cat "$LOG" >&2
		fail "sanitizer error in the daemon log"
	fi
	if [ -n "$(ls -A "$SITE/san" 2>/dev/null)" ]; then
		cat "$SITE"/san/* >&2
		fail "sanitizer error in crisisctl"
	fi
}

# stop_site: SIGTERM, wait for the exit (leaks are reported then), check
# exit status and sanitizers.
stop_site() {
	local rc=0 i=0
	[ -n "$DPID" ] || return 0
	kill -TERM "$DPID"
	while kill -0 "$DPID" 2>/dev/null; do
		i=$((i + 1))
		if [ "$i" -gt $((300 * SLOW)) ]; then
			kill -KILL "$DPID" 2>/dev/null || true
			wait "$DPID" 2>/dev/null || true
			DPID=""
			fail "crisiscastd did not stop within 30 s of SIGTERM"
		fi
		sleep 0.1
	done
	wait "$DPID" || rc=$?
	DPID=""
	check_sanitizers
	[ "$rc" -ne 99 ] || { grep -E '^==[0-9]+==' "$LOG" >&2 || true
		fail "valgrind found errors or leaks in crisiscastd (exit 99)"; }
	[ "$rc" -eq 0 ] || fail "crisiscastd exited $rc after SIGTERM"
}

# kill_site: SIGKILL (a crash), wait, check what was logged until then.
kill_site() {
	[ -n "$DPID" ] || return 0
	kill -KILL "$DPID" 2>/dev/null || true
	wait "$DPID" 2>/dev/null || true
	DPID=""
	echo "==== SIGKILL $(date +%T.%N)" >>"$LOG"
	check_sanitizers
}

# The sample's walkthrough actors and a body that passes every rule.
SENDER=soumu_bucho
APPROVER=mayor
ADMIN=kiki_shitsucho
