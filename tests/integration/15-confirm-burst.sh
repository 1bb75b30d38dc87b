#!/bin/bash
# 15-confirm-burst: 94 people confirm at once (SPEC §5 step 4). Every POST
# /r/TOKEN is answered only after its confirmation is committed, and the
# confirmations that arrive together share one commit (daemon/ack.c). All
# 94 connections send their request before any answer is read: every
# answer is 200 確認しました, all 94 are stored with their audit rows, the
# commits are fewer than the confirmations, and a bad answer or a client
# that hangs up in the same burst changes nothing for the others.
. "$(dirname "$0")/lib.sh"
start_site

out=$(ctl --json --as soumu_bucho draft --tag 参集指示 --to crisis+shelter \
    --body '全職員は直ちに本庁舎に参集してください。') || fail "draft: $out"
ID=$(jget "$out" 'd["id"]')
ctl --as mayor approve "$ID" >/dev/null || fail "approve $ID"
wait_sent "$ID" 94
outbox field link kind=alert alert="$ID" >"$SITE/links"
assert_eq 94 "$(sort -u "$SITE/links" | wc -l)" "94 distinct links"

note "94 confirmations, one bad answer and one hang-up in one burst"
python3 - "$SITE/links" >"$SITE/burst" <<'PY' || fail "burst: $(cat "$SITE/burst")"
import socket, sys, urllib.parse
links = [l.strip() for l in open(sys.argv[1]) if l.strip()]
def request(url, answer):
    u = urllib.parse.urlsplit(url)
    body = "response=" + urllib.parse.quote(answer)
    return u, ("POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: "
        "application/x-www-form-urlencoded\r\nContent-Length: %d\r\n"
        "Connection: close\r\n\r\n%s" % (u.path, u.netloc,
        len(body.encode()), body)).encode()
socks = []
for url in links:
    u, req = request(url, "参集できる")
    s = socket.create_connection((u.hostname, u.port), timeout=30)
    socks.append((s, req))
# A bad answer to the first link and a client that goes away.
u, bad = request(links[0], "行きません")
b = socket.create_connection((u.hostname, u.port), timeout=30)
u, gone = request(links[1], "参集できる")
g = socket.create_connection((u.hostname, u.port), timeout=30)
for s, req in socks:
    s.sendall(req)
b.sendall(bad)
g.sendall(gone)
g.close()
def answer(s):
    data = b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            return data.decode("utf-8", "replace")
        data += chunk
fails = 0
for s, _ in socks:
    a = answer(s)
    if not a.startswith("HTTP/1.1 200") or "確認しました。回答「参集できる」" not in a:
        fails += 1
        print("unexpected answer:", a[:300])
print("bad", answer(b).split("\r\n")[0])
print("fails", fails)
sys.exit(1 if fails else 0)
PY
assert_contains "$(cat "$SITE/burst")" "bad HTTP/1.1 400" "a bad answer in the burst"
assert_contains "$(cat "$SITE/burst")" "fails 0" "every answer 200"

note "stored: 94 confirmations, 94 audit rows, fewer commits"
db="$STATE/state.db"
assert_eq 94 "$(sqlite3 -readonly "$db" "SELECT count(*) FROM deliveries WHERE alert_id = $ID AND kind = 'alert' AND confirmed_at IS NOT NULL AND response = '参集できる'")" "confirmed deliveries"
assert_eq 94 "$(sqlite3 -readonly "$db" "SELECT count(DISTINCT member) FROM audit WHERE alert_id = $ID AND action = 'confirmed'")" "audit rows"
assert_eq 94 "$(sqlite3 -readonly "$db" "SELECT count(*) FROM audit WHERE alert_id = $ID AND action = 'confirmed'")" "one audit row each"
curl -sf "$BASE_URL/metrics" >"$SITE/m" || fail "GET /metrics"
posted=$(awk '$1 == "crisiscast_page_confirmations_total" { print $2 }' "$SITE/m")
commits=$(awk '$1 == "crisiscast_confirmation_commits_total" { print $2 }' "$SITE/m")
note "confirmations posted $posted, commits $commits"
# 94, plus the hang-up's when the daemon read it before the close.
[ "$posted" -ge 94 ] && [ "$posted" -le 95 ] || fail "posted $posted"
[ "$commits" -ge 1 ] && [ "$commits" -lt "$posted" ] ||
	fail "confirmations were not grouped: $commits commits for $posted"

note "everyone confirmed: the alert is complete"
complete() { [ "$(jget "$(ctl --json status "$1")" 'd["state"]')" = complete ]; }
wait_until 10 "alert $ID complete" complete "$ID"
expect_rc 0 ctl ping
echo "15-confirm-burst: ok"
