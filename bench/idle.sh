#!/bin/bash
# bench/idle.sh: start-up time (exec to the first answered ping) and idle
# resident memory of crisiscastd, for the 94-account sample site and for a
# 30,000-account site (a prefecture's staff: 29,944 generated officials
# plus the sample's 56 shelter staff). Prints `name value unit` lines.
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

# measure NAME: starts the daemon, times it to the first ping, lets it
# idle, reads VmRSS, stops it.
measure() {
	local cfg=$work/$1/crisiscast.yaml sock=$work/$1/control.sock i=0
	local t0 t1 rss
	t0=$(date +%s%N)
	"$BUILD/crisiscastd" -f "$cfg" 2>"$work/$1/log" &
	pid=$!
	until "$BUILD/crisisctl" -s "$sock" ping >/dev/null 2>&1; do
		i=$((i + 1))
		if [ "$i" -gt 3000 ] || ! kill -0 "$pid" 2>/dev/null; then
			echo "idle: $1 did not start" >&2
			cat "$work/$1/log" >&2
			exit 1
		fi
		sleep 0.01
	done
	t1=$(date +%s%N)
	sleep 2
	rss=$(awk '/^VmRSS:/ { print $2 }' "/proc/$pid/status")
	kill "$pid"
	wait "$pid" 2>/dev/null || true
	pid=
	echo "startup_$1 $(( (t1 - t0) / 1000000 )) ms"
	echo "idle_rss_$1 $(awk -v k="$rss" 'BEGIN { printf "%.1f", k / 1024 }') MiB"
}

site 94 "$repo/etc/rosters/crisis.yaml"
measure 94
python3 "$repo/tests/integration/gen_roster.py" 29940 "$work/crisis30k.yaml"
site 30000 "$work/crisis30k.yaml"
measure 30000
