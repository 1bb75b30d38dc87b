#!/bin/bash
# 22-confirm-sync: a group-committed confirmation is answered only once
# the WAL is synced (daemon/walsync.c). Its sync runs on a thread of its
# own; when that sync fails (EIO), the recipient gets 500, never 200, the
# daemon says why and runs on, and the recipient's retry is answered 200
# and stored. When the thread cannot start, confirmations are committed
# with synchronous=FULL on the loop: the daemon says so and every answer
# is still stored before its 200. The failures come from preloaded shims
# (tests/integration/fsync_shim.c, checkpoint_shim.c).
. "$(dirname "$0")/lib.sh"

site_init
for s in fsync checkpoint; do
	cc -shared -fPIC -O2 -o "$SITE/${s}_shim.so" \
	    "$(dirname "$0")/${s}_shim.c" -ldl || fail "cannot build $s shim"
done
# ASan wants to be first in the library list; the shim goes before it.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0"
write_config
export CC_SYNC_NAME=/state.db-wal CC_SYNC_THREAD=1 CC_SYNC_FAIL=$SITE/fail-sync
LD_PRELOAD=$SITE/fsync_shim.so start_daemon

out=$(ctl --json --as soumu_bucho draft --tag 参集指示 --to shelter:hs01 \
    --body '全職員は直ちに本庁舎に参集してください。') || fail "draft: $out"
ID=$(jget "$out" 'd["id"]')
ctl --as mayor approve "$ID" >/dev/null || fail "approve $ID"
wait_sent "$ID" 4

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

note "a confirmation waits for the sync thread"
assert_eq 200 "$(confirm hs01-1)" "hs01-1's answer"
assert_contains "$(cat "$SITE/answer")" "確認しました。回答「参集できる」" "hs01-1's page"
assert_eq 1 "$(confirmed hs01-1)" "hs01-1 stored"
assert_ge 1 "$(syncs)" "WAL syncs on the thread"

note "the sync fails: 500, never 200, and the daemon runs on"
touch "$CC_SYNC_FAIL"
assert_eq 500 "$(confirm hs01-2)" "hs01-2's answer while the sync fails"
assert_contains "$(cat "$SITE/answer")" "一時的なエラーです" "the error page"
assert_contains "$(cat "$LOG")" "walsync: $STATE/state.db-wal: Input/output error" \
    "the log names the file and the error"
expect_rc 0 ctl ping
rm -f "$CC_SYNC_FAIL"
code=$(confirm hs01-2)
assert_eq 200 "$code" "hs01-2's retry once syncs work"
assert_match "$(cat "$SITE/answer")" "(確認しました。回答「参集できる」|すでに確認済みです)" \
    "hs01-2's page on the retry"
assert_eq 1 "$(confirmed hs01-2)" "hs01-2 stored"
stop_site

note "no sync thread: confirmations are FULL commits on the loop"
LOG_BEFORE=$(wc -l <"$LOG")
LD_PRELOAD=$SITE/checkpoint_shim.so CC_SHIM=thread start_daemon
assert_eq 200 "$(confirm hs01-3)" "hs01-3's answer without the thread"
assert_eq 1 "$(confirmed hs01-3)" "hs01-3 stored"
assert_eq 0 "$(syncs)" "WAL syncs without the thread"
assert_contains "$(tail -n +"$((LOG_BEFORE + 1))" "$LOG")" \
    "walsync: cannot start a thread" "the warning"
assert_eq 200 "$(confirm hs01-4)" "hs01-4's answer without the thread"
assert_eq 1 "$(confirmed hs01-4)" "hs01-4 stored"
stop_site
unset LD_PRELOAD CC_SHIM
start_daemon
for m in hs01-1 hs01-2 hs01-3 hs01-4; do
	assert_eq 1 "$(confirmed "$m")" "$m stored after the restart"
done
stop_site
echo "22-confirm-sync: ok"
