#!/bin/bash
# 58-audit-csv: the audit trail covers an alert's life (draft, approval
# requested, sent and opened, rejected, approved, sending, delivered, read,
# confirmed, cancelled, suspended, resumed, reload, start) and
# `crisisctl audit --format csv` is what a spreadsheet opens cleanly:
# UTF-8, a BOM only with --bom, RFC 4180 (CRLF records; fields with , " CR
# LF quoted; quotes doubled), 8 fields a row, ISO 8601 times with +09:00.
# A reject reason with a comma, quotes and a line break round-trips through
# Python's csv module; --format json is a JSON list of the same rows.
. "$(dirname "$0")/lib.sh"
start_site

draft() {	# TAG AUDIENCE BODY: prints the id
	local out
	out=$(ctl --json --as soumu_bucho draft --tag "$1" --to "$2" --body "$3") ||
	    fail "draft failed: $out"
	jget "$out" 'd["id"]'
}

# A rejected alert, with a reason a spreadsheet must keep in one cell.
REASON='場所が違います, "第三小" ではなく
第一小学校です'
REJ=$(draft 避難所開設要請 shelter:hs01 '第三小学校の避難所を開設してください。')
wait_until 10 "approval requests" outbox_count_is 2 kind=approval alert="$REJ"
ALINK=$(outbox field link kind=approval alert="$REJ" | sed -n 1p)
assert_eq 200 "$(curl -s -o /dev/null -w '%{http_code}' "$ALINK")" "approval page"
expect_rc 0 ctl --as mayor reject "$REJ" --reason "$REASON"

# An approved alert, read and confirmed by one recipient, then cancelled.
ID=$(draft 参集指示 member:soumu_bucho,kiki_shitsucho '本庁舎に参集してください。')
expect_rc 0 ctl --as mayor approve "$ID"
wait_sent "$ID" 2
LINK=$(outbox field link kind=alert alert="$ID" member=soumu_bucho | sed -n 1p)
assert_eq 200 "$(curl -s -o /dev/null -w '%{http_code}' "$LINK")" "recipient page"
assert_eq 200 "$(curl -s -o /dev/null -w '%{http_code}' \
    -H 'Content-Type: application/x-www-form-urlencoded' \
    --data-urlencode 'response=参集できる' "$LINK")" "confirm"
expect_rc 0 ctl --json --as soumu_bucho cancel "$ID" --reason 訓練と誤認
expect_rc 0 ctl --as kiki_shitsucho suspend hs02-1 --reason 端末紛失
expect_rc 0 ctl --as kiki_shitsucho resume hs02-1
expect_rc 0 ctl reload

# The exports, byte for byte, with nothing happening in between.
sleep 0.5
ctl audit --format csv >"$SITE/plain.csv" || fail "audit --format csv"
ctl audit --format csv --bom >"$SITE/bom.csv" || fail "audit --format csv --bom"
ctl audit --format json >"$SITE/audit.json" || fail "audit --format json"

python3 - "$SITE/plain.csv" "$SITE/bom.csv" "$SITE/audit.json" "$REASON" \
    "$REJ" "$ID" <<'EOF' || fail "audit CSV checks (above)"
import csv, io, json, re, sys

plain_path, bom_path, json_path, reason, rej, aid = sys.argv[1:]
errors = []
def check(ok, what):
    if not ok:
        errors.append(what)

plain = open(plain_path, "rb").read()
bom = open(bom_path, "rb").read()
BOM = b"\xef\xbb\xbf"
check(not plain.startswith(BOM), "no BOM without --bom")
check(bom.startswith(BOM), "a BOM with --bom")
check(bom[len(BOM):] == plain, "--bom output is the plain output after the BOM")
text = plain.decode("utf-8")	# strict: must be UTF-8

# RFC 4180 framing: every record ends in CRLF, no bare CR or LF outside
# quotes, quotes inside quoted fields doubled.
inq = False
i = 0
while i < len(text):
    c = text[i]
    if c == '"':
        if inq and i + 1 < len(text) and text[i + 1] == '"':
            i += 2
            continue
        inq = not inq
    elif not inq and c == "\r":
        check(text[i + 1:i + 2] == "\n", "CR outside quotes at %d not before LF" % i)
        i += 2
        continue
    elif not inq and c == "\n":
        check(False, "bare LF outside quotes at %d" % i)
    i += 1
check(not inq, "an unterminated quoted field")
check(text.endswith("\r\n"), "the last record ends in CRLF")

rows = list(csv.reader(io.StringIO(text, newline="")))
check(rows[0] == ["id", "time", "actor", "action", "alert", "member",
                  "channel", "detail"], "header row: %r" % rows[0])
body = rows[1:]
check(len(body) > 10, "rows: %d" % len(body))
for r in body:
    check(len(r) == 8, "8 fields: %r" % r)
    if len(r) != 8:
        continue
    check(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+09:00", r[1]) is not None,
          "time %r" % r[1])
    check(re.fullmatch(r"[0-9]+", r[0]) is not None, "id %r" % r[0])
    check(r[4] == "" or re.fullmatch(r"[0-9]+", r[4]) is not None, "alert %r" % r[4])
ids = [int(r[0]) for r in body if len(r) == 8]
check(ids == sorted(ids) and len(set(ids)) == len(ids), "ids ascending, unique")

rejected = [r for r in body if r[3] == "rejected" and r[4] == rej]
check(len(rejected) == 1 and rejected[0][7] == reason and rejected[0][2] == "mayor",
      "the reject reason round-trips: %r" % rejected)
check(b'"\xe5\xa0\xb4' in plain and b'""\xe7\xac\xac\xe4\xb8\x89\xe5\xb0\x8f""' in plain,
      "the reason is quoted and its quotes doubled")

actions = {}
for r in body:
    actions.setdefault(r[3], []).append(r)
for a in ("started", "draft", "approval_requested", "approval_sent",
          "approval_opened", "rejected",
          "approved", "sending", "delivery_sent", "read", "confirmed",
          "cancelled", "suspended", "resumed", "reloaded"):
    check(a in actions, "an audit row for %s" % a)
for a in ("approved", "sending", "read", "confirmed", "cancelled"):
    check(any(r[4] == aid for r in actions.get(a, [])), "%s of alert %s" % (a, aid))
check(any(r[5] == "soumu_bucho" and r[4] == aid and r[7].startswith("参集できる")
          for r in actions.get("confirmed", [])), "confirmed row: member and response")

j = json.load(open(json_path, encoding="utf-8"))
check(isinstance(j, list), "--format json is a list")
if isinstance(j, list):
    check(len(j) == len(body), "json rows %d, csv rows %d" % (len(j), len(body)))
    check([str(o.get("id")) for o in j] == [r[0] for r in body], "same ids")
    check(any(o.get("action") == "rejected" and o.get("detail") == reason for o in j),
          "json detail round-trips")
    check(all(set(o) >= {"id", "at", "actor", "action", "alert", "member",
                         "channel", "detail"} for o in j), "json fields")

for e in errors:
    print("audit csv:", e, file=sys.stderr)
sys.exit(1 if errors else 0)
EOF

# Filters still produce a clean CSV with the header.
expect_rc 0 ctl audit --format csv --alert "$REJ"
assert_match "$OUT" '^id,time,actor,action,alert,member,channel,detail' "filtered header"
assert_not_contains "$OUT" ",approved,$ID," "filtered by alert"
expect_rc 2 ctl audit --format xml

note "a long audit comes in pages: 6,000 more rows, 1,800 of them long"
sqlite3 "$STATE/state.db" <<'SQL' || fail "insert audit rows"
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 6000)
INSERT INTO audit (at, actor, action, member, detail)
SELECT strftime('%s', 'now'), 'crisiscastd', 'bulk', 'hs01-1',
       CASE WHEN i % 10 < 3 THEN 'B' || i || ' ' || replace(hex(zeroblob(300)), '00', '長い詳細') ELSE 'B' || i END
FROM n;
SQL
total=$(sqlite3 -readonly "$STATE/state.db" "SELECT count(*) FROM audit")
assert_ge 6000 "$total" "audit rows"
ctl audit --format csv >"$SITE/all.csv" 2>"$SITE/all.err" || fail "audit csv: $(cat "$SITE/all.err")"
ctl audit --format json >"$SITE/all.json" 2>"$SITE/all.err" || fail "audit json: $(cat "$SITE/all.err")"
ctl --json audit --member hs01-1 >"$SITE/member.json" 2>"$SITE/all.err" || fail "audit --json: $(cat "$SITE/all.err")"
python3 - "$STATE/state.db" "$SITE/all.csv" "$SITE/all.json" "$SITE/member.json" <<'PY' || fail "paged audit differs from the database"
import csv, json, sqlite3, sys
db = sqlite3.connect("file:%s?mode=ro" % sys.argv[1], uri=True)
ids = [r[0] for r in db.execute("SELECT id FROM audit ORDER BY id")]
mine = [r[0] for r in db.execute(
    "SELECT id FROM audit WHERE member = 'hs01-1' OR actor = 'hs01-1' ORDER BY id")]
rows = list(csv.reader(open(sys.argv[2], encoding="utf-8", newline="")))[1:]
assert [int(r[0]) for r in rows] == ids, "csv: %d rows, database %d" % (len(rows), len(ids))
j = json.load(open(sys.argv[3], encoding="utf-8"))
assert [o["id"] for o in j] == ids, "json: %d rows" % len(j)
long = [o for o in j if o["action"] == "bulk" and len(o["detail"]) > 1000]
assert len(long) == 1800, "long details: %d" % len(long)
m = json.load(open(sys.argv[4], encoding="utf-8"))
assert "next" not in m, "--json: a gathered reply has no next"
assert [o["id"] for o in m["rows"]] == mine, "--json --member: %d rows" % len(m["rows"])
PY
note "paging arguments are checked"
frame() {	# JSON: one control request; prints the reply's JSON
	python3 - "$CRISISCAST_SOCKET" "$1" <<'PY'
import socket, struct, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.settimeout(15)
s.connect(sys.argv[1])
body = sys.argv[2].encode()
s.sendall(struct.pack(">I", len(body)) + body)
data = b""
while len(data) < 4 or len(data) < 4 + struct.unpack(">I", data[:4])[0]:
    chunk = s.recv(65536)
    if not chunk:
        break
    data += chunk
print(data[4:].decode())
PY
}
assert_contains "$(frame '{"v":1,"cmd":"audit","args":{"after":-1}}')" "limit は 1 から 2000" "after -1 refused"
assert_contains "$(frame '{"v":1,"cmd":"audit","args":{"limit":"ten"}}')" "limit は 1 から 2000" "limit ten refused"
assert_contains "$(frame '{"v":1,"cmd":"audit","args":{"limit":2001}}')" "limit は 1 から 2000" "limit 2001 refused"
assert_contains "$(frame '{"v":1,"cmd":"audit","args":{"limit":3}}')" '"next"' "a page of 3 says where the next begins"

stop_site
echo "58-audit-csv: ok"
