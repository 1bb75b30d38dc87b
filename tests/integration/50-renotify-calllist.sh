#!/bin/bash
# 50-renotify-calllist: a 94-recipient 避難所開設要請 where 60 confirm.
# At the ack deadline the other 34, and no one else, get a second round on
# their next channel (lineworks -> ntfy); after the last round
# (renotify_max 1) the sender and the 危機管理室長 get the call list, which
# names exactly the 34 (one a line), as does `status --unconfirmed`; the
# alert is complete. One shelter reaches readiness (2 参集できる), another
# does not (1 参集できる, 1 参集できない).
# The tag's ack_deadline is 8s here (the config's is 2s): 60 confirmations
# must land before the first deadline even under ASan.
. "$(dirname "$0")/lib.sh"
. "$TESTDIR/fu_lib.sh"
fu_site 8s 1

ID=$(fu_draft 避難所開設要請 crisis+shelter '各避難所を開設してください。')
expect_rc 0 ctl --as "$APPROVER" approve "$ID"
wait_sent "$ID" 94
ALL=$(outbox members kind=alert alert="$ID")
assert_eq 94 "$(wc -l <<<"$ALL")" "94 recipients"
CRISIS=$(ctl --json status "$ID" | python3 -c '
import json, sys
d = json.load(sys.stdin)
print("\n".join(sorted(r["member"] for r in d["recipients"] if not r.get("shelter"))))')
assert_eq 38 "$(wc -l <<<"$CRISIS")" "crisis members"
# 22 shelter staff confirm: hs01-1/2 can go (ready), hs02-1 can go and
# hs02-2 cannot (not ready), 18 more from hs03-hs07 come late.
LATE=$(for s in 3 4 5 6; do for k in 1 2 3 4; do echo "hs0$s-$k"; done; done
    echo hs07-1; echo hs07-2)
assert_eq 18 "$(wc -l <<<"$LATE")" "late staff"
# shellcheck disable=SC2086
fu_confirm "$ID" 参集できる $CRISIS hs01-1 hs01-2 hs02-1
fu_confirm "$ID" 参集できない hs02-2
# shellcheck disable=SC2086
fu_confirm "$ID" 遅れて参集 $LATE
CONFIRMED=$(printf '%s\n' $CRISIS hs01-1 hs01-2 hs02-1 hs02-2 $LATE | sort)
assert_eq 60 "$(wc -l <<<"$CONFIRMED")" "60 confirmed"
SILENT=$(comm -23 <(sort <<<"$ALL") <(echo "$CONFIRMED"))
assert_eq 34 "$(wc -l <<<"$SILENT")" "34 silent"
assert_eq 0 "$(fu_rows "$ID" 'd["round"]')" "no round before the deadline"
assert_eq 60 "$(fu_rows "$ID" 'd["counts"]["confirmed"]')" "confirmed count"

note "shelter readiness"
J=$(ctl --json status "$ID")
assert_eq true "$(jget "$J" 'd["readiness"]')" "the tag has a readiness rule"
assert_eq '[true, 2, 4]' "$(jget "$J" '[[s["ready"], s["ready_count"], s["staff"]] for s in d["shelters"] if s["id"] == "hs01"][0]')" "hs01 ready"
assert_eq '[false, 1, 4]' "$(jget "$J" '[[s["ready"], s["ready_count"], s["staff"]] for s in d["shelters"] if s["id"] == "hs02"][0]')" "hs02 not ready"
assert_eq 1 "$(jget "$J" 'sum(1 for s in d["shelters"] if s["ready"])')" "only hs01 is ready"
assert_eq 14 "$(jget "$J" 'len(d["shelters"])')" "every targeted shelter listed"
expect_rc 0 ctl status "$ID"
assert_contains "$OUT" '避難所 hs01 第一小学校体育館: 開設可能（参集可 2 / 4 名' "text readiness hs01"
assert_match "$OUT" '避難所 hs02 .*: 未充足（参集可 1 / 4 名' "text readiness hs02"

note "round 1 at the deadline: exactly the 34, on ntfy"
wait_until 15 "the second round" outbox_count_is 34 kind=alert alert="$ID" channel=ntfy
sleep 0.5
assert_eq "$SILENT" "$(outbox members kind=alert alert="$ID" channel=ntfy)" \
    "round 1 reaches exactly the unconfirmed"
assert_eq 128 "$(outbox_count kind=alert alert="$ID")" "94 + 34 messages, no one else"
assert_eq 1 "$(fu_rows "$ID" 'd["round"]')" "status round"
R1=$(outbox field link kind=alert alert="$ID" channel=ntfy | sed -n 1p)
L0=$(fu_link "$ID" "$(sed -n 1p <<<"$SILENT")")
[ "$R1" != "$L0" ] || fail "round 1 carries a new link"

note "the call list after the last round"
wait_until 15 "the call list" outbox_count_is 2 kind=notice alert="$ID"
assert_eq "kiki_shitsucho
soumu_bucho" "$(outbox members kind=notice alert="$ID")" "call list to sender and 危機管理室長"
wait_until 5 "complete" fu_state_is "$ID" complete
NAMES=$(ctl --json status "$ID" | python3 -c '
import json, sys
d = json.load(sys.stdin)
silent = set(sys.argv[1].split())
names = {r["member"]: r["name"] for r in d["recipients"]}
print("\n".join(sorted(names[m] for m in silent)))' "$SILENT")
for m in soumu_bucho kiki_shitsucho; do
	TEXT=$(outbox field text kind=notice alert="$ID" member="$m" | sed 's/\\n/\n/g')
	assert_contains "$TEXT" '【未確認者一覧】' "call list heading ($m)"
	assert_contains "$TEXT" '確認がない 34 名' "call list count ($m)"
	assert_eq "$NAMES" "$(grep '^・' <<<"$TEXT" | sed 's/^・\([^（]*\)（.*/\1/' | sort)" \
	    "call list names exactly the 34 ($m)"
	assert_match "$TEXT" '^・.*（避難所担当[^）]*）|^・.*（[^）]*）' "call list lines"
	assert_eq 34 "$(grep -cE '^・.*\+81[0-9]+' <<<"$TEXT")" "each line has a phone ($m)"
done
expect_rc 0 ctl status "$ID" --unconfirmed
assert_eq "$(outbox field text kind=notice alert="$ID" member=soumu_bucho | sed 's/\\n/\n/g')" \
    "$OUT" "status --unconfirmed prints the same list"
expect_rc 0 ctl --json status "$ID" --unconfirmed
assert_eq "$SILENT" "$(jget "$OUT" '"\n".join(sorted(u["member"] for u in d["unconfirmed"]))')" \
    "JSON unconfirmed"
expect_rc 0 ctl --json audit --alert "$ID"
assert_eq 1 "$(jget "$OUT" 'sum(1 for r in (d if isinstance(d, list) else d["rows"]) if r["action"] == "renotify_round")')" "audit renotify_round"
assert_eq 1 "$(jget "$OUT" 'sum(1 for r in (d if isinstance(d, list) else d["rows"]) if r["action"] == "escalated")')" "audit escalated"

note "nothing more after completion"
LINES=$(outbox_count)
sleep 2.5
assert_eq "$LINES" "$(outbox_count)" "no third round"
assert_eq "" "$(outbox dupkeys)" "duplicate keys"
stop_site
echo "50-renotify-calllist: ok"
