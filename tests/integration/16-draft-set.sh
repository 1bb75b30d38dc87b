#!/bin/bash
# 16-draft-set: `crisisctl draft --set KEY=VALUE` fills var.KEY in the
# tag's templates. A 参集指示 drafted with place and time reaches every
# recipient with both (the outbox, the recipient page, the approval page,
# `show`, a re-notify round, and after a restart), and the draft's audit
# row records them. Every bad input is refused and stores nothing: a
# malformed --set (exit 2, crisisctl never sends it), a key the tag's
# templates do not use, a required value left out, personal data in a
# value, a value that pushes the SMS form over one segment (exit 1, the
# reason printed), and control frames carrying garbage "vars" (a clear
# usage error; the daemon runs on).
#
# The site's templates are a copy of the repo's in which 被害報告 requires
# area: its long form says 被害地区: {{var.area}} and its SMS form carries
# {{var.area}} too.
. "$(dirname "$0")/lib.sh"
write_config
mkdir "$SITE/templates"
cp "$REPO"/templates/*.txt "$SITE/templates/"
printf '%s\n' '{{body}}' '被害地区: {{var.area}}' '確認はこちら: {{link}}' \
    >"$SITE/templates/damage_report.long.txt"
printf '%s\n' '{{#drill}}【訓練】{{/drill}}{{tag}}{{var.area}} {{link}}' \
    >"$SITE/templates/damage_report.sms.txt"
sed -i "s|^templates_dir: .*|templates_dir: \"$SITE/templates\"|" "$CFG"
grep -q "^templates_dir: \"$SITE/templates\"" "$CFG" || fail "templates_dir not set"
start_daemon

BODY='災害対策本部を設置します。参集してください。'
PLACE='本庁舎3階 災害対策本部室'
draft() {	# ARGS: a 参集指示 draft by the sender with ARGS
	ctl --as "$SENDER" draft --tag 参集指示 --body "$BODY" "$@"
}

note "malformed --set: usage errors (exit 2), in Japanese"
expect_rc 2 draft --set place
assert_contains "$ERR" "--set は 名前=値 の形で指定してください" "no ="
expect_rc 2 draft --set =本庁舎
assert_contains "$ERR" "--set は 名前=値 の形で指定してください" "empty key"
expect_rc 2 draft --set 'a.b=x'
assert_contains "$ERR" "--set の名前「a.b」は使えません（英字・数字・_ で 32 バイトまで" "dotted key"
expect_rc 2 draft --set '場所=本庁舎'
assert_contains "$ERR" "は使えません" "non-ASCII key"
expect_rc 2 draft --set 'a-b=x'
assert_contains "$ERR" "--set の名前「a-b」は使えません" "key with '-'"
expect_rc 2 draft --set "$(printf 'k%.0s' $(seq 33))=x"
assert_contains "$ERR" "は使えません" "33-byte key"
expect_rc 2 draft --set place=本庁舎 --set place=別館
assert_contains "$ERR" "--set place が二度指定されています" "repeated key"
expect_rc 2 draft --set place=
assert_contains "$ERR" "--set place の値が空です" "empty value"
expect_rc 2 draft --set "$(printf 'place=一行目\n二行目')"
assert_contains "$ERR" "--set place の値に制御文字 U+000A があります" "newline in a value"
expect_rc 2 draft --set "place=$(printf 'a%.0s' $(seq 257))"
assert_contains "$ERR" "--set place の値が長すぎます（257 バイト。256 バイトまで）" "257-byte value"
expect_rc 2 draft --set "$(printf 'place=\xff\xfe')"
assert_contains "$ERR" "--set place の値が UTF-8 の文字列ではありません" "invalid UTF-8"
many=()
for i in $(seq 0 16); do many+=(--set "k$i=v"); done
expect_rc 2 draft "${many[@]}"
assert_contains "$ERR" "--set は 16 個までです（k16 で超えました）" "17 values"
expect_rc 2 ctl list --set a=b
assert_contains "$ERR" "list では --set は使えません" "--set on another verb"

note "refused by the rules (exit 1), every reason printed"
expect_rc 1 draft --set "place=$PLACE" --set room=301
assert_contains "$ERR" "--set room はタグ【参集指示】のテンプレート（assemble）で使われていません（使える名前: place, time）" "unknown key"
expect_rc 1 ctl --as "$SENDER" draft --tag 情報共有 --body "$BODY" --set "place=$PLACE"
assert_contains "$ERR" "（このタグのテンプレートは --set の値を使いません）" "a tag without vars"
expect_rc 1 draft --set 'place=不明点は 090-1234-5678 へ'
assert_contains "$ERR" "--set place の値に個人を特定できる情報（電話番号 [phone]）: 「090-1234-5678」（6文字目から13文字）" "PII in a value"
expect_rc 1 draft --set 'time=22時30分' --set 'place=taro@example.jp'
assert_contains "$ERR" "--set place の値に個人を特定できる情報" "e-mail address in a value"
expect_rc 1 ctl --as "$SENDER" draft --tag 被害報告 --body '東地区で道路が冠水しています。'
assert_contains "$ERR" "--set area=値 が必要です（タグ【被害報告】のテンプレート damage_report.long.txt が {{var.area}} を使います）" "missing required value"
LONGAREA=東地区の一丁目から五丁目まで及び西地区の一部と北地区の山沿い全域
expect_rc 1 ctl --as "$SENDER" draft --tag 被害報告 --body '道路が冠水しています。' \
    --set "area=$LONGAREA"
assert_contains "$ERR" "SMSの文面が1通（70文字）に収まりません" "SMS too long by a value"
assert_contains "$ERR" "--set の値（area）を短くするか" "the SMS refusal names the value"
# --json carries the reasons too
expect_rc 1 ctl --json --as "$SENDER" draft --tag 参集指示 --body "$BODY" --set room=1
assert_contains "$(jget "$OUT" 'd["errors"]')" "--set room は" "--json refusal"

note "rules check takes --set and stores nothing"
expect_rc 1 ctl --as "$SENDER" rules check --tag 参集指示 --body "$BODY" --set room=1
assert_contains "$ERR" "--set room はタグ【参集指示】" "rules check: unknown key"
expect_rc 0 ctl --json rules check --tag 参集指示 --body "$BODY" --set "place=$PLACE"
assert_eq true "$(jget "$OUT" 'd["ok"]')" "rules check with a value"
expect_rc 2 ctl rules check --tag 参集指示 --body "$BODY" --set place

note "control frames with garbage vars: usage errors, the daemon runs on"
python3 - "$CRISISCAST_SOCKET" "$SENDER" <<'PY' || fail "garbage vars frames (above)"
import json, socket, struct, sys

path, sender = sys.argv[1], sys.argv[2]
args = '"tag": "参集指示", "body": "参集してください。"'
many = ", ".join('"k%d": "v"' % i for i in range(17))
# (the args' "vars" as raw JSON text, what the error must say)
cases = [
    ('"place=本庁舎"', 'vars は {"名前": "値"} の形のオブジェクトです'),
    ('["place", "本庁舎"]', 'の形のオブジェクトです'),
    ('null', 'の形のオブジェクトです'),
    ('42', 'の形のオブジェクトです'),
    ('{"place": 1}', '--set place の値が文字列ではありません'),
    ('{"place": {"a": "b"}}', '--set place の値が文字列ではありません'),
    ('{"place": ["本庁舎"]}', '--set place の値が文字列ではありません'),
    ('{"place": null}', '--set place の値が文字列ではありません'),
    ('{"place": "本庁舎", "place": "別館"}', '--set place が二度指定されています'),
    ('{' + many + '}', '--set は 16 個までです（k16 で超えました）'),
    ('{"a.b": "x"}', '--set の名前「a.b」は使えません'),
    ('{"": "x"}', '--set の名前「」は使えません'),
    ('{"場所": "x"}', 'は使えません'),
    ('{"place": "\\u0007"}', '--set place の値に制御文字 U+0007'),
    ('{"place": "a\\nb"}', '--set place の値に制御文字 U+000A'),
    ('{"place": "\\u202e逆順"}', '--set place の値に制御文字 U+202E'),
    ('{"place": "%s"}' % ("a" * 257), '--set place の値が長すぎます'),
    ('{"place": ""}', '--set place の値が空です'),
    ('{"place": "本庁舎"}, "vars": {"time": "1"}', 'vars が二度指定されています'),
]
bad = 0
for raw, want in cases:
    text = '{"v": 1, "cmd": "draft", "as": "%s", "args": {%s, "vars": %s}}' % (
        sender, args, raw)
    payload = text.encode()
    json.loads(payload)  # the frame itself is valid JSON
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(15)
    s.connect(path)
    s.sendall(struct.pack(">I", len(payload)) + payload)
    buf = b""
    while len(buf) < 4 or len(buf) < 4 + struct.unpack(">I", buf[:4])[0]:
        chunk = s.recv(65536)
        if not chunk:
            break
        buf += chunk
    s.close()
    try:
        reply = json.loads(buf[4:].decode())
    except ValueError:
        print("FAIL: %s: no reply frame: %r" % (raw[:60], buf[:200]))
        bad += 1
        continue
    errs = " / ".join(reply.get("errors", []))
    if reply.get("code") != 2 or want not in errs:
        print("FAIL: vars %s: expected code 2 and [%s], got code %r: %s" % (
            raw[:60], want, reply.get("code"), errs))
        bad += 1
    if reply.get("result", {}).get("id") is not None:
        print("FAIL: vars %s: an alert id came back" % raw[:60])
        bad += 1
sys.exit(1 if bad else 0)
PY
kill -0 "$DPID" 2>/dev/null || fail "crisiscastd died on garbage vars"
expect_rc 0 ctl ping
expect_rc 0 ctl --json list
assert_eq 0 "$(jget "$OUT" 'len(d["alerts"])')" "no bad input was stored"
expect_rc 0 ctl --json audit
assert_eq 0 "$(jget "$OUT" 'sum(1 for r in d["rows"] if r["action"] == "draft")')" \
    "no draft in the audit trail"
assert_eq 0 "$(outbox_count)" "nothing in the outbox"

note "a draft with place and time"
expect_rc 0 ctl --json --as "$SENDER" draft --tag 参集指示 --body "$BODY" \
    --set "place=$PLACE" --set time=22時30分
ID=$(jget "$OUT" 'd["id"]')
assert_eq pending_approval "$(jget "$OUT" 'd["state"]')" "state"
assert_eq "{\"place\": \"$PLACE\", \"time\": \"22時30分\"}" "$(jget "$OUT" 'd["vars"]')" \
    "draft --json vars"
expect_rc 0 ctl --json audit --alert "$ID"
assert_eq "【参集指示】 {\"place\":\"$PLACE\",\"time\":\"22時30分\"}" \
    "$(jget "$OUT" '[r["detail"] for r in d["rows"] if r["action"] == "draft"][0]')" \
    "the draft's audit row records the values"

show_has_vars() {	# WHAT: show and show --json print both values
	expect_rc 0 ctl show "$ID"
	assert_contains "$OUT" "差し込み値 place: $PLACE" "show: place ($1)"
	assert_contains "$OUT" "差し込み値 time: 22時30分" "show: time ($1)"
	assert_contains "$OUT" "参集場所: $PLACE
参集時刻: 22時30分" "show: the rendered long form ($1)"
	expect_rc 0 ctl --json show "$ID"
	assert_eq "$PLACE" "$(jget "$OUT" 'd["vars"]["place"]')" "show --json vars ($1)"
	assert_contains "$(jget "$OUT" 'd["messages"]["long"]')" "参集時刻: 22時30分" \
	    "show --json messages.long ($1)"
}
show_has_vars "pending"

note "the approval page shows the message with the values"
wait_until 10 "the approval request" outbox_has_link kind=approval alert="$ID"
A=$(outbox field link kind=approval alert="$ID" | sed -n 1p)
curl -s -o "$SITE/apage" "$A" || fail "GET the approval page"
assert_contains "$(cat "$SITE/apage")" "参集場所: $PLACE" "approval page: place"
assert_contains "$(cat "$SITE/apage")" "参集時刻: 22時30分" "approval page: time"

note "approved: every recipient's message carries the values"
expect_rc 0 ctl --as "$APPROVER" approve "$ID"
wait_sent "$ID" 38
sleep 0.3
assert_eq 38 "$(outbox_count kind=alert alert="$ID")" "38 deliveries"
texts=$(outbox field text kind=alert alert="$ID")
assert_eq 38 "$(grep -c "参集場所: $PLACE\\\\n参集時刻: 22時30分\\\\n" <<<"$texts")" \
    "place and time in every delivered message"
assert_eq 38 "$(grep -c '^【参集指示】災害対策本部を設置します。' <<<"$texts")" \
    "the body first"
R=$(outbox field link kind=alert alert="$ID" member=mayor)
curl -s -o "$SITE/rpage" "$R" || fail "GET the recipient page"
assert_contains "$(cat "$SITE/rpage")" "参集場所: $PLACE" "recipient page: place"

note "a re-notify round renders them again"
expect_rc 0 ctl --as "$SENDER" renotify "$ID"
wait_until 20 "the re-notify round" outbox_count_is 38 kind=alert alert="$ID" channel=ntfy
assert_eq 38 "$(outbox field text kind=alert alert="$ID" channel=ntfy | grep -c "参集場所: $PLACE")" \
    "place in every re-notified message"

note "a required value given: 被害報告 with area"
expect_rc 0 ctl --json --as "$SENDER" draft --tag 被害報告 --body '道路が冠水しています。' \
    --set area=東地区
ID2=$(jget "$OUT" 'd["id"]')
expect_rc 0 ctl --json show "$ID2"
assert_contains "$(jget "$OUT" 'd["messages"]["long"]')" "被害地区: 東地区" "long form with area"
assert_contains "$(jget "$OUT" 'd["messages"]["sms"]')" "【被害報告】東地区 " "SMS form with area"
expect_rc 0 ctl --as "$APPROVER" approve "$ID2"
wait_sent "$ID2" 38
assert_eq 38 "$(outbox field text kind=alert alert="$ID2" | grep -c '被害地区: 東地区')" \
    "area in every delivered message"

note "without --set the optional lines are simply absent"
expect_rc 0 ctl --json --as "$SENDER" draft --tag 参集指示 --body "$BODY"
ID3=$(jget "$OUT" 'd["id"]')
assert_eq '{}' "$(jget "$OUT" 'd["vars"]')" "no vars"
expect_rc 0 ctl --json show "$ID3"
assert_not_contains "$(jget "$OUT" 'd["messages"]["long"]')" "参集場所" "no place line"

note "after a restart the values are read back from the database"
stop_site
start_daemon
show_has_vars "after a restart"
expect_rc 0 ctl --json list
assert_eq 3 "$(jget "$OUT" 'len(d["alerts"])')" "three alerts, the refused ones never stored"

stop_site
echo "16-draft-set: ok"
