# bench/common.sh: sourced by the bench/*.sh programs. Reuses the
# integration harness (isolated daemon, temp site, config helpers) and
# adds what the benchmarks share. Figures are printed as `name value unit`.
here=$(cd "$(dirname "$0")" && pwd)
export BUILD=${BUILD:-$here/../build}
case $BUILD in /*) ;; *) BUILD=$PWD/$BUILD ;; esac
. "$here/../tests/integration/lib.sh"
REPO=$(cd "$here/.." && pwd)
TESTDIR=$REPO/tests/integration
BODY='全職員は直ちに本庁舎3階の災害対策本部に参集してください。'

# rss_kb PID: resident set size in KiB.
rss_kb() {
	awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"
}

# roster N PATH: a crisis roster of N members (N >= 4).
roster() {
	python3 "$TESTDIR/gen_roster.py" $(($1 - 4)) "$2"
}

# send_alert AUDIENCE: drafts and approves one alert; prints its id.
send_alert() {
	local out id
	out=$(ctl --json --as soumu_bucho draft --tag 参集指示 --to "$1" \
	    --body "$BODY")
	id=$(jget "$out" 'd["id"]')
	ctl --as mayor approve "$id" >/dev/null
	echo "$id"
}

# all_sent ID N: the alert's N alert deliveries are all sent.
all_sent() {
	[ "$(sqlite3 -readonly "$STATE/state.db" "SELECT count(*) FROM deliveries WHERE alert_id = $1 AND kind = 'alert' AND state = 'sent'" 2>/dev/null)" = "$2" ]
}
