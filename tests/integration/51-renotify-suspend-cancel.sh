#!/bin/bash
# 51-renotify-suspend-cancel: ack_deadline 4s, renotify_max 2. A member
# who confirmed and a suspended member (lost phone: their old link 404s)
# get no re-notify; the rest do. Cancel then stops every round, and the
# 【取消】 notice reaches exactly those already reached (the suspended one
# gets nothing more). Resume restores them for a new alert.
. "$(dirname "$0")/lib.sh"
. "$TESTDIR/fu_lib.sh"
fu_site 4s 2

ID=$(fu_draft 情報共有 shelter:hs01,hs02 '第一・第二避難所の鍵は総務課にあります。')
expect_rc 0 ctl --as "$APPROVER" approve "$ID"
wait_sent "$ID" 8
fu_confirm "$ID" 確認しました hs01-1
OLD=$(fu_link "$ID" hs01-2)
expect_rc 0 ctl --as "$ADMIN" suspend hs01-2 --reason 端末紛失
assert_eq 404 "$(curl -s -o /dev/null -w '%{http_code}' "$OLD")" "suspended member's old link"

wait_until 15 "round 1" outbox_count_is 6 kind=alert alert="$ID" channel=ntfy
assert_eq "hs01-3
hs01-4
hs02-1
hs02-2
hs02-3
hs02-4" "$(outbox members kind=alert alert="$ID" channel=ntfy)" \
    "round 1: neither the confirmed nor the suspended"
assert_eq 1 "$(outbox_count member=hs01-2)" "hs01-2: the first message only"
assert_eq 1 "$(outbox_count member=hs01-1)" "hs01-1: the first message only"

expect_rc 0 ctl --json --as "$SENDER" cancel "$ID" --reason 連絡の誤り
assert_eq 8 "$(jget "$OUT" 'd["reached"]')" "cancel: reached, per person (hs01-2 was reached before)"
NOTICE=$(jget "$OUT" 'd["notice"]')
if [ "$(jget "$OUT" 'd["notice_state"]')" = pending_approval ]; then
	wait_until 10 "the notice's approval requests" \
	    outbox_count_is 2 kind=approval alert="$NOTICE" member=mayor
	expect_rc 0 ctl --as "$APPROVER" approve "$NOTICE"
fi
wait_sent "$NOTICE" 7
assert_eq "hs01-1
hs01-3
hs01-4
hs02-1
hs02-2
hs02-3
hs02-4" "$(outbox members kind=alert alert="$NOTICE")" \
    "取消 reaches exactly those reached, the suspended one excepted"
LINES=$(outbox_count kind=alert alert="$ID")
sleep 5
assert_eq "$LINES" "$(outbox_count kind=alert alert="$ID")" "no round after cancel"
assert_eq 0 "$(outbox_count kind=notice alert="$ID")" "no call list for a cancelled alert"
assert_eq 1 "$(outbox_count member=hs01-2)" "hs01-2 got nothing more"

expect_rc 0 ctl --as "$ADMIN" resume hs01-2
assert_eq 404 "$(curl -s -o /dev/null -w '%{http_code}' "$OLD")" "old link stays dead"
ID2=$(fu_draft 情報共有 member:hs01-2 '鍵の受け渡しは明朝です。')
expect_rc 0 ctl --as "$APPROVER" approve "$ID2"
wait_sent "$ID2" 1
fu_confirm "$ID2" 確認しました hs01-2
wait_until 5 "complete once everyone confirmed" fu_state_is "$ID2" complete
stop_site
echo "51-renotify-suspend-cancel: ok"
