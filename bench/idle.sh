#!/bin/bash
# bench/idle.sh: start-up time (exec to the first answered ping) and idle
# resident memory of crisiscastd, for the 94-account sample site and for a
# 30,000-account site (a prefecture's staff: 29,944 generated officials
# plus the sample's 56 shelter staff). Prints `name value unit` lines.
#
# Each site is measured twice: on a fresh state directory (the first start
# ever: schema created, token key made), then again on the state the first
# run left (`_restart`, what every later start does). What the resident set
# consists of, from /proc/PID/smaps_rollup:
#   idle_rss        VmRSS, everything resident
#   idle_anon       Anonymous: the process's own pages (heap, stacks, the
#                   relocated data of every shared library)
#   idle_private_dirty  Private_Dirty: pages only this process has written
#   idle_file       Rss minus Anonymous: library code and read-only data
#                   mapped from the page cache, shared with every other
#                   process that maps the same libraries
# The daemon runs with the Environment= of systemd/crisiscastd.service.in,
# as it does installed; `_bare` figures are a restart without it.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
BUILD=${BUILD:-$repo/build}
work=$(mktemp -d "${TMPDIR:-/tmp}/cc-idle.XXXXXX")
pid=
cleanup() {
	[ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
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

# mib KIB: KiB as MiB with one decimal.
mib() {
	awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'
}

# The unit's Environment= assignments, one a line.
mapfile -t unit_env < <(sed -n 's/^Environment=//p' \
    "$repo/systemd/crisiscastd.service.in")
# measure NAME [SUFFIX [VAR=VALUE...]]: starts the daemon on NAME's site
# and state with the variables given, times it to the first ping, lets it
# idle, reads its memory, stops it. Figures are named with SUFFIX appended.
measure() {
	local name=$1 cfg=$work/$1/crisiscast.yaml sock=$work/$1/control.sock i=0
	local t0 t1 rss anon dirty file n=$1${2:-}
	shift $(($# < 2 ? $# : 2))
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
	sleep 2
	rss=$(awk '/^VmRSS:/ { print $2 }' "/proc/$pid/status")
	read -r anon dirty file < <(awk '/^Rss:/ { r = $2 }
	    /^Anonymous:/ { a = $2 } /^Private_Dirty:/ { d = $2 }
	    END { print a, d, r - a }' "/proc/$pid/smaps_rollup")
	kill "$pid"
	wait "$pid" 2>/dev/null || true
	pid=
	echo "startup_$n $(( (t1 - t0) / 1000000 )) ms"
	echo "idle_rss_$n $(mib "$rss") MiB"
	echo "idle_anon_$n $(mib "$anon") MiB"
	echo "idle_private_dirty_$n $(mib "$dirty") MiB"
	echo "idle_file_$n $(mib "$file") MiB"
}

site 94 "$repo/etc/rosters/crisis.yaml"
measure 94 "" "${unit_env[@]}"
measure 94 _restart "${unit_env[@]}"
measure 94 _bare
python3 "$repo/tests/integration/gen_roster.py" 29940 "$work/crisis30k.yaml"
site 30000 "$work/crisis30k.yaml"
measure 30000 "" "${unit_env[@]}"
measure 30000 _restart "${unit_env[@]}"
