#!/bin/bash
# bench/fanout.sh: approval -> every delivery accepted, for 94, 1,000 and
# 10,000 recipients over the webhook transport against the webhook fake
# (tests/fakes/webhook.py) with 0 ms and 50 ms of added latency, and the
# same 94 messages sent by Apprise (Debian's apprise) to 94 json:// URLs on
# the same fake. Prints one figure per line: `name value unit`.
#
#   BUILD=$PWD/build bench/fanout.sh        (make bench)
#
# The time runs from just before `crisisctl approve` to the fake's answer
# to the last delivery of the alert (its log's t_done); the lower bound at
# latency L is L x ceil(N / concurrency). A program, not a test: it
# asserts nothing about speed.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
export BUILD=${BUILD:-$here/../build}
case $BUILD in /*) ;; *) BUILD=$PWD/$BUILD ;; esac
# Reuse the integration harness: isolated daemon, fakes, config helpers.
. "$here/../tests/integration/lib.sh"
. "$here/../tests/integration/fakelib.sh"
REPO=$(cd "$here/.." && pwd)
TESTDIR=$REPO/tests/integration
CONC=${BENCH_CONCURRENCY:-64}
BODY='全職員は直ちに本庁舎3階の災害対策本部に参集してください。'

# Wall-clock seconds, taken by the shell itself (no process start).
now() { echo "${EPOCHREALTIME/,/.}"; }

fake_site_init
printf 'bench-secret\n' >"$SITE/hook.secret"
fake_start hook webhook.py --secret-file "$SITE/hook.secret"

# run_site ROSTER...: a fresh daemon and state on these rosters.
run_site() {
	stop_site
	rm -rf "$STATE" && mkdir -p "$STATE"
	write_config "$@"
	set_transport lineworks "{type: webhook, url: \"$(fake_url hook)\", secret_file: \"$SITE/hook.secret\", concurrency: $CONC}"
	# Only the webhook: approval requests to the outbox, not the fake.
	sed -i 's/^  channels: \[sms, lineworks\]/  channels: [sms]/' "$CFG"
	start_daemon
}

# one N LATENCY AUDIENCE: prints the figures of one fan-out.
one() {
	local n=$1 lat=$2 aud=$3 out id t0 secs
	fake_ctl hook "{\"latency_ms\": $lat}"
	out=$(ctl --json --as soumu_bucho draft --tag 参集指示 --to "$aud" --body "$BODY")
	id=$(jget "$out" 'd["id"]')
	t0=$(now)
	ctl --as mayor approve "$id" >/dev/null
	wait_until 300 "alert $id accepted" db_all_sent "$id" "$n"
	secs=$(python3 - "$(fake_log hook)" "$id" "$t0" <<'PY'
import json, sys
alert, t0 = int(sys.argv[2]), float(sys.argv[3])
last = 0
for l in open(sys.argv[1]):
    e = json.loads(l)
    if e.get("key", "").startswith("alert:") and e["status"] == 200 and \
            json.loads(e["body"])["alert"] == alert:
        last = max(last, e["t_done"])
print("%.6f" % (last - t0))
PY
)
	python3 - "$n" "$lat" "$secs" "$CONC" <<'PY'
import math, sys
n, lat, secs, conc = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
print("fanout_%d_%dms %.1f ms" % (n, lat, secs * 1000))
print("fanout_%d_%dms_rate %.0f deliveries/s" % (n, lat, n / secs))
if lat:
    bound = lat / 1000.0 * math.ceil(n / conc)
    print("fanout_%d_%dms_bound %.1f ms" % (n, lat, bound * 1000))
    print("fanout_%d_%dms_ratio_to_bound %.2f x" % (n, lat, secs / bound))
PY
	echo "$secs" >"$SITE/last.secs"
}

db_all_sent() {	# ID N
	[ "$(sqlite3 -readonly "$STATE/state.db" "SELECT count(*) FROM deliveries WHERE alert_id = $1 AND kind = 'alert' AND state = 'sent'" 2>/dev/null)" = "$2" ]
}

apprise_94() {	# LATENCY
	local lat=$1 urls=() t0 t1
	fake_ctl hook "{\"latency_ms\": $lat}"
	for i in $(seq 1 94); do
		urls+=("json://127.0.0.1:$(fake_port hook)/apprise/$i")
	done
	t0=$(now)
	apprise -t "【参集指示】" -b "$BODY" "${urls[@]}" >/dev/null 2>&1 ||
	    echo "apprise failed" >&2
	t1=$(now)
	python3 -c "print('%.6f' % ($t1 - $t0))"
}

run_site "$REPO/etc/rosters/crisis.yaml" "$REPO/etc/rosters/shelters.yaml"
for lat in 0 50; do
	one 94 $lat crisis+shelter
	cc=$(cat "$SITE/last.secs")
	ap=$(apprise_94 $lat)
	python3 -c "print('apprise_94_${lat}ms %.1f ms' % ($ap * 1000)); print('apprise_over_crisiscast_94_${lat}ms %.1f x' % ($ap / $cc))"
done
for n in 1000 10000; do
	python3 "$REPO/tests/integration/gen_roster.py" $((n - 4)) "$SITE/r$n.yaml"
	run_site "$SITE/r$n.yaml" "$REPO/etc/rosters/shelters.yaml"
	for lat in 0 50; do
		one $n $lat crisis
	done
done
stop_site
