#!/bin/bash
# 20-approval-chain: the approval chain's timers with step_timeout 2s
# (SPEC §5 step 2). After a draft the mayor is asked; after 2s the deputy
# mayor (職務代理者) is asked too while the mayor's links stay live; the
# deputy's console approval wins and kills every link. A reject before the
# step means the deputy is never asked. With no decision the alert expires
# at link_ttl: every link dies, the sender (soumu_bucho) gets one notice,
# and a late approval is refused.
#
# The first part runs with link_ttl 60s, so that the checks between the
# step and the deputy's approval cannot outlast the deadline on a slow
# machine; the daemon then restarts with link_ttl 5s for the expiry.
. "$(dirname "$0")/lib.sh"
write_config
sed -i -e 's/^  step_timeout: .*/  step_timeout: 2s/' \
    -e 's/^  link_ttl: .*/  link_ttl: 60s/' "$CFG"
start_daemon

BODY='第一小学校と第三小学校の避難所を開設してください。担当職員は参集をお願いします。'

draft() {	# prints the new alert's id
	local out
	out=$(ctl --json --as soumu_bucho draft --tag 避難所開設要請 \
	    --to shelter:hs01,hs03 --body "$BODY") || fail "draft failed: $out"
	jget "$out" 'd["id"]'
}

links() {	# ID MEMBER: that approver's link states, sorted, space-separated
	local j
	j=$(ctl --json show "$1") || fail "show $1 failed"
	jget "$j" '" ".join(sorted(a["link"] for a in d["approvals"] if a["member"] == "'"$2"'"))'
}

state_of() {	# ID
	jget "$(ctl --json status "$1")" 'd["state"]'
}

# count_is N FILTER...: the outbox has N lines matching (for wait_until,
# which runs its command again on every poll).
count_is() {
	local n=$1
	shift
	test "$(outbox_count "$@")" = "$n"
}

state_is() {	# ID STATE
	test "$(state_of "$1")" = "$2"
}

audit_count() {	# ID ACTION
	jget "$(ctl --json audit --alert "$1")" \
	    'sum(1 for r in (d if isinstance(d, list) else d["rows"]) if r["action"] == "'"$2"'")'
}

# --- escalation, then the deputy decides ----------------------------------
t0=$(date +%s.%N)
A=$(draft)
note "alert $A drafted"
wait_until 5 "the mayor's approval requests for $A" \
    count_is 2 kind=approval alert="$A" member=mayor
assert_eq 0 "$(outbox_count kind=approval alert="$A" member=deputy_mayor)" \
    "the deputy is not asked at once"
assert_eq "live live" "$(links "$A" mayor)" "the mayor's links are live"
wait_until 8 "the deputy's approval requests for $A" \
    count_is 2 kind=approval alert="$A" member=deputy_mayor
elapsed=$(python3 -c "import time; print(round(time.time() - $t0, 1))")
note "deputy asked after ${elapsed}s"
python3 -c "import sys; sys.exit(0 if 1.0 <= $elapsed <= 6.0 else 1)" ||
    fail "the deputy was asked after ${elapsed}s, expected about 2s"
assert_eq "lineworks
sms" "$(outbox field channel kind=approval alert="$A" member=deputy_mayor | sort)" \
    "the deputy's approval channels"
while read -r link; do
	assert_match "$link" '^http://127\.0\.0\.1:[0-9]+/a/[A-Za-z0-9_-]{22}$' \
	    "the deputy's approval link"
done < <(outbox field link kind=approval alert="$A" member=deputy_mayor)
assert_eq pending_approval "$(state_of "$A")" "still pending after the step"
assert_eq "live live" "$(links "$A" mayor)" "the mayor's links still live"
assert_eq "live live" "$(links "$A" deputy_mayor)" "the deputy's links live"
assert_eq 1 "$(audit_count "$A" approval_escalated)" "escalated once"
expect_rc 0 ctl --json show "$A"
assert_eq 1 "$(jget "$OUT" 'd["approval_step"]')" "approval_step after one step"
expect_rc 0 ctl --as deputy_mayor approve "$A"
assert_match "$(state_of "$A")" '^(approved|sending|complete)$' "approved by the deputy"
expect_rc 0 ctl --json status "$A"
assert_eq deputy_mayor "$(jget "$OUT" 'd["decided_by"]')" "decided_by"
assert_eq "revoked revoked" "$(links "$A" mayor)" "the mayor's links die"
assert_eq "revoked revoked" "$(links "$A" deputy_mayor)" "the deputy's links die"
expect_rc 1 ctl --as mayor approve "$A"
wait_sent "$A" 8

# --- a reject before the step, and an alert nobody decides ------------------
stop_site
sed -i -e 's/^  link_ttl: .*/  link_ttl: 5s/' "$CFG"
start_daemon
B=$(draft)
C=$(draft)
note "alerts $B (rejected at once) and $C (undecided)"
expect_rc 0 ctl --as mayor reject "$B" --reason 内容を確認中
assert_eq rejected "$(state_of "$B")" "rejected"
assert_eq "revoked revoked" "$(links "$B" mayor)" "the rejected alert's links die"
wait_until 8 "the deputy's approval requests for $C" \
    count_is 2 kind=approval alert="$C" member=deputy_mayor
assert_eq "live live" "$(links "$C" mayor)" "C: the mayor's links still live"
wait_until 8 "alert $C expired" state_is "$C" expired
note "alert $C expired"
assert_eq "revoked revoked" "$(links "$C" mayor)" "C: the mayor's links die"
assert_eq "revoked revoked" "$(links "$C" deputy_mayor)" "C: the deputy's links die"
expect_rc 1 ctl --as mayor approve "$C"
assert_contains "$ERR" "承認待ちではありません" "a late approval is refused"
expect_rc 1 ctl --as deputy_mayor approve "$C"
expect_rc 1 ctl --as mayor reject "$C" --reason 遅すぎた
wait_until 5 "the sender's notice for $C" \
    count_is 1 kind=notice alert="$C"
sleep 0.3	# nothing more may follow
assert_eq 1 "$(outbox_count kind=notice alert="$C" member=soumu_bucho)" \
    "one notice, to the sender"
text=$(outbox field text kind=notice alert="$C")
assert_contains "$text" "【期限切れ】連絡 $C（【避難所開設要請】）" "notice text"
assert_contains "$text" "期限（5秒）を過ぎたため送信されませんでした" "notice text"
assert_eq "" "$(outbox field link kind=notice alert="$C")" "a notice has no link"
assert_eq lineworks "$(outbox field channel kind=notice alert="$C")" \
    "the notice goes on the sender's first delivery channel"
expect_rc 0 ctl --json status "$C"
assert_eq 0 "$(jget "$OUT" 'len(d["recipients"])')" "an expired alert has no recipients"
assert_eq sent "$(jget "$OUT" 'd["notices"][0]["state"]')" "the notice is sent"
assert_eq 1 "$(audit_count "$C" expired)" "expired once"
assert_eq 1 "$(audit_count "$C" notice_sent)" "notice_sent once"
expect_rc 0 ctl show "$C"
assert_contains "$OUT" "期限切れ" "show says expired"

# The rejected alert never reached the deputy, and nothing else did.
assert_eq 0 "$(outbox_count kind=approval alert="$B" member=deputy_mayor)" \
    "the deputy is never asked about a rejected alert"
assert_eq 0 "$(audit_count "$B" approval_escalated)" "B never escalated"
assert_eq 0 "$(outbox_count kind=notice alert="$B")" "no notice for a rejected alert"
assert_eq 0 "$(outbox_count kind=notice alert="$A")" "no notice for an approved alert"
assert_eq 0 "$(audit_count "$A" expired)" "an approved alert never expires"
assert_eq 2 "$(outbox_count kind=approval alert="$A" member=deputy_mayor)" \
    "A: the deputy asked once"
assert_eq "" "$(outbox dupkeys)" "duplicate keys"
assert_eq "" "$(outbox check)" "outbox lines well formed"
stop_site
echo "20-approval-chain: ok"
