#!/bin/bash
# 19-outbox-sync: the file transport syncs the lines of one loop turn with
# one fdatasync() (daemon/transport_file.c, struct batch), and reports a
# line accepted only once that sync succeeded:
#   - 94 lines of one alert take a few syncs, not 94;
#   - when the sync fails (EIO, while write() succeeded), the batch's lines
#     are cut from the file, every one of its deliveries is retried with
#     the error in the audit, and none is recorded sent; the lines already
#     synced stay as they were;
#   - once syncs work again the retries write each line exactly once.
# The failures come from a preloaded shim (tests/integration/fsync_shim.c).
. "$(dirname "$0")/lib.sh"

site_init
build_shim fsync_shim
shim=$SITE/fsync_shim.so
export CC_SYNC_LOG=$SITE/syncs CC_SYNC_FAIL=$SITE/fail-sync
write_config
LD_PRELOAD=$shim start_daemon

syncs() {
	if [ -e "$CC_SYNC_LOG" ]; then wc -l <"$CC_SYNC_LOG"; else echo 0; fi
}
alert() {	# AUDIENCE: drafts and approves; prints the id
	local out
	out=$(ctl --json --as soumu_bucho draft --tag 参集指示 --to "$1" \
	    --body '全職員は直ちに本庁舎に参集してください。') || fail "draft: $out"
	jget "$out" 'd["id"]'
	ctl --as mayor approve "$(jget "$out" 'd["id"]')" >/dev/null ||
	    fail "approve"
}
retries() {	# ID: delivery_retry audit rows of ID for shelter hs01's staff
	jget "$(ctl --json audit --alert "$1")" \
	    'sum(1 for r in (d if isinstance(d, list) else d["rows"]) if r["action"] == "delivery_retry" and r.get("member", "").startswith("hs01-"))'
}
retries_are() {	# ID N
	test "$(retries "$1")" = "$2"
}

note "94 lines, a few syncs"
before=$(syncs)
A=$(alert crisis+shelter)
wait_sent "$A" 94
assert_eq 94 "$(outbox_count kind=alert alert="$A")" "lines of alert $A"
n=$(( $(syncs) - before ))
note "  $n syncs for 94 lines"
assert_ge 1 "$n" "syncs for alert $A"
[ "$n" -le 12 ] || fail "alert $A: $n syncs for 94 lines, expected a few"
cp "$OUTBOX" "$SITE/outbox.synced"

note "the sync fails: the batch is cut and retried, nothing is recorded sent"
touch "$CC_SYNC_FAIL"
B=$(alert shelter:hs01)
wait_until 20 "4 retries of alert $B" retries_are "$B" 4
assert_eq 0 "$(sent_count "$B")" "alert $B: nothing recorded sent"
assert_eq 0 "$(outbox_count alert="$B")" "alert $B: no line left in the outbox"
cmp -s "$SITE/outbox.synced" "$OUTBOX" ||
    fail "the lines synced before the failure changed"
detail=$(jget "$(ctl --json audit --alert "$B")" \
    '"\n".join(sorted(set((r.get("detail") or "") for r in (d if isinstance(d, list) else d["rows"]) if r["action"] == "delivery_retry")))')
assert_contains "$detail" "outbox.jsonl: Input/output error" "the retry names the file and the error"
expect_rc 0 ctl ping

note "syncs work again: the retries write each line once"
rm -f "$CC_SYNC_FAIL"
# The file transport retries a disk error after 30 s.
wait_sent "$B" 4 45
assert_eq 4 "$(outbox_count kind=alert alert="$B")" "lines of alert $B"
assert_eq "" "$(outbox dupkeys)" "duplicate keys in the outbox"
assert_eq "" "$(outbox check)" "outbox lines well formed"
stop_site
echo "19-outbox-sync: ok"
