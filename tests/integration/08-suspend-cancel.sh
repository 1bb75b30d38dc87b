#!/bin/bash
# 08-suspend-cancel: a suspended member (lost phone) gets nothing and shows
# as 'suspended'; resume brings them back. Cancelling a sent alert drafts a
# 【取消】 notice addressed to exactly the people reached; cancelling a
# pending alert sends nothing.
. "$(dirname "$0")/lib.sh"
start_site

draft() {	# TAG AUDIENCE BODY: prints the id
	local out
	out=$(ctl --json --as soumu_bucho draft --tag "$1" --to "$2" --body "$3") ||
	    fail "draft failed: $out"
	jget "$out" 'd["id"]'
}

ID=$(draft 避難所開設要請 shelter:hs01 '第一小学校の避難所を開設してください。')

# Suspend hs01-2 before the approval: admins only, with a reason.
expect_rc 1 ctl --as soumu_bucho suspend hs01-2 --reason 端末紛失
expect_rc 1 ctl --as hs01-1 suspend hs01-2 --reason 端末紛失
expect_rc 2 ctl --as kiki_shitsucho suspend hs01-2
expect_rc 1 ctl --as kiki_shitsucho suspend no_such_member --reason 端末紛失
expect_rc 0 ctl --as kiki_shitsucho suspend hs01-2 --reason 端末紛失
expect_rc 0 ctl --json roster show hs01-2
assert_eq true "$(jget "$OUT" 'd["member"]["suspended"]')" "hs01-2 suspended"
assert_eq 端末紛失 "$(jget "$OUT" 'd["member"]["suspended_reason"]')" "suspension reason"

expect_rc 0 ctl --as mayor approve "$ID"
wait_sent "$ID" 3
sleep 0.3
expect_rc 0 ctl --json status "$ID"
assert_eq suspended "$(jget "$OUT" '[r["state"] for r in d["recipients"] if r["member"] == "hs01-2"][0]')" \
    "hs01-2's delivery"
assert_eq 1 "$(jget "$OUT" 'd["counts"]["suspended"]')" "counts.suspended"
assert_eq 3 "$(jget "$OUT" 'd["counts"]["sent"]')" "counts.sent"
assert_eq 0 "$(outbox_count member=hs01-2)" "nothing written for hs01-2"
assert_eq "hs01-1
hs01-3
hs01-4" "$(outbox members kind=alert alert="$ID")" "the others are reached"
expect_rc 0 ctl audit --format csv
assert_match "$OUT" ',kiki_shitsucho,suspended,,hs01-2,' "audit: suspended"

# Resume: admins only, once.
expect_rc 1 ctl --as soumu_bucho resume hs01-2
expect_rc 0 ctl --as kiki_shitsucho resume hs01-2
expect_rc 1 ctl --as kiki_shitsucho resume hs01-2
expect_rc 0 ctl --json roster show hs01-2
assert_eq false "$(jget "$OUT" 'd["member"]["suspended"]')" "hs01-2 resumed"
ID2=$(draft 情報共有 shelter:hs01 '第一小学校の鍵は総務課にあります。')
expect_rc 0 ctl --as mayor approve "$ID2"
wait_sent "$ID2" 4
assert_eq 1 "$(outbox_count kind=alert alert="$ID2" member=hs01-2)" "hs01-2 reached again"

# Cancel the first alert (sent to 3): reason required; only the sender,
# an approver or an admin may.
expect_rc 2 ctl --as soumu_bucho cancel "$ID"
expect_rc 1 ctl --as minsei_bucho cancel "$ID" --reason 誤送信
expect_rc 1 ctl --as hs01-1 cancel "$ID" --reason 誤送信
expect_rc 0 ctl --json --as soumu_bucho cancel "$ID" --reason 開設場所の誤り
assert_eq cancelled "$(jget "$OUT" 'd["state"]')" "cancel result state"
assert_eq 3 "$(jget "$OUT" 'd["reached"]')" "cancel: reached"
NOTICE=$(jget "$OUT" 'd["notice"]')
NSTATE=$(jget "$OUT" 'd["notice_state"]')
expect_rc 1 ctl --as soumu_bucho cancel "$ID" --reason 二度目
expect_rc 0 ctl --json status "$ID"
assert_eq cancelled "$(jget "$OUT" 'd["state"]')" "the alert is cancelled"
expect_rc 0 ctl --json status "$NOTICE"
assert_eq 取消 "$(jget "$OUT" 'd["tag"]')" "the notice's tag"
assert_eq "$ID" "$(jget "$OUT" 'd["cancels"]')" "the notice cancels the alert"
assert_eq "$NSTATE" "$(jget "$OUT" 'd["state"]')" "notice state"
if [ "$NSTATE" = pending_approval ]; then
	assert_eq 0 "$(outbox_count kind=alert alert="$NOTICE")" "no notice before approval"
	wait_until 10 "the notice's approval requests" \
	    outbox_count_is 2 kind=approval alert="$NOTICE" member=mayor
	expect_rc 0 ctl --as mayor approve "$NOTICE"
fi
wait_sent "$NOTICE" 3
sleep 0.3
assert_eq "hs01-1
hs01-3
hs01-4" "$(outbox members kind=alert alert="$NOTICE")" \
    "the notice goes to exactly those reached"
while read -r text; do
	assert_contains "$text" 【取消】 "notice text"
	assert_contains "$text" 開設場所の誤り "notice text carries the reason"
done < <(outbox field text kind=alert alert="$NOTICE")
expect_rc 0 ctl --json status "$NOTICE"
assert_eq 3 "$(jget "$OUT" 'len(d["recipients"])')" "notice recipients"

# Cancel a pending alert: it stops, and nobody was reached, so no notice.
ID3=$(draft 情報共有 crisis '本日の訓練は延期します。')
wait_until 10 "approval requests of $ID3" \
    outbox_count_is 2 kind=approval alert="$ID3"
expect_rc 0 ctl --json list
NALERTS=$(jget "$OUT" 'len(d["alerts"])')
LINES=$(outbox_count)
expect_rc 0 ctl --json --as soumu_bucho cancel "$ID3" --reason 不要になった
assert_eq 0 "$(jget "$OUT" 'd["reached"]')" "pending cancel: reached"
assert_eq None "$(jget "$OUT" 'repr(d.get("notice"))')" "pending cancel: no notice"
expect_rc 1 ctl --as mayor approve "$ID3"
sleep 0.3
expect_rc 0 ctl --json list
assert_eq "$NALERTS" "$(jget "$OUT" 'len(d["alerts"])')" "no notice alert was created"
assert_eq "$LINES" "$(outbox_count)" "nothing more written"
assert_eq 0 "$(outbox_count kind=alert alert="$ID3")" "the cancelled alert sent nothing"
expect_rc 0 ctl --json status "$ID3"
assert_eq cancelled "$(jget "$OUT" 'd["state"]')" "pending alert cancelled"

assert_eq "" "$(outbox dupkeys)" "duplicate keys"
stop_site
echo "08-suspend-cancel: ok"
