#!/bin/bash
# 57-cap: `crisisctl cap ID` for a live alert, a drill and a 取消 notice.
# Each document validates against the OASIS CAP 1.2 schema (a copy in
# tests/data/cap, see its README); the live alert is Actual/Alert, the
# drill Exercise, the notice Cancel with references to the cancelled
# alert; addresses are the recipients' member ids; texts are escaped; the
# values a draft was given with --set are <parameter>s.
. "$(dirname "$0")/lib.sh"
XSD=$REPO/tests/data/cap/CAP-v1.2.xsd
start_site

draft() {	# TAG AUDIENCE BODY [--drill]: prints the id
	local out
	out=$(ctl --json --as soumu_bucho draft --tag "$1" --to "$2" --body "$3" ${4:-}) ||
	    fail "draft failed: $out"
	jget "$out" 'd["id"]'
}

# cap_ok ID: the document of alert ID, checked against the schema; in $CAP.
CAP=""
cap_ok() {
	expect_rc 0 ctl cap "$1"
	CAP=$OUT
	xmllint --noout --schema "$XSD" - <"$SITE/last.out" 2>"$SITE/xmllint.err" ||
	    fail "cap $1 does not validate: $(cat "$SITE/xmllint.err")
$CAP"
}

# capf EXPR: a Python expression over r (the <alert> root, namespace
# prefix "c:") of $CAP; strings print as they are.
capf() {
	python3 - "$CAP" "$1" <<'EOF'
import sys, json, xml.etree.ElementTree as ET
r = ET.fromstring(sys.argv[1].encode())
ns = {"c": "urn:oasis:names:tc:emergency:cap:1.2"}
f = lambda p: r.findtext(p, namespaces=ns)
v = eval(sys.argv[2], {"r": r, "f": f, "ns": ns, "len": len})
print(v if isinstance(v, str) else json.dumps(v, ensure_ascii=False))
EOF
}

TIME_RE='^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\+09:00$'

# --- A live alert, before and after the approval.
ID=$(draft 避難所開設要請 shelter:hs01 '第一小学校の避難所を開設してください。')
cap_ok "$ID"
assert_eq "urn:crisiscast:127.0.0.1:alert:$ID" "$(capf 'f("c:identifier")')" "identifier"
assert_eq "crisiscast@127.0.0.1" "$(capf 'f("c:sender")')" "sender"
assert_eq Actual "$(capf 'f("c:status")')" "status before approval"
assert_eq "hs01-1 hs01-2 hs01-3 hs01-4" "$(capf 'f("c:addresses")')" \
    "addresses before approval: the audience"
expect_rc 0 ctl --as mayor approve "$ID"
wait_sent "$ID" 4
cap_ok "$ID"
assert_match "$CAP" '^<\?xml version="1.0" encoding="UTF-8"\?>' "XML declaration"
assert_eq Actual "$(capf 'f("c:status")')" "status"
assert_eq Alert "$(capf 'f("c:msgType")')" "msgType"
assert_eq Private "$(capf 'f("c:scope")')" "scope"
assert_eq "hs01-1 hs01-2 hs01-3 hs01-4" "$(capf 'f("c:addresses")')" "addresses"
assert_eq "null" "$(capf 'f("c:references")')" "no references"
SENT=$(capf 'f("c:sent")')
assert_match "$SENT" "$TIME_RE" "sent"
expect_rc 0 ctl --json status "$ID"
DECIDED=$(jget "$OUT" 'd["decided_at"]')
assert_eq "$DECIDED" "$SENT" "sent is the approval time"
assert_eq ja-JP "$(capf 'f("c:info/c:language")')" "language"
assert_eq 避難所開設要請 "$(capf 'f("c:info/c:event")')" "event is the tag"
assert_eq "Safety Immediate Severe Likely" \
    "$(capf '" ".join(f("c:info/c:" + k) for k in ("category", "urgency", "severity", "certainty"))')" \
    "CAP fields from tags.yaml"
assert_eq 〇〇町 "$(capf 'f("c:info/c:senderName")')" "senderName"
assert_eq "【避難所開設要請】第一小学校の避難所を開設してください。" \
    "$(capf 'f("c:info/c:headline")')" "headline"
# The same identifier every time: it is stable.
cap_ok "$ID"
assert_eq "urn:crisiscast:127.0.0.1:alert:$ID" "$(capf 'f("c:identifier")')" \
    "identifier again"
# --json: the object, with the same document.
expect_rc 0 ctl --json cap "$ID"
assert_eq "$CAP" "$(jget "$OUT" 'd["xml"]')" "--json carries the document"

# --- A drill: Exercise.
DRILL=$(draft 訓練 shelter:hs02 '避難所開設の訓練です。参集の確認をお願いします。' --drill)
expect_rc 0 ctl --as mayor approve "$DRILL"
wait_sent "$DRILL" 4
cap_ok "$DRILL"
assert_eq Exercise "$(capf 'f("c:status")')" "drill status"
assert_eq Alert "$(capf 'f("c:msgType")')" "drill msgType"
assert_eq 訓練 "$(capf 'f("c:info/c:event")')" "drill event"
assert_eq "Safety Future Minor Unlikely" \
    "$(capf '" ".join(f("c:info/c:" + k) for k in ("category", "urgency", "severity", "certainty"))')" \
    "drill CAP fields"

# --- Cancel the live alert, with a reason that needs escaping.
REASON='開設場所の誤り <第三小> & "再送" '"'"'注意'"'"
expect_rc 0 ctl --json --as soumu_bucho cancel "$ID" --reason "$REASON"
NOTICE=$(jget "$OUT" 'd["notice"]')
if [ "$(jget "$OUT" 'd["notice_state"]')" = pending_approval ]; then
	cap_ok "$NOTICE"
	assert_eq "hs01-1 hs01-2 hs01-3 hs01-4" "$(capf 'f("c:addresses")')" \
	    "notice addresses before its approval: those reached"
	expect_rc 0 ctl --as mayor approve "$NOTICE"
fi
wait_sent "$NOTICE" 4
cap_ok "$NOTICE"
assert_eq Cancel "$(capf 'f("c:msgType")')" "notice msgType"
assert_eq Actual "$(capf 'f("c:status")')" "notice status"
assert_eq "crisiscast@127.0.0.1,urn:crisiscast:127.0.0.1:alert:$ID,$SENT" \
    "$(capf 'f("c:references")')" "references: sender,identifier,sent"
assert_eq "$REASON" "$(capf 'f("c:note")')" "note: the reason, round-tripped"
assert_eq "hs01-1 hs01-2 hs01-3 hs01-4" "$(capf 'f("c:addresses")')" \
    "notice addresses"
assert_eq 取消 "$(capf 'f("c:info/c:event")')" "notice event"
assert_contains "$(capf 'f("c:info/c:description")')" "$REASON" \
    "the reason in the description"
assert_contains "$CAP" '&lt;第三小&gt; &amp; &quot;再送&quot;' "escaped reason"
# The cancelled alert itself still exports as the Alert it was.
cap_ok "$ID"
assert_eq Alert "$(capf 'f("c:msgType")')" "cancelled alert msgType"
assert_eq "$SENT" "$(capf 'f("c:sent")')" "cancelled alert sent unchanged"

# A drill's cancel is an Exercise too.
expect_rc 0 ctl --json --as soumu_bucho cancel "$DRILL" --reason 訓練終了
DNOTICE=$(jget "$OUT" 'd["notice"]')
[ "$(jget "$OUT" 'd["notice_state"]')" != pending_approval ] ||
	expect_rc 0 ctl --as mayor approve "$DNOTICE"
wait_sent "$DNOTICE" 4
cap_ok "$DNOTICE"
assert_eq "Exercise Cancel" "$(capf 'f("c:status") + " " + f("c:msgType")')" \
    "drill cancel"

# --- The drafter's --set values: one <parameter> each, escaped.
out=$(ctl --json --as soumu_bucho draft --tag 参集指示 --to crisis \
    --body '全職員は本庁舎に参集してください。' \
    --set 'place=本庁舎3階 <災対本部> & 会議室' --set time=21:30) ||
    fail "draft with --set failed: $out"
VARS=$(jget "$out" 'd["id"]')
cap_ok "$VARS"
assert_eq '[["place", "本庁舎3階 <災対本部> & 会議室"], ["time", "21:30"]]' \
    "$(capf '[[p.findtext("c:valueName", namespaces=ns), p.findtext("c:value", namespaces=ns)] for p in r.findall("c:info/c:parameter", ns)]')" \
    "parameters: the values, in the order given"
assert_contains "$CAP" '&lt;災対本部&gt; &amp; 会議室' "escaped value"
cap_ok "$ID"
assert_eq 0 "$(capf 'len(r.findall("c:info/c:parameter", ns))')" \
    "no parameters without --set"

# --- Refusals: no such alert, not a number.
expect_rc 1 ctl cap 999999
assert_contains "$ERR" "連絡 999999 はありません" "unknown alert"
expect_rc 2 ctl cap abc
expect_rc 2 ctl cap

stop_site
echo "57-cap: ok"
