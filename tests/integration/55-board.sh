#!/bin/bash
# 55-board: the status board (GET /board, /board/events).
#   - A drill 避難所開設要請 to two shelters: the board (plain curl) shows
#     【訓練】, the counts and the unconfirmed names, with a CSP whose
#     script nonce is the page's, and a <noscript> refresh for browsers
#     without JavaScript.
#   - In Debian's chromium (tests/browser/board.mjs) the board's confirmed
#     count rises when two staff of hs01 confirm by curl while the page is
#     open, without a reload; hs01 then shows 開設可 and hs02 未達.
#   - The event stream: text/event-stream with a "board" event; at most 32
#     at once (the 33rd gets 503), and a closed stream frees its place.
#   - Access: with board.loopback_trusted: false (a site behind a reverse
#     proxy) loopback is remote: 403 without the token or with a wrong
#     one, 200 with ?token= (which sets the cookie), the cookie, or
#     Authorization: Bearer; /metrics follows the same rule.
# The browser part is skipped (not the rest) when chromium or node is
# missing. Screenshots go to $SCREENSHOT_DIR if set.
. "$(dirname "$0")/lib.sh"

start_site
out=$(ctl --json --as soumu_bucho draft --tag 避難所開設要請 --drill \
    --to shelter:hs01,hs02 --body '訓練です。指定避難所を開設してください。') ||
    fail "draft: $out"
ID=$(jget "$out" 'd["id"]')
expect_rc 0 ctl --as mayor approve "$ID"
wait_sent "$ID" 8

# The static page.
code=$(curl -s -D "$SITE/h" -o "$SITE/board.html" -w '%{http_code}' \
    "$BASE_URL/board")
assert_eq 200 "$code" "GET /board from loopback"
PAGE=$(cat "$SITE/board.html")
HDR=$(tr -d '\r' <"$SITE/h")
assert_contains "$PAGE" "【訓練】" "the drill banner"
assert_contains "$PAGE" "data-alert=\"$ID\"" "the alert's section"
assert_contains "$PAGE" '<span class="confirmed" data-confirmed="0">0</span><span class="of"> / 8 名' \
    "0 of 8 confirmed"
assert_contains "$PAGE" "未確認 <span class=\"unconfirmed\">8</span> 名" "8 unconfirmed"
assert_contains "$PAGE" '<noscript><meta http-equiv="refresh"' "no-JS fallback"
assert_contains "$PAGE" "承認から" "time since approval"
NONCE=$(sed -n 's/.*<script nonce="\([^"]*\)">.*/\1/p' "$SITE/board.html")
[ -n "$NONCE" ] || fail "no script nonce in the page"
assert_match "$HDR" "^Content-Security-Policy: .*script-src 'nonce-$NONCE'" \
    "the CSP allows exactly the page's script"
assert_not_contains "$HDR" "unsafe-eval" "CSP"
# A name from the roster (hs01's first staff member) is listed unconfirmed.
NAME=$(sqlite3 "$STATE/state.db" "SELECT name FROM deliveries WHERE alert_id = $ID AND member = 'hs01-1'")
assert_contains "$PAGE" "<li>$NAME" "unconfirmed names"
# Other pages keep their script-free CSP.
assert_not_contains "$(curl -s -D - -o /dev/null "$BASE_URL/healthz")" "nonce-" \
    "healthz CSP"
assert_eq 405 "$(curl -s -o /dev/null -w '%{http_code}' -X POST --data x=1 \
    "$BASE_URL/board")" "POST /board"

# The event stream, once, from curl.
curl -s -N --max-time 2 -D "$SITE/eh" "$BASE_URL/board/events" \
    >"$SITE/events" || true
assert_contains "$(tr -d '\r' <"$SITE/eh")" "Content-Type: text/event-stream" \
    "event stream type"
assert_contains "$(cat "$SITE/events")" "event: board" "a board event"
assert_contains "$(cat "$SITE/events")" "data: <section class=\"alert is-drill\" data-alert=\"$ID\">" \
    "the event carries the board"

# The browser: live update on confirmations.
L1=$(outbox field link kind=alert alert="$ID" member=hs01-1 | sed -n 1p)
L2=$(outbox field link kind=alert alert="$ID" member=hs01-2 | sed -n 1p)
[ -n "$L1" ] && [ -n "$L2" ] || fail "no recipient links for hs01-1, hs01-2"
BROWSER_DIR=$REPO/tests/browser
if [ -x /usr/bin/chromium ] && command -v node >/dev/null; then
	if [ ! -d "$BROWSER_DIR/node_modules/playwright-core" ]; then
		(cd "$BROWSER_DIR" && npm ci --no-audit --no-fund) >&2 ||
		    fail "npm ci in tests/browser failed"
	fi
	node "$BROWSER_DIR/board.mjs" "$BASE_URL/board" "$ID" \
	    "${SCREENSHOT_DIR:-$SITE}" 参集できる "$L1" "$L2" ||
	    fail "the browser test of the board failed"
else
	note "no chromium or node: confirming without the browser"
	for l in "$L1" "$L2"; do
		curl -s -o /dev/null --data-urlencode response=参集できる "$l"
	done
fi
PAGE=$(curl -s "$BASE_URL/board")
assert_contains "$PAGE" '<span class="confirmed" data-confirmed="2">2</span>' \
    "2 confirmed after the browser run"
assert_match "$PAGE" 'class="ok ready">開設可 2/2' "hs01 ready"
assert_match "$PAGE" 'class="bad notready">未達 0/2' "hs02 not ready"

# At most 32 streams; the 33rd is refused; a closed one frees its place.
pids=""
for i in $(seq 1 32); do
	curl -s -N --max-time 20 "$BASE_URL/board/events" >/dev/null &
	pids="$pids $!"
done
sleep 1
assert_eq 503 "$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 \
    "$BASE_URL/board/events")" "the 33rd stream"
for p in $pids; do kill "$p" 2>/dev/null || true; done
wait $pids 2>/dev/null || true
sleep 0.5
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 1 \
    "$BASE_URL/board/events" || true)
assert_eq 200 "$code" "a stream after the others closed"
stop_site

# Behind a reverse proxy: loopback is not trusted, the token is needed.
TOKEN=board-$(head -c 18 /dev/urandom | base64 | tr '+/' '-_')
printf '%s\n' "$TOKEN" >"$SITE/board.token"
cat >>"$CFG" <<EOF2
board:
  token_file: board.token
  loopback_trusted: false
EOF2
start_daemon
st() { curl -s -o /dev/null -w '%{http_code}' "$@"; }
assert_eq 403 "$(st "$BASE_URL/board")" "/board without the token"
assert_eq 403 "$(st "$BASE_URL/board?token=wrong-token-0123456789")" "a wrong token"
assert_eq 403 "$(st "$BASE_URL/board?token=${TOKEN}x")" "a longer token"
assert_eq 403 "$(st "$BASE_URL/board/events")" "/board/events without the token"
assert_eq 403 "$(st "$BASE_URL/metrics")" "/metrics without the token"
assert_eq 403 "$(st -H "Cookie: crisiscast_board=nope" "$BASE_URL/board")" \
    "a wrong cookie"
assert_eq 200 "$(st "$BASE_URL/board?token=$TOKEN")" "/board with the token"
HDR=$(curl -s -D - -o /dev/null "$BASE_URL/board?token=$TOKEN" | tr -d '\r')
assert_match "$HDR" "^Set-Cookie: crisiscast_board=$TOKEN; Path=/board; HttpOnly; SameSite=Strict" \
    "the token becomes a cookie"
assert_eq 200 "$(st -H "Cookie: a=b; crisiscast_board=$TOKEN" "$BASE_URL/board")" \
    "/board with the cookie"
assert_eq 200 "$(st -H "Authorization: Bearer $TOKEN" "$BASE_URL/metrics")" \
    "/metrics with a bearer token"
assert_eq 200 "$(st "$BASE_URL/metrics?token=$TOKEN")" "/metrics with ?token="
curl -s -N --max-time 1 "$BASE_URL/board/events?token=$TOKEN" \
    >"$SITE/events" || true
assert_contains "$(cat "$SITE/events")" "event: board" "events with the token"
stop_site

# loopback_trusted: false without a token file is a config error.
sed -i '/token_file:/d' "$CFG"
expect_rc 1 "$CRISISCASTD" -n -f "$CFG"
assert_contains "$ERR" "loopback_trusted: false needs a token_file" "-n"

echo "55-board: ok"
