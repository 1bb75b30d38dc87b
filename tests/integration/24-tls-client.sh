#!/bin/bash
# 24-tls-client: crisiscastd as a TLS client (daemon/http_client.c).
#   - a provider on https whose certificate nobody vouches for is refused
#     at the handshake (libcurl with OpenSSL verifies it), and the
#     delivery shows why: "SSL certificate problem";
#   - GnuTLS, which Debian's libcurl4 loads through librtmp and libldap
#     but crisiscastd never uses, is not initialized: its implicit start
#     is skipped by _gnutls_global_init_skip(), without the environment.
# GnuTLS announces its initialization on stderr when GNUTLS_DEBUG_LEVEL is
# set; curl(1), linked to the same libcurl, shows that it would.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/providers.sh"

site_init
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1 \
    -addext subjectAltName=IP:127.0.0.1 -keyout "$SITE/key.pem" \
    -out "$SITE/cert.pem" 2>/dev/null || fail "openssl req failed"

# A TLS listener with that certificate, logging each handshake's outcome.
python3 - "$SITE/cert.pem" "$SITE/key.pem" "$SITE/tls.port" "$SITE/tls.log" \
    <<'PY' &
import os, socket, ssl, sys
cert, key, port_file, log = sys.argv[1:]
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(cert, key)
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(16)
open(port_file + ".tmp", "w").write(str(s.getsockname()[1]))
os.rename(port_file + ".tmp", port_file)
while True:
    c, _ = s.accept()
    c.settimeout(10)
    try:
        t = ctx.wrap_socket(c, server_side=True)
        outcome = "handshake completed"
        t.close()
    except Exception as e:
        outcome = "handshake failed: %s" % e
        c.close()
    with open(log, "a") as f:
        f.write(outcome + "\n")
PY
FAKE_PIDS="$FAKE_PIDS $!"
providers_trap
wait_until 10 "the TLS listener" test -s "$SITE/tls.port"
TLS_PORT=$(cat "$SITE/tls.port")

write_config
printf 'test-secret-24\n' >"$SITE/hook.secret"
set_transport lineworks "{type: webhook, url: \"https://127.0.0.1:$TLS_PORT/hook\", secret_file: \"$SITE/hook.secret\", timeout: 5s}"

if ldd "$CRISISCASTD" | grep -q 'libgnutls'; then
	gnutls=1
	out=$(GNUTLS_DEBUG_LEVEL=2 curl --version 2>&1 >/dev/null) || true
	assert_contains "$out" "gnutls[" \
	    "GnuTLS's debug log of its start, from curl(1) (the control)"
else
	gnutls=0
	note "  this libcurl does not load GnuTLS: only the TLS refusal is checked"
fi

GNUTLS_DEBUG_LEVEL=2 start_daemon
id=$(alert_send 情報共有 member:kiki_shitsucho '本日の訓練は予定どおり実施します。')
refused() {
	python3 - "$(ctl --json status "$id")" <<'EOF'
import json, sys
rows = json.loads(sys.argv[1])["recipients"]
sys.exit(0 if any("SSL certificate problem" in r.get("error", "")
                  for r in rows if r["channel"] == "lineworks") else 1)
EOF
}
wait_until 20 "the delivery refused for its certificate" refused
expect_rc 0 ctl status "$id"
assert_contains "$OUT" "SSL certificate problem" "crisisctl status shows why"
assert_eq 0 "$(sent_count "$id")" "recipients marked sent"
assert_contains "$(cat "$SITE/tls.log")" "handshake failed" \
    "the listener saw the handshake refused"
assert_not_contains "$(cat "$SITE/tls.log")" "handshake completed" \
    "handshakes completed"
if [ "$gnutls" = 1 ]; then
	assert_not_contains "$(cat "$LOG")" "gnutls[" "GnuTLS started in crisiscastd"
fi
stop_site
echo "24-tls-client: ok"
