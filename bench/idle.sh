#!/bin/bash
# bench/idle.sh: start-up time (exec to the first answered ping) and idle
# resident memory of crisiscastd, for the 94-account sample site and for a
# 30,000-account site (a prefecture's staff: 29,944 generated officials
# plus the sample's 56 shelter staff). Prints `name value unit` lines.
#
# Each site is measured twice: on a fresh state directory (the first start
# ever: schema created, token key made), then again on the state the first
# run left (`_restart`, what every later start does). Every figure is the
# median of IDLE_RUNS starts (default 5); `_max` is the largest resident
# set among them. `_floor` figures are bench/rss_floor.c: crisiscastd's
# libraries loaded as crisiscastd loads them, and nothing run.
# `_after_alert` figures are a restart that then sends one 参集指示 to all
# 94 and idles past the daemon's next memory trim (IDLE_AFTER_RUNS runs,
# default 3): what the daemon holds between alerts. On the sample site
# every channel writes a file; on `94_http` every channel is a webhook to
# tests/fakes/webhook.py on 127.0.0.1 over plain HTTP, so libcurl and
# OpenSSL are set up (an https provider adds OpenSSL's certificate store).
# What the resident set consists of, from /proc/PID/smaps_rollup:
#   idle_rss        VmRSS, everything resident (_mb: the same in
#                   decimal MB)
#   idle_anon       Anonymous: the process's own pages (heap, stacks, the
#                   relocated data of every shared library)
#   idle_private_dirty  Private_Dirty: pages only this process has written
#   idle_file       Rss minus Anonymous: library code and read-only data
#                   mapped from the page cache, shared with every other
#                   process that maps the same libraries
# The daemon runs with the Environment= of systemd/crisiscastd.service.in
# (none today), as it does installed.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
BUILD=${BUILD:-$repo/build}
RUNS=${IDLE_RUNS:-5}	# starts per figure; the median is printed
AFTER_RUNS=${IDLE_AFTER_RUNS:-3}	# the same, for the _after_alert figures
work=$(mktemp -d "${TMPDIR:-/tmp}/cc-idle.XXXXXX")
pid=
hook_pid=
after=		# measure's step between the first ping and the sample
cleanup() {
	local p
	for p in $pid $hook_pid; do
		kill "$p" 2>/dev/null && { wait "$p" 2>/dev/null || true; }
	done
	rm -rf "$work"
}
trap cleanup EXIT

# free_port: a TCP port on 127.0.0.1 nobody listens on right now.
free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# site NAME CRISIS_ROSTER: a copy of the sample config with its own state.
site() {
	local port
	port=$(free_port)
	mkdir -p "$work/$1"
	sed -e "s|^control_socket:.*|control_socket: $work/$1/control.sock|" \
	    -e "s|^state_dir:.*|state_dir: $work/$1/state|" \
	    -e "s|^rosters:.*|rosters: [$2, $repo/etc/rosters/shelters.yaml]|" \
	    -e "s|^rules_dir:.*|rules_dir: $repo/rules|" \
	    -e "s|^templates_dir:.*|templates_dir: $repo/templates|" \
	    -e "s|^  - address: 127.0.0.1:8080|  - address: 127.0.0.1:$port|" \
	    -e "s|^public_url:.*|public_url: http://127.0.0.1:$port|" \
	    "$repo/etc/crisiscast.yaml" >"$work/$1/crisiscast.yaml"
}

# mib KIB: KiB as MiB (2^20 bytes) with two decimals. The target (under
# 10 MB for the 94-account site) is read in this unit: the one memory is
# counted in by the kernel (KiB in /proc), ps, top, free -m and systemd
# (MemoryMax=10M is 10 MiB).
mib() {
	awk -v k="$1" 'BEGIN { printf "%.2f", k / 1024 }'
}

# mb KIB: KiB as MB in the decimal sense (10^6 bytes), two decimals, for
# whoever reads the target that way.
mb() {
	awk -v k="$1" 'BEGIN { printf "%.2f", k * 1024 / 1e6 }'
}

# The unit's Environment= assignments, one a line.
mapfile -t unit_env < <(sed -n 's/^Environment=//p' \
    "$repo/systemd/crisiscastd.service.in")
# median: the median of the numbers on stdin, one a line.
median() {
	sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : int((v[NR / 2] + v[NR / 2 + 1]) / 2) }'
}

# measure NAME SUFFIX FRESH [VAR=VALUE...]: RUNS times, starts the daemon
# on NAME's site with the variables given (on an empty state directory
# each time when FRESH is 1), times it to the first ping, runs $after
# (with the control socket) when set, lets it idle, reads its memory and
# stops it. Prints the median of each figure, and the
# largest resident set of the runs as _max; figures are named NAME+SUFFIX.
# Run to run, the resident set moves by about 0.1 MiB: libraries land at
# random addresses (ASLR), and the kernel maps library pages in aligned
# 64 KiB blocks around each page touched (fault-around).
measure() {
	local name=$1 n=$1$2 fresh=$3 cfg=$work/$1/crisiscast.yaml
	local sock=$work/$1/control.sock i t0 t1 r ms runs=$RUNS
	shift 3
	[ -z "$after" ] || runs=$AFTER_RUNS
	: >"$work/$n.runs"
	for r in $(seq "$runs"); do
		[ "$fresh" = 1 ] && rm -rf "$work/$name/state"
		i=0
		t0=$(date +%s%N)
		env "$@" "$BUILD/crisiscastd" -f "$cfg" 2>"$work/$name/log" &
		pid=$!
		until "$BUILD/crisisctl" -s "$sock" ping >/dev/null 2>&1; do
			i=$((i + 1))
			if [ "$i" -gt 3000 ] || ! kill -0 "$pid" 2>/dev/null; then
				echo "idle: $name did not start" >&2
				cat "$work/$name/log" >&2
				exit 1
			fi
			sleep 0.01
		done
		t1=$(date +%s%N)
		ms=$(( (t1 - t0) / 1000000 ))
		[ -z "$after" ] || { "$after" "$sock"; ms=-1; }
		sleep 2
		sample "$ms" "$work/$n.runs"
	done
	report "$n" "$work/$n.runs"
}

# sample STARTUP_MS FILE: appends a line of figures of $pid to FILE, then
# stops $pid.
sample() {
	echo "$1 $(figures "$pid")" >>"$2"
	kill "$pid"
	wait "$pid" 2>/dev/null || true
	pid=
}

# figures PID: VmRSS, Anonymous, Private_Dirty and Rss minus Anonymous,
# in KiB.
figures() {
	local rss
	rss=$(awk '/^VmRSS:/ { print $2 }' "/proc/$1/status")
	awk -v rss="$rss" '/^Rss:/ { r = $2 } /^Anonymous:/ { a = $2 }
	    /^Private_Dirty:/ { d = $2 } END { print rss, a, d, r - a }' \
	    "/proc/$1/smaps_rollup"
}

# report N FILE: medians of FILE's columns (startup rss anon dirty file).
report() {
	local col
	col() { awk -v c="$1" '{ print $c }' "$2" | median; }
	[ "$(col 1 "$2")" -ge 0 ] 2>/dev/null &&
	    echo "startup_$1 $(col 1 "$2") ms"
	echo "idle_rss_$1 $(mib "$(col 2 "$2")") MiB"
	echo "idle_rss_$1_mb $(mb "$(col 2 "$2")") MB"
	echo "idle_rss_$1_max $(mib "$(awk '{ print $2 }' "$2" | sort -n | tail -1)") MiB"
	echo "idle_anon_$1 $(mib "$(col 3 "$2")") MiB"
	echo "idle_private_dirty_$1 $(mib "$(col 4 "$2")") MiB"
	echo "idle_file_$1 $(mib "$(col 5 "$2")") MiB"
}

# alert_all SOCK: one 参集指示 to crisis+shelter, approved by the mayor,
# until all 94 recipients are sent; then past the daemon's next memory
# trim (TRIM_SECS, 60 s, in daemon/main.c).
alert_all() {
	local ctl=("$BUILD/crisisctl" -s "$1") id i=0
	id=$("${ctl[@]}" --json --as soumu_bucho draft --tag 参集指示 \
	    --to crisis+shelter --body '全職員は本庁舎3階の災害対策本部に参集してください。' |
	    python3 -c 'import json, sys; print(json.load(sys.stdin)["id"])')
	"${ctl[@]}" --as mayor approve "$id" >/dev/null
	until [ "$("${ctl[@]}" --json status "$id" | python3 -c 'import json, sys; print(sum(r["state"] == "sent" for r in json.load(sys.stdin)["recipients"]))')" = 94 ]; do
		i=$((i + 1))
		[ "$i" -le 300 ] || { echo "idle: alert $id not sent to 94" >&2; exit 1; }
		sleep 0.1
	done
	sleep 61
}

# floor: the same figures for build/rss-floor (bench/rss_floor.c), which
# loads crisiscastd's libraries as crisiscastd does, with the unit's
# environment, and runs nothing: the part of idle_rss there before main().
floor() {
	local r
	: >"$work/floor.runs"
	for r in $(seq "$RUNS"); do
		env "${unit_env[@]}" "$BUILD/rss-floor" &
		pid=$!
		sleep 1
		sample -1 "$work/floor.runs"
	done
	report floor "$work/floor.runs"
}

[ -x "$BUILD/rss-floor" ] || { echo "idle: $BUILD/rss-floor is missing (make bench builds it)" >&2; exit 1; }
floor
site 94 "$repo/etc/rosters/crisis.yaml"
measure 94 "" 1 "${unit_env[@]}"
measure 94 _restart 0 "${unit_env[@]}"
after=alert_all
measure 94 _after_alert 0 "${unit_env[@]}"
printf 'bench-secret\n' >"$work/hook.secret"
/usr/bin/python3 "$repo/tests/fakes/webhook.py" --port-file "$work/hook.port" \
    --log /dev/null --secret-file "$work/hook.secret" 2>"$work/hook.err" &
hook_pid=$!
until [ -s "$work/hook.port" ]; do sleep 0.05; done
site 94_http "$repo/etc/rosters/crisis.yaml"
sed -i -E "s#^  (lineworks|sms|email|ntfy): .*#  \1: {type: webhook, url: \"http://127.0.0.1:$(cat "$work/hook.port")/\1\", secret_file: \"$work/hook.secret\"}#" \
    "$work/94_http/crisiscast.yaml"
measure 94_http _after_alert 0 "${unit_env[@]}"
after=
python3 "$repo/tests/integration/gen_roster.py" 29940 "$work/crisis30k.yaml"
site 30000 "$work/crisis30k.yaml"
measure 30000 "" 1 "${unit_env[@]}"
measure 30000 _restart 0 "${unit_env[@]}"
