#!/bin/bash
# 13-https: with tls_cert/tls_key on a listen address the same port speaks
# HTTPS (so a small town needs no proxy): a self-signed certificate made
# here, curl --cacert, the approval and recipient links over TLS; plain
# HTTP and an unverified client get nothing.
. "$(dirname "$0")/lib.sh"
site_init
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1 \
    -addext subjectAltName=IP:127.0.0.1 -keyout "$SITE/key.pem" \
    -out "$SITE/cert.pem" 2>/dev/null || fail "openssl req failed"
TLS_CERT=$SITE/cert.pem TLS_KEY=$SITE/key.pem start_site
assert_match "$BASE_URL" '^https://127\.0\.0\.1:[0-9]+$' "public_url"

C=(-s --cacert "$SITE/cert.pem")
assert_eq ok "$(curl "${C[@]}" "$BASE_URL/healthz")" "healthz over TLS"
rc=0
curl -s -o /dev/null "$BASE_URL/healthz" || rc=$?
assert_eq 60 "$rc" "curl without the CA (certificate not trusted)"
rc=0
curl -s -m 5 -o /dev/null "http://127.0.0.1:$HTTP_PORT/healthz" || rc=$?
[ "$rc" -ne 0 ] || fail "plain HTTP on the TLS port was answered"
assert_eq ok "$(curl "${C[@]}" "$BASE_URL/healthz")" "healthz after plain HTTP"

out=$(ctl --json --as "$SENDER" draft --tag 情報共有 --to member:kiki_shitsucho \
    --body '本日の訓練は予定どおり実施します。') || fail "draft: $out"
ID=$(jget "$out" 'd["id"]')
wait_until 10 "approval link" outbox_has_link kind=approval alert="$ID"
AL=$(outbox field link kind=approval alert="$ID" | sed -n 1p)
assert_match "$AL" "^$BASE_URL/a/" "approval link is https"
curl "${C[@]}" -o "$SITE/page" "$AL" || fail "GET approval page over TLS"
N=$(sed -n 's/.*name="nonce" value="\([^"]*\)".*/\1/p' "$SITE/page" | sed -n 1p)
assert_eq 200 "$(curl "${C[@]}" -o "$SITE/body" -w '%{http_code}' \
    --data "action=approve&nonce=$N" "$AL")" "POST approve over TLS"
wait_sent "$ID" 1
RL=$(outbox field link kind=alert alert="$ID" | sed -n 1p)
assert_eq 200 "$(curl "${C[@]}" -o /dev/null -w '%{http_code}' \
    --data-urlencode 'response=確認しました' "$RL")" "confirm over TLS"
assert_eq 確認しました "$(jget "$(ctl --json status "$ID")" \
    'd["recipients"][0]["response"]')" "response"
assert_eq 404 "$(curl "${C[@]}" -o /dev/null -w '%{http_code}' "$AL")" \
    "used link over TLS"

stop_site
echo "13-https: ok"
