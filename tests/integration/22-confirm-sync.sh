#!/bin/bash
# 22-confirm-sync: on a disk whose syncs are slow (3 ms each here, from a
# preloaded shim), confirmations are committed with synchronous=NORMAL and
# their WAL synced on a thread of its own (daemon/walsync.c); each is
# answered only once that sync is done. The first group is a FULL commit
# on the loop, which shows the disk slow; the daemon says it switches.
# When the thread's sync fails (EIO), the recipient gets 500, never 200,
# the daemon says why and runs on, and the retry is answered 200 and
# stored. When the thread cannot start, confirmations are FULL commits on
# the loop: the daemon says so and every answer is still stored before
# its 200. The shims are tests/integration/fsync_shim.c and
# checkpoint_shim.c. (Whether a disk counts as fast depends on the machine,
# so the test does not assert that no thread runs without the delay.)
. "$(dirname "$0")/lib.sh"

site_init
build_shim fsync_shim
build_shim checkpoint_shim
write_config
export CC_SYNC_NAME=/state.db-wal CC_SYNC_THREAD=1 CC_SYNC_FAIL=$SITE/fail-sync
export CC_SYNC_DELAY_US=3000
LD_PRELOAD=$SITE/fsync_shim.so start_daemon

out=$(ctl --json --as soumu_bucho draft --tag 参集指示 --to shelter:hs01,hs02 \
    --body '全職員は直ちに本庁舎に参集してください。') || fail "draft: $out"
ID=$(jget "$out" 'd["id"]')
ctl --as mayor approve "$ID" >/dev/null || fail "approve $ID"
wait_sent "$ID" 8

confirm() {	# MEMBER: POSTs 参集できる on the member's link; prints the status
	local link
	link=$(outbox field link kind=alert alert="$ID" member="$1" | sed -n 1p)
	curl -s -o "$SITE/answer" -w '%{http_code}' \
	    -H 'Content-Type: application/x-www-form-urlencoded' \
	    --data-urlencode 'response=参集できる' "$link"
}
confirmed() {	# MEMBER: 1 if stored as confirmed, else 0
	sqlite3 -readonly "$STATE/state.db" "SELECT count(*) FROM deliveries
	    WHERE alert_id = $ID AND member = '$1' AND kind = 'alert'
	    AND confirmed_at IS NOT NULL"
}
syncs() {
	curl -sf "$BASE_URL/metrics" |
	    awk '$1 == "crisiscast_wal_syncs_total" { print $2 }'
}
log_since() {	# LINE: the daemon log from LINE on
	tail -n +"$1" "$LOG"
}

note "the first confirmation: a FULL commit that shows the disk slow"
assert_eq 200 "$(confirm hs01-1)" "hs01-1's answer"
assert_eq 1 "$(confirmed hs01-1)" "hs01-1 stored"
assert_eq 0 "$(syncs)" "WAL syncs on the thread before it is wanted"
note "the next waits for the sync thread"
assert_eq 200 "$(confirm hs01-2)" "hs01-2's answer"
assert_contains "$(cat "$SITE/answer")" "確認しました。回答「参集できる」" "hs01-2's page"
assert_eq 1 "$(confirmed hs01-2)" "hs01-2 stored"
assert_ge 1 "$(syncs)" "WAL syncs on the thread"
assert_match "$(cat "$LOG")" 'walsync: commits sync in [0-9.]+ ms; confirmations now sync on a thread' \
    "the switch is logged"

note "the sync fails: 500, never 200, and the daemon runs on"
touch "$CC_SYNC_FAIL"
assert_eq 500 "$(confirm hs01-3)" "hs01-3's answer while the sync fails"
assert_contains "$(cat "$SITE/answer")" "一時的なエラーです" "the error page"
assert_contains "$(cat "$LOG")" "walsync: $STATE/state.db-wal: Input/output error" \
    "the log names the file and the error"
expect_rc 0 ctl ping
rm -f "$CC_SYNC_FAIL"
assert_eq 200 "$(confirm hs01-3)" "hs01-3's retry once syncs work"
assert_match "$(cat "$SITE/answer")" "(確認しました。回答「参集できる」|すでに確認済みです)" \
    "hs01-3's page on the retry"
assert_eq 1 "$(confirmed hs01-3)" "hs01-3 stored"
stop_site

note "a slow disk but no sync thread: FULL commits on the loop"
from=$(($(wc -l <"$LOG") + 1))
LD_PRELOAD="$SITE/checkpoint_shim.so $SITE/fsync_shim.so" CC_SHIM=thread start_daemon
for m in hs01-4 hs02-1 hs02-2; do
	assert_eq 200 "$(confirm $m)" "$m's answer without the thread"
	assert_eq 1 "$(confirmed $m)" "$m stored"
done
assert_eq 0 "$(syncs)" "WAL syncs without the thread"
assert_contains "$(log_since "$from")" "walsync: cannot start a thread" "the warning"
stop_site

note "no shim: everything stored"
unset LD_PRELOAD CC_SHIM CC_SYNC_DELAY_US
start_daemon
for m in hs02-3 hs02-4; do
	assert_eq 200 "$(confirm $m)" "$m's answer"
done
for m in hs01-1 hs01-2 hs01-3 hs01-4 hs02-1 hs02-2 hs02-3 hs02-4; do
	assert_eq 1 "$(confirmed "$m")" "$m stored after the restarts"
done
stop_site
echo "22-confirm-sync: ok"
