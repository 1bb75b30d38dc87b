#!/bin/bash
# bench/confirm.sh: confirmations ingested per second over HTTP. One alert
# to N recipients (default 10,000) is sent through the file transport; wrk
# (bench/confirm.lua) then POSTs response=参集できる once to each
# recipient's link. Every 2xx means the confirmation was committed first.
# Afterwards the database is asked how many were recorded.
#
#   BUILD=$PWD/build bench/confirm.sh      (CONFIRM_N, CONFIRM_CONNS)
#
# Prints `name value unit` lines; a program, not a test.
set -eu
. "$(cd "$(dirname "$0")" && pwd)/common.sh"
N=${CONFIRM_N:-10000}
CONNS=${CONFIRM_CONNS:-32}
command -v wrk >/dev/null || { echo "confirm: wrk is not installed (Debian package wrk)" >&2; exit 1; }

site_init
roster "$N" "$SITE/r.yaml"
start_site "$SITE/r.yaml" "$REPO/etc/rosters/shelters.yaml"
id=$(send_alert crisis)
wait_until 300 "alert $id sent" all_sent "$id" "$N"
outbox field link kind=alert alert="$id" | sed 's|^https\?://[^/]*||' \
    | shuf >"$SITE/paths"	# confirmations come in any order
[ "$(wc -l <"$SITE/paths")" -eq "$N" ] || fail "expected $N links in the outbox"
CONFIRM_PATHS=$SITE/paths CONFIRM_THREADS=1 \
    wrk -t1 -c"$CONNS" -d$((N / 500 + 10))s --timeout 10s -s "$here/confirm.lua" "$BASE_URL" |
    grep -E '^confirm_'
echo "confirm_recorded $(sqlite3 -readonly "$STATE/state.db" "SELECT count(*) FROM deliveries WHERE alert_id = $id AND confirmed_at IS NOT NULL") confirmations"
echo "confirm_connections $CONNS connections"
stop_site
