#!/bin/bash
# 23-listen: how crisiscastd binds its listen addresses and who it asks
# about its callers (daemon/httpd.c bind_address, daemon/control.c handle):
#   - a numeric address (127.0.0.1, [::1]) is bound without getaddrinfo();
#     only a host name (localhost) is resolved, and each answers /healthz;
#   - ping and version answer without a passwd lookup; a command that acts
#     for its caller still looks the caller up;
#   - an address that is not this machine's stops the start with an error
#     that names it.
# The calls are seen by a preloaded shim (tests/integration/nss_shim.c).
. "$(dirname "$0")/lib.sh"

site_init
build_shim nss_shim
shim=$SITE/nss_shim.so
export CC_NSS_LOG=$SITE/nss
write_config

# The listen list: the sample's 127.0.0.1 port, [::1] where this machine
# has IPv6 loopback, and localhost.
v6=""
if python3 -c 'import socket; socket.socket(socket.AF_INET6).bind(("::1", 0))' \
    2>/dev/null; then
	V6_PORT=$(python3 -c 'import socket; s = socket.socket(socket.AF_INET6); s.bind(("::1", 0)); print(s.getsockname()[1])')
	v6="
  - address: \"[::1]:$V6_PORT\""
else
	note "  no IPv6 loopback here: [::1] not tried"
fi
NAME_PORT=$(free_port)
python3 - "$CFG" "$v6" "$NAME_PORT" <<'PY'
import sys
path, v6, port = sys.argv[1:]
text = open(path).read()
head, sep, rest = text.partition("listen:\n")
first, nl, tail = rest.partition("\n")
open(path, "w").write(head + sep + first + v6 + "\n  - address: localhost:" +
    port + nl + tail)
PY

note "numeric addresses bound as they are; a name resolved"
LD_PRELOAD=$shim start_daemon
assert_eq ok "$(curl -s "http://127.0.0.1:$HTTP_PORT/healthz")" "healthz on 127.0.0.1"
if [ -n "$v6" ]; then
	assert_eq ok "$(curl -s "http://[::1]:$V6_PORT/healthz")" "healthz on [::1]"
fi
assert_eq ok "$(curl -s "http://localhost:$NAME_PORT/healthz")" "healthz on localhost"
assert_contains "$(cat "$CC_NSS_LOG")" "gai localhost" "getaddrinfo for localhost"
assert_not_contains "$(cat "$CC_NSS_LOG")" "gai 127.0.0.1" "getaddrinfo for 127.0.0.1"
assert_not_contains "$(cat "$CC_NSS_LOG")" "gai ::1" "getaddrinfo for ::1"
assert_contains "$(cat "$LOG")" "listening on localhost:$NAME_PORT" "log"

note "ping and version: no passwd lookup; list: the caller looked up"
assert_not_contains "$(cat "$CC_NSS_LOG")" "pwuid" "lookups after start and ping"
expect_rc 0 ctl version
assert_not_contains "$(cat "$CC_NSS_LOG")" "pwuid" "lookups after version"
expect_rc 0 ctl list
assert_contains "$(cat "$CC_NSS_LOG")" "pwuid $(id -u)" "lookup for list"
stop_site

note "an address not on this machine: the start fails and names it"
sed -i "s|^  - address: 127.0.0.1:$HTTP_PORT|  - address: 192.0.2.1:$HTTP_PORT|" "$CFG"
: >"$LOG"
rc=0
"$CRISISCASTD" -f "$CFG" 2>>"$LOG" || rc=$?
[ "$rc" -ne 0 ] || fail "crisiscastd started on 192.0.2.1"
assert_contains "$(cat "$LOG")" "cannot listen on 192.0.2.1:$HTTP_PORT: Cannot assign requested address" "error"
check_sanitizers

echo "23-listen: ok"
