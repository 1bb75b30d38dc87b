#!/bin/bash
# 10-approval-link: the mayor decides from the link in the SMS (SPEC §5
# step 2, §6). GET never decides; a POST needs the page's nonce; the
# decision records who, how and the client; the link then dies with every
# other approval link of the alert, and a dead link is the same 404 as a
# link that never existed.
. "$(dirname "$0")/lib.sh"
start_site

BODY='全職員は本庁舎に参集してください。'

# draft [ARGS]: a 参集指示 to the crisis group; prints the id.
draft() {
	local out
	out=$(ctl --json --as "$SENDER" draft --tag 参集指示 --body "$BODY" "$@") ||
	    fail "draft failed: $out"
	jget "$out" 'd["id"]'
}

# link ID: the first approval link of alert ID in the outbox.
link() {
	wait_until 10 "approval request of alert $1" \
	    outbox_has_link kind=approval alert="$1"
	outbox field link kind=approval alert="$1" | sed -n 1p
}

state() {
	jget "$(ctl --json status "$1")" 'd["state"]'
}

# http METHOD URL [CURL ARGS]: the status code; the body is in $SITE/body.
http() {
	local m=$1 u=$2
	shift 2
	curl -s -o "$SITE/body" -D "$SITE/headers" -w '%{http_code}' -X "$m" \
	    "$@" "$u"
}

nonce_of() {	# the nonce in $SITE/body
	sed -n 's/.*name="nonce" value="\([^"]*\)".*/\1/p' "$SITE/body" | sed -n 1p
}

ID=$(draft)
ID2=$(draft)
L=$(link "$ID")
L2=$(link "$ID2")
assert_match "$L" "^$BASE_URL/a/[A-Za-z0-9_-]{22}\$" "approval link shape"

note "GET five times: the page, and the alert is still pending"
for i in 1 2 3 4 5; do
	assert_eq 200 "$(http GET "$L")" "GET $i of the approval page"
done
assert_eq 200 "$(http HEAD "$L" -I)" "HEAD of the approval page"
assert_eq pending_approval "$(state "$ID")" "state after GETs"
http GET "$L" >/dev/null
PAGE=$(cat "$SITE/body")
HEAD=$(cat "$SITE/headers")
for h in "Content-Security-Policy: default-src 'none'" "form-action 'self'" \
    "X-Frame-Options: DENY" "Referrer-Policy: no-referrer" \
    "Cache-Control: no-store" "Content-Type: text/html; charset=utf-8"; do
	assert_contains "$HEAD" "$h" "security header"
done
assert_contains "$PAGE" '承認依頼' "page heading"
assert_contains "$PAGE" '【参集指示】' "tag"
assert_contains "$PAGE" '総務部長' "sender"
assert_contains "$PAGE" "$BODY" "body"
assert_contains "$PAGE" '合計 38 名' "audience count"
assert_contains "$PAGE" '危機管理グループ' "per-group count"
assert_contains "$PAGE" '<h3>SMS' "the SMS form of the message"
assert_contains "$PAGE" 'name="reason"' "reject reason"
assert_not_contains "$PAGE" '【訓練】' "a live alert never says 訓練"
assert_not_contains "$PAGE" '<script' "no JavaScript"
assert_not_contains "$PAGE" 'src=' "nothing loaded from outside"
N1=$(nonce_of)
[ ${#N1} -eq 22 ] || fail "nonce: expected 22 characters, got [$N1]"
http GET "$L2" >/dev/null
N2=$(nonce_of)
[ "$N1" != "$N2" ] || fail "two alerts' pages carry the same nonce"

note "POSTs without the page's nonce are refused"
F=(-H 'Content-Type: application/x-www-form-urlencoded')
assert_eq 403 "$(http POST "$L" "${F[@]}" --data 'action=approve')" "POST without nonce"
assert_contains "$(cat "$SITE/body")" 'このフォームは無効です' "403 page"
assert_eq 403 "$(http POST "$L" "${F[@]}" --data "action=approve&nonce=$N2")" \
    "POST with another alert's nonce"
assert_eq 403 "$(http POST "$L" "${F[@]}" --data "action=approve&nonce=${N1%?}")" \
    "POST with a truncated nonce"
assert_eq 400 "$(http POST "$L" --data "action=approve&nonce=$N1" \
    -H 'Content-Type: text/plain')" "POST as text/plain"
assert_eq 400 "$(http POST "$L" "${F[@]}" --data "action=maybe&nonce=$N1")" \
    "POST with an unknown action"
assert_eq 400 "$(http POST "$L" "${F[@]}" --data "action=reject&nonce=$N1&reason=+%0D%0A")" \
    "reject without a reason"
assert_contains "$(cat "$SITE/body")" '却下の理由を入力してください' "reason page"
assert_eq pending_approval "$(state "$ID")" "state after refused POSTs"

note "POST 承認 with the nonce: approved by the mayor, by link, deliveries go out"
assert_eq 200 "$(http POST "$L" "${F[@]}" -A 'TestPhone/1.0 <x>' \
    --data "action=approve&nonce=$N1")" "POST approve"
assert_contains "$(cat "$SITE/body")" '承認しました。38名に送信します' "result page"
wait_sent "$ID" 38
expect_rc 0 ctl --json status "$ID"
assert_eq mayor "$(jget "$OUT" 'd["decided_by"]')" "decided_by"
assert_eq link "$(jget "$OUT" 'd["decided_how"]')" "decided_how"
CLIENT=$(sqlite3 "$STATE/state.db" "SELECT decision_client FROM alerts WHERE id = $ID")
assert_eq '127.0.0.1 TestPhone/1.0 <x>' "$CLIENT" "decision_client (address and UA)"
assert_eq 1 "$(sqlite3 "$STATE/state.db" "SELECT count(*) FROM tokens
    WHERE alert_id = $ID AND kind = 'approval' AND used_at IS NOT NULL")" \
    "the link is marked used"

note "the used link, the mayor's other link and an unknown one: the same 404"
http GET "$BASE_URL/a/AAAAAAAAAAAAAAAAAAAAAA" >/dev/null
cp "$SITE/body" "$SITE/404.unknown"
assert_eq 404 "$(http GET "$L")" "GET of the used link"
cmp -s "$SITE/body" "$SITE/404.unknown" || fail "used-link 404 differs from unknown-token 404"
assert_contains "$(cat "$SITE/body")" 'ページが見つかりません' "404 page in Japanese"
assert_eq 404 "$(http POST "$L" "${F[@]}" --data "action=approve&nonce=$N1")" \
    "POST of the used link"
cmp -s "$SITE/body" "$SITE/404.unknown" || fail "used-link POST 404 differs"
OTHER=$(outbox field link kind=approval alert="$ID" | sed -n 2p)
[ -n "$OTHER" ] && [ "$OTHER" != "$L" ] || fail "expected a second approval link (lineworks)"
assert_eq 404 "$(http GET "$OTHER")" "the mayor's other link after the decision"
cmp -s "$SITE/body" "$SITE/404.unknown" || fail "revoked-link 404 differs"

note "a console decision kills the links"
expect_rc 0 ctl --as "$APPROVER" reject "$ID2" --reason '内容を確認中'
assert_eq 404 "$(http GET "$L2")" "link after a console reject"
cmp -s "$SITE/body" "$SITE/404.unknown" || fail "console-decided 404 differs"

note "reject by link, with a reason"
ID3=$(draft)
L3=$(link "$ID3")
http GET "$L3" >/dev/null
N3=$(nonce_of)
assert_eq 200 "$(http POST "$L3" "${F[@]}" \
    --data "action=reject&nonce=$N3&reason=%E5%AE%9B%E5%85%88%E3%81%AE%E8%AA%A4%E3%82%8A")" \
    "POST reject"
assert_contains "$(cat "$SITE/body")" '却下しました' "reject result page"
expect_rc 0 ctl --json status "$ID3"
assert_eq rejected "$(jget "$OUT" 'd["state"]')" "state after reject"
assert_eq 宛先の誤り "$(jget "$OUT" 'd["reason"]')" "reject reason"
assert_eq link "$(jget "$OUT" 'd["decided_how"]')" "reject how"
assert_eq 0 "$(outbox_count kind=alert alert="$ID3")" "nothing sent for a rejected alert"
assert_eq 404 "$(http GET "$L3")" "link after reject"

note "an expired link is the same 404"
ID4=$(draft)
L4=$(link "$ID4")
sqlite3 "$STATE/state.db" "UPDATE tokens SET expires_at = 1 WHERE alert_id = $ID4"
assert_eq 404 "$(http GET "$L4")" "expired link"
cmp -s "$SITE/body" "$SITE/404.unknown" || fail "expired-link 404 differs"

note "a drill says 【訓練】 in large type"
ID5=$(draft --drill)
L5=$(link "$ID5")
assert_eq 200 "$(http GET "$L5")" "drill approval page"
assert_contains "$(cat "$SITE/body")" '<p class="drill">【訓練】</p>' "drill banner"

stop_site
echo "10-approval-link: ok"
