#!/bin/bash
# 12-http-garbage: what arrives over HTTP is checked for size and shape
# before use, and the daemon runs on (STYLE.md habit 6): huge bodies (413),
# bad form encoding (400), tokens of every wrong length and alphabet (404),
# wrong methods (405), a slow client (closed by the timeout), 1,000
# wrong-token requests (all 404), /healthz. Sanitizers watch throughout.
. "$(dirname "$0")/lib.sh"
start_site

F=(-H 'Content-Type: application/x-www-form-urlencoded')
http() {	# METHOD URL [CURL ARGS]: status; body in $SITE/body
	local m=$1 u=$2
	shift 2
	curl -s -o "$SITE/body" -w '%{http_code}' -X "$m" "$@" "$u"
}

out=$(ctl --json --as "$SENDER" draft --tag 情報共有 --to member:mayor \
    --body '本日の訓練は予定どおり実施します。') || fail "draft: $out"
ID=$(jget "$out" 'd["id"]')
wait_until 10 "approval link" outbox_has_link kind=approval alert="$ID"
AL=$(outbox field link kind=approval alert="$ID" | sed -n 1p)
expect_rc 0 ctl --as "$APPROVER" approve "$ID"
wait_sent "$ID" 1
RL=$(outbox field link kind=alert alert="$ID" | sed -n 1p)

note "/healthz"
assert_eq 200 "$(http GET "$BASE_URL/healthz")" "GET /healthz"
assert_eq ok "$(cat "$SITE/body")" "healthz body"
assert_eq 200 "$(http HEAD "$BASE_URL/healthz" -I)" "HEAD /healthz"
assert_eq 404 "$(http GET "$BASE_URL/")" "GET /"
assert_contains "$(cat "$SITE/body")" 'ページが見つかりません' "404 page"
assert_eq 404 "$(http GET "$BASE_URL/healthz/x")" "GET /healthz/x"

note "wrong methods: 405"
assert_eq 405 "$(http POST "$BASE_URL/healthz" --data x=1)" "POST /healthz"
for m in PUT DELETE PATCH OPTIONS; do
	assert_eq 405 "$(http "$m" "$RL")" "$m on a recipient link"
	assert_eq 405 "$(http "$m" "$BASE_URL/healthz")" "$m /healthz"
done

note "huge bodies: 413, on live and dead links alike"
head -c 200000 /dev/zero | tr '\0' 'a' | sed 's/^/response=/' >"$SITE/big"
for u in "$RL" "$AL" "$BASE_URL/r/AAAAAAAAAAAAAAAAAAAAAA" "$BASE_URL/healthz"; do
	assert_eq 413 "$(http POST "$u" "${F[@]}" --data-binary @"$SITE/big")" \
	    "200 kB body to $u"
done
assert_eq null "$(jget "$(ctl --json status "$ID")" 'd["recipients"][0]["confirmed_at"]')" \
    "nothing confirmed by a huge body"

note "bad form encoding: 400"
for body in 'response=%zz' 'response=%' 'response=%E7%A2' 'response=%00' \
    'response=a&response=b' 'response' '&&' 'response=%C0%AF' \
    'response=x%01y' 'a b=c'; do
	assert_eq 400 "$(http POST "$RL" "${F[@]}" --data-binary "$body")" \
	    "body [$body]"
done
printf 'response=\xff\xfe' >"$SITE/bad"
assert_eq 400 "$(http POST "$RL" "${F[@]}" --data-binary @"$SITE/bad")" "raw invalid UTF-8"
assert_eq 400 "$(http POST "$RL" -H 'Content-Type: multipart/form-data; boundary=x' \
    --data-binary 'response=x')" "multipart"
assert_eq 400 "$(http POST "$RL" -H 'Content-Type: application/x-www-form-urlencodedX' \
    --data-binary 'response=x')" "a Content-Type that only starts right"
assert_eq null "$(jget "$(ctl --json status "$ID")" 'd["recipients"][0]["confirmed_at"]')" \
    "nothing confirmed by garbage"

note "tokens of every wrong length (0..40) and alphabet: the same 404"
http GET "$BASE_URL/a/AAAAAAAAAAAAAAAAAAAAAA" >/dev/null
cp "$SITE/body" "$SITE/404"
CHARS=ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_ABCDEFGHIJ
for n in $(seq 0 40); do
	tok=${CHARS:0:$n}
	for r in a r; do
		assert_eq 404 "$(http GET "$BASE_URL/$r/$tok")" "/$r/ token of length $n"
		cmp -s "$SITE/body" "$SITE/404" || fail "/$r/ length $n: a different 404"
	done
done
# Wrong alphabets, and the right token with something around it.
RT=${RL##*/}
AT=${AL##*/}
for tok in 'AAAAAAAAAAAAAAAAAAAAA+' 'AAAAAAAAAAAAAAAAAAAAA/' 'AAAAAAAAAAAAAAAAAAAAA=' \
    'AAAAAAAAAAAAAAAAAAAAA.' 'AAAAAAAAAAAAAAAAAAAAA%41' '%41AAAAAAAAAAAAAAAAAAAAA' \
    'AAAAAAAAAAAAAAAAAAAAA~' 'ÄAAAAAAAAAAAAAAAAAAAA' '..%2F..%2Fetc%2Fpasswd' \
    "$RT/" "$RT%00" "${RT}A" "/$RT" "$AT" ; do
	assert_eq 404 "$(http GET "$BASE_URL/r/$tok")" "/r/$tok"
	cmp -s "$SITE/body" "$SITE/404" || fail "/r/$tok: a different 404"
done
# An approval token on the recipient route and the reverse.
assert_eq 404 "$(http GET "$BASE_URL/a/$RT")" "a recipient token on /a/"
assert_eq 200 "$(http GET "$RL?x=1")" "the live link with a query string"

note "a slow client is cut off by the timeout; others are served meanwhile"
python3 - "$HTTP_PORT" <<'EOF' &
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nab")
s.settimeout(30)
t = time.time()
try:
    data = s.recv(4096)
except socket.timeout:
    sys.exit("slow client: still open after 30 s")
print("closed after %.1f s, got %d bytes" % (time.time() - t, len(data)))
sys.exit(0 if time.time() - t < 25 else 1)
EOF
SLOW=$!
python3 - "$HTTP_PORT" <<'EOF' &
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"GET /heal")
s.settimeout(30)
try:
    s.recv(4096)
except socket.timeout:
    sys.exit("half a request line: still open after 30 s")
EOF
SLOW2=$!
sleep 1
assert_eq 200 "$(http GET "$BASE_URL/healthz" --max-time 5)" "healthz during a slow client"
wait "$SLOW" || fail "the slow client was not cut off"
wait "$SLOW2" || fail "the half-request client was not cut off"

note "1,000 wrong-token requests: all 404, the daemon answers after"
python3 - "$BASE_URL" >"$SITE/urls" <<'EOF'
import secrets, sys
for i in range(1000):
    t = secrets.token_urlsafe(16)[:22]
    print('url = "%s/%s/%s"' % (sys.argv[1], "ar"[i % 2], t))
    print('output = "/dev/null"')
EOF
curl -s -K "$SITE/urls" -w '%{http_code}\n' >"$SITE/codes"
assert_eq 1000 "$(wc -l <"$SITE/codes")" "answers"
assert_eq "1000 404" "$(sort "$SITE/codes" | uniq -c | sed 's/^ *//')" "every answer"
assert_eq 200 "$(http GET "$BASE_URL/healthz")" "healthz after"
expect_rc 0 ctl ping
assert_eq 200 "$(http GET "$RL")" "the live link still works"

stop_site
echo "12-http-garbage: ok"
