#!/bin/bash
# 25-slow-passwd: the control socket while the passwd database is slow or
# does not answer (NSS in front of a directory server that is down). The
# daemon looks a caller's login up on a thread of its own (daemon/whois.c):
#   1. a lookup that takes 4 s: /healthz and ping answer at once meanwhile;
#      the command runs when the answer comes, and the answer is reused by
#      the next commands (one lookup for all of them);
#   2. a lookup that never ends: the daemon's own user still runs `list`
#      after 10 s (its rights need no login); a member's command, and a
#      stranger's, is refused after 10 s with the reason; /healthz answers
#      throughout; the daemon stops in time all the same.
# The delay comes from a preloaded shim (tests/integration/nss_shim.c);
# step 2's stranger is the user nobody (needs root, as 09-identity).
. "$(dirname "$0")/lib.sh"

site_init
build_shim nss_shim
export CC_NSS_LOG=$SITE/nss CC_NSS_DELAY_FILE=$SITE/nss.delay
write_config

# ms CMD...: runs CMD (output discarded) and prints how long it took, in ms.
ms() {
	local t0 rc=0
	t0=$(date +%s%N)
	"$@" >/dev/null 2>&1 || rc=$?
	echo $(( ($(date +%s%N) - t0) / 1000000 ))
	return "$rc"
}
lookups() { grep -c '^pwuid ' "$CC_NSS_LOG" 2>/dev/null || true; }
quick=$((2000 * SLOW))	# "at once", with room for a loaded machine

note "1. a lookup of 4 s"
echo 4000 >"$CC_NSS_DELAY_FILE"
LD_PRELOAD=$SITE/nss_shim.so start_daemon
( expect_rc 0 ctl list; echo "$OUT" >"$SITE/list1.out" ) &
slow=$!
wait_until 5 "the lookup under way" grep -q '^pwuid ' "$CC_NSS_LOG"
t=$(ms curl -sf "http://127.0.0.1:$HTTP_PORT/healthz") || fail "healthz"
[ "$t" -lt "$quick" ] || fail "healthz took $t ms during the lookup"
t=$(ms ctl ping) || fail "ping"
[ "$t" -lt "$quick" ] || fail "ping took $t ms during the lookup"
wait "$slow" || fail "list while the lookup ran"
assert_contains "$(cat "$SITE/list1.out")" "番号" "list's output"
t=$(ms ctl list) || fail "list after the lookup"
[ "$t" -lt "$quick" ] || fail "the second list took $t ms (no cache?)"
expect_rc 0 ctl roster
assert_eq 1 "$(lookups)" "passwd lookups for three commands"
stop_site

note "2. a lookup that does not end"
echo 600000 >"$CC_NSS_DELAY_FILE"
: >"$CC_NSS_LOG"
LD_PRELOAD=$SITE/nss_shim.so start_daemon
t0=$(date +%s)
( expect_rc 0 ctl list ) &
op=$!
( expect_rc 1 ctl draft --tag 情報共有 --to member:kiki_shitsucho \
    --body '本日の訓練は予定どおり実施します。'
  echo "$ERR" >"$SITE/draft.err" ) &
member=$!
stranger=""
NOBODY=$(getent passwd 65534 | cut -d: -f1)
if [ "$(id -u)" = 0 ] && [ -n "$NOBODY" ] && command -v setpriv >/dev/null &&
    setpriv --reuid=65534 --regid=65534 --clear-groups test -x "$CRISISCTL"; then
	chmod 711 "$SITE"
	( rc=0
	  setpriv --reuid=65534 --regid=65534 --clear-groups "$CRISISCTL" \
	    list >"$SITE/nobody.out" 2>"$SITE/nobody.err" || rc=$?
	  echo "$rc" >"$SITE/nobody.rc" ) &
	stranger=$!
else
	note "  not root, or no user nobody: the stranger's part is skipped"
fi
wait_until 5 "the lookup under way" grep -q '^pwuid ' "$CC_NSS_LOG"
for _ in 1 2 3; do
	t=$(ms curl -sf "http://127.0.0.1:$HTTP_PORT/healthz") || fail "healthz"
	[ "$t" -lt "$quick" ] || fail "healthz took $t ms while NSS hangs"
	sleep 1
done
wait "$op" || fail "the daemon user's list while NSS hangs"
waited=$(( $(date +%s) - t0 ))
[ "$waited" -ge 9 ] || fail "list answered after ${waited} s, before the 10 s wait ran out"
wait "$member" || fail "the draft while NSS hangs"
assert_contains "$(cat "$SITE/draft.err")" "passwd の問い合わせが 10 秒以内に答えません" \
    "a command that needs the caller's roster entry"
if [ -n "$stranger" ]; then
	wait "$stranger" || fail "nobody's list"
	assert_eq 1 "$(cat "$SITE/nobody.rc")" "nobody's list: exit"
	assert_contains "$(cat "$SITE/nobody.err")" "uid 65534" "nobody's refusal"
	assert_contains "$(cat "$SITE/nobody.err")" "10 秒以内に答えません" \
	    "nobody's refusal gives the reason"
fi
assert_contains "$(cat "$LOG")" "did not answer within 10 s" "the log"
t=$(ms ctl ping) || fail "ping while NSS hangs"
[ "$t" -lt "$quick" ] || fail "ping took $t ms while NSS hangs"
t0=$(date +%s)
stop_site
[ $(( $(date +%s) - t0 )) -le $((8 * SLOW)) ] ||
    fail "stopping took $(( $(date +%s) - t0 )) s with a lookup stuck"
assert_contains "$(cat "$LOG")" "a passwd lookup is still under way" \
    "the stop's log"
echo "25-slow-passwd: ok"
