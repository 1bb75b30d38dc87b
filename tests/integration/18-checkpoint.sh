#!/bin/bash
# 18-checkpoint: WAL checkpoints run on their own thread (daemon/
# checkpoint.c), not inside the loop's commits. An alert to 2,000 people
# writes the WAL past 1,000 pages several times over:
#   - the checkpoint thread starts (a task named checkpoint), checkpoints
#     run there and none on the loop (/metrics, the debug log);
#   - another process reads a consistent database meanwhile;
#   - a stop ends the thread and leaves no WAL behind, and a restart finds
#     every delivery.
# When the thread cannot start (pthread_create fails) or cannot open its
# connection, the daemon says so and checkpoints on the loop, as SQLite
# would: every delivery is still sent and kept. Both failures come from a
# preloaded shim (tests/integration/checkpoint_shim.c).
. "$(dirname "$0")/lib.sh"
N=4000

site_init
python3 "$(dirname "$0")/gen_roster.py" $((N - 4)) "$SITE/r.yaml"
start_site "$SITE/r.yaml" "$REPO/etc/rosters/shelters.yaml"

# metric WHERE: crisiscast_wal_checkpoints_total{where=WHERE}.
metric() {
	curl -sf "$BASE_URL/metrics" |
	    sed -n "s/^crisiscast_wal_checkpoints_total{where=\"$1\"} //p"
}
# ckpt_threads: the daemon's threads named checkpoint (daemon/checkpoint.c).
ckpt_threads() {
	cat "/proc/$DPID/task/"*/comm 2>/dev/null | grep -cx checkpoint || true
}
# alert: drafts and approves one alert to the crisis group; prints its id.
alert() {
	local out
	out=$(ctl --json --as soumu_bucho draft --tag 参集指示 --to crisis \
	    --body '全職員は直ちに本庁舎に参集してください。') || fail "draft: $out"
	jget "$out" 'd["id"]'
	ctl --as mayor approve "$(jget "$out" 'd["id"]')" >/dev/null ||
	    fail "approve"
}
delivered() {	# ID: alert deliveries of ID sent, read by another process
	sqlite3 -readonly "$STATE/state.db" "SELECT count(*) FROM deliveries
	    WHERE alert_id = $1 AND kind = 'alert' AND state = 'sent'"
}
all_sent() {	# ID
	[ "$(delivered "$1")" = "$N" ]
}

note "a fresh daemon has no checkpoint thread"
assert_eq 0 "$(ckpt_threads)" "checkpoint threads before any load"
assert_eq 0 "$(metric thread)" "thread checkpoints before any load"

note "an alert to $N people: checkpoints on the thread"
ID1=$(alert)
wait_until 60 "alert $ID1 sent to $N" all_sent "$ID1"
assert_eq 1 "$(ckpt_threads)" "checkpoint threads after the load"
assert_ge 2 "$(metric thread)" "checkpoints on the thread"
assert_eq 0 "$(metric loop)" "checkpoints on the loop"
assert_match "$(cat "$LOG")" 'checkpoint \(thread\): [0-9]+ of [0-9]+ frames' \
    "checkpoint in the debug log"
assert_eq ok "$(sqlite3 -readonly "$STATE/state.db" 'PRAGMA integrity_check')" \
    "integrity check by another process"
assert_eq "$N" "$(delivered "$ID1")" "deliveries sent, read by another process"

note "stop: the thread ends, the last connection leaves no WAL"
stop_site
[ ! -e "$STATE/state.db-wal" ] || fail "a WAL file is left after the stop"
start_daemon
assert_eq "$N" "$(delivered "$ID1")" "deliveries after the restart"
stop_site

build_shim checkpoint_shim
shim=$SITE/checkpoint_shim.so

for mode in thread open; do
	note "the checkpoint thread cannot $([ $mode = thread ] && echo start || echo open the database): checkpoints on the loop"
	: >"$LOG.$mode"
	LOG_BEFORE=$(wc -l <"$LOG")
	LD_PRELOAD=$shim CC_SHIM=$mode start_daemon
	ID=$(alert)
	wait_until 60 "alert $ID sent to $N" all_sent "$ID"
	assert_ge 1 "$(metric loop)" "checkpoints on the loop ($mode)"
	assert_eq 0 "$(metric thread)" "checkpoints on the thread ($mode)"
	tail -n +"$((LOG_BEFORE + 1))" "$LOG" >"$LOG.$mode"
	if [ $mode = thread ]; then
		assert_eq 1 "$(ls "/proc/$DPID/task" | wc -l)" \
		    "tasks when no thread can start"
		assert_contains "$(cat "$LOG.$mode")" \
		    "checkpoint: cannot start a thread" "the warning ($mode)"
	else
		assert_contains "$(cat "$LOG.$mode")" \
		    "cannot open; checkpoints run on the loop" "the warning ($mode)"
	fi
	assert_match "$(cat "$LOG.$mode")" 'checkpoint \(loop\): [0-9]+ of' \
	    "loop checkpoint in the debug log ($mode)"
	assert_eq "$N" "$(delivered "$ID")" "deliveries sent ($mode)"
	stop_site
	[ ! -e "$STATE/state.db-wal" ] || fail "a WAL file is left ($mode)"
done
unset LD_PRELOAD CC_SHIM

start_daemon
for id in "$ID1" "$ID"; do
	assert_eq "$N" "$(delivered "$id")" "alert $id after the last restart"
done
assert_eq ok "$(sqlite3 -readonly "$STATE/state.db" 'PRAGMA integrity_check')" \
    "integrity check at the end"
stop_site
echo "18-checkpoint: ok"
