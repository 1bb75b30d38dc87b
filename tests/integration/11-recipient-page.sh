#!/bin/bash
# 11-recipient-page: every delivery's own link (SPEC §5 step 4, §6).
# GET /r/TOKEN shows the message and records read (first time only; HEAD
# records nothing); POST confirms with one of the tag's choices (the first
# confirmation stays); status shows both and the 25/50/75/100 % times; a
# drill says 【訓練】, a cancelled alert 取消.
. "$(dirname "$0")/lib.sh"
start_site

TO=member:soumu_bucho,kiki_shitsucho,mayor,deputy_mayor
BODY='全職員は本庁舎に参集してください。'
F=(-H 'Content-Type: application/x-www-form-urlencoded')

# send TAG [ARGS]: drafts to $TO, approves at the console, waits for 4 sent.
send() {
	local out id tag=$1
	shift
	out=$(ctl --json --as "$SENDER" draft --tag "$tag" --to "$TO" \
	    --body "$BODY" "$@") || fail "draft failed: $out"
	id=$(jget "$out" 'd["id"]')
	ctl --as "$APPROVER" approve "$id" >/dev/null || fail "approve $id failed"
	wait_sent "$id" 4
	echo "$id"
}

rlink() {	# ID MEMBER
	outbox field link kind=alert alert="$1" member="$2" | sed -n 1p
}

http() {	# METHOD URL [CURL ARGS]: status; body in $SITE/body
	local m=$1 u=$2
	shift 2
	curl -s -o "$SITE/body" -w '%{http_code}' -X "$m" "$@" "$u"
}

rec() {	# ID MEMBER FIELD: one field of the member's status row
	jget "$(ctl --json status "$1")" \
	    "[r for r in d['recipients'] if r['member'] == '$2'][0]['$3']"
}

ID=$(send 参集指示)
L=$(rlink "$ID" soumu_bucho)
assert_match "$L" "^$BASE_URL/r/[A-Za-z0-9_-]{22}\$" "recipient link shape"

note "HEAD shows, records nothing; GET records read once"
assert_eq 200 "$(http HEAD "$L" -I)" "HEAD"
assert_eq null "$(rec "$ID" soumu_bucho read_at)" "read_at after HEAD"
assert_eq 200 "$(http GET "$L")" "GET"
PAGE=$(cat "$SITE/body")
assert_contains "$PAGE" "$BODY" "message on the page"
assert_contains "$PAGE" '佐伯 浩之 様' "the recipient's name"
for c in 参集できる 遅れて参集 参集できない; do
	assert_contains "$PAGE" "name=\"response\" value=\"$c\">$c</button>" "button $c"
done
assert_not_contains "$PAGE" '【訓練】' "a live alert never says 訓練"
READ1=$(rec "$ID" soumu_bucho read_at)
[ "$READ1" != null ] || fail "read_at not set after GET"
assert_eq null "$(rec "$ID" soumu_bucho confirmed_at)" "not confirmed by reading"
sleep 1.1
http GET "$L" >/dev/null
assert_eq "$READ1" "$(rec "$ID" soumu_bucho read_at)" "read_at is the first time"
expect_rc 0 ctl --json audit --alert "$ID"
assert_eq 1 "$(jget "$OUT" 'sum(1 for r in (d if isinstance(d, list) else d["rows"]) if r["action"] == "read")')" \
    "one audit row for read"

note "POST: unknown choice 400, a choice confirms, the first one stays"
assert_eq 400 "$(http POST "$L" "${F[@]}" --data 'response=%E3%81%AF%E3%81%84')" \
    "unknown response"
assert_eq 400 "$(http POST "$L" "${F[@]}" --data '')" "no response"
assert_eq null "$(rec "$ID" soumu_bucho confirmed_at)" "not confirmed by a bad POST"
assert_eq 200 "$(http POST "$L" "${F[@]}" \
    --data-urlencode 'response=遅れて参集')" "confirm"
assert_contains "$(cat "$SITE/body")" '確認しました' "confirm page"
assert_eq 遅れて参集 "$(rec "$ID" soumu_bucho response)" "response"
CONF=$(rec "$ID" soumu_bucho confirmed_at)
[ "$CONF" != null ] || fail "confirmed_at not set"
assert_eq 200 "$(http POST "$L" "${F[@]}" \
    --data-urlencode 'response=参集できない')" "second confirm"
assert_contains "$(cat "$SITE/body")" 'すでに確認済みです（最初の回答: 遅れて参集）' \
    "second confirm page"
assert_eq 遅れて参集 "$(rec "$ID" soumu_bucho response)" "the first response stays"
http GET "$L" >/dev/null
assert_contains "$(cat "$SITE/body")" '確認済みです（回答: 遅れて参集' "page after confirm"

note "milestones fill in as people confirm"
expect_rc 0 ctl --json status "$ID"
assert_eq 1 "$(jget "$OUT" 'd["counts"]["confirmed"]')" "confirmed count"
[ "$(jget "$OUT" 'd["milestones"]["25"]')" != null ] || fail "25 % milestone empty"
assert_eq null "$(jget "$OUT" 'd["milestones"]["50"]')" "50 % milestone"
for m in kiki_shitsucho mayor deputy_mayor; do
	assert_eq 200 "$(http POST "$(rlink "$ID" "$m")" "${F[@]}" \
	    --data-urlencode 'response=参集できる')" "confirm $m"
done
expect_rc 0 ctl --json status "$ID"
assert_eq 4 "$(jget "$OUT" 'd["counts"]["confirmed"]')" "confirmed count"
assert_eq 4 "$(jget "$OUT" 'd["counts"]["read"]')" "read count (confirming reads)"
for p in 25 50 75 100; do
	[ "$(jget "$OUT" "d['milestones']['$p']")" != null ] || fail "$p % milestone empty"
done
expect_rc 0 ctl status "$ID"
assert_contains "$OUT" '参集できる' "text status shows responses"
expect_rc 0 ctl --json audit --alert "$ID"
assert_eq 4 "$(jget "$OUT" 'sum(1 for r in (d if isinstance(d, list) else d["rows"]) if r["action"] == "confirmed")')" \
    "audit rows for confirmed"

note "ntfy's one-tap action: raw UTF-8 body"
ID2=$(send 情報共有)
assert_eq 200 "$(http POST "$(rlink "$ID2" mayor)" "${F[@]}" \
    --data-binary 'response=確認しました')" "raw UTF-8 confirm"
assert_eq 確認しました "$(rec "$ID2" mayor response)" "ntfy response"

note "a drill says 【訓練】 in large type; a cancelled alert says 取消"
ID3=$(send 参集指示 --drill)
assert_eq 200 "$(http GET "$(rlink "$ID3" mayor)")" "drill page"
assert_contains "$(cat "$SITE/body")" '<p class="drill">【訓練】</p>' "drill banner"
expect_rc 0 ctl --as "$SENDER" cancel "$ID" --reason '誤報のため'
assert_eq 200 "$(http GET "$(rlink "$ID" mayor)")" "page of a cancelled alert"
assert_contains "$(cat "$SITE/body")" '<p class="cancelled">取消</p>' "取消 banner"
assert_contains "$(cat "$SITE/body")" '誤報のため' "cancel reason"
assert_not_contains "$(cat "$SITE/body")" 'name="response"' "no buttons on a cancelled alert"

note "a suspended member's link is dead"
L4=$(rlink "$ID2" deputy_mayor)
expect_rc 0 ctl --as "$ADMIN" suspend deputy_mayor --reason '端末紛失'
assert_eq 404 "$(http GET "$L4")" "link of a suspended member"

stop_site
echo "11-recipient-page: ok"
