#!/bin/bash
# 09-identity: who may do what on the world-connectable control socket.
# crisisctl runs as the unprivileged user nobody (uid 65534):
#   1. nobody is no roster login: ping and version only; everything else,
#      and --as, refused (exit 1).
#   2. the roster maps login "nobody" to soumu_bucho (a sender): reads and
#      own drafts work; --as, approve, audit and reload are refused.
#   3. login "nobody" is kiki_shitsucho (an admin): audit works, and --as.
# Needs root (to run as another uid); skipped otherwise.
. "$(dirname "$0")/lib.sh"
if [ "$(id -u)" != 0 ]; then
	echo "skipped: needs root to run crisisctl as another user (uid $(id -u))"
	exit 77
fi
command -v setpriv >/dev/null ||
    { echo "skipped: setpriv (util-linux) is not installed"; exit 77; }
NOBODY=$(getent passwd 65534 | cut -d: -f1)
[ -n "$NOBODY" ] || { echo "skipped: no user with uid 65534"; exit 77; }

site_init
mkdir -p "$SITE/rosters"
cp "$REPO/etc/rosters/crisis.yaml" "$REPO/etc/rosters/shelters.yaml" "$SITE/rosters/"
CRISIS=$SITE/rosters/crisis.yaml
grep -q "login: $NOBODY\$" "$CRISIS" && fail "fixture: $NOBODY is a login already"
start_site "$CRISIS" "$SITE/rosters/shelters.yaml"
# nobody may reach the socket (the temp dir is 0700 otherwise) and the
# binaries; nothing else in $SITE is theirs.
chmod 711 "$SITE"
[ "$(stat -c %a "$CRISISCAST_SOCKET")" = 666 ] ||
    fail "control socket mode $(stat -c %a "$CRISISCAST_SOCKET"), want 666"

nobody_ctl() {
	ASAN_OPTIONS="$ASAN_OPTIONS:log_path=$SITE/san/ctl" \
	UBSAN_OPTIONS="$UBSAN_OPTIONS:log_path=$SITE/san/ctl" \
	    setpriv --reuid=65534 --regid=65534 --clear-groups \
	    "$CRISISCTL" "$@"
}
setpriv --reuid=65534 --regid=65534 --clear-groups test -x "$CRISISCTL" ||
    { echo "skipped: $NOBODY cannot run $CRISISCTL"; exit 77; }

# A pending alert to act on, drafted as root --as soumu_bucho.
expect_rc 0 ctl --json --as soumu_bucho draft --tag 情報共有 \
    --body '本日の訓練は予定どおり実施します。'
ID=$(jget "$OUT" 'd["id"]')

# 1. Not in the roster.
note "1: $NOBODY is no roster login"
expect_rc 0 nobody_ctl ping
expect_rc 0 nobody_ctl version
for cmd in "list" "status $ID" "show $ID" "roster check" "roster show mayor" \
    "calendar 2026" "audit" "reload" "approve $ID" "cancel $ID --reason x" \
    "resume hs01-1" "suspend hs01-1 --reason x"; do
	# shellcheck disable=SC2086
	expect_rc 1 nobody_ctl $cmd
done
expect_rc 1 nobody_ctl rules check --tag 情報共有 --body 'テスト'
expect_rc 1 nobody_ctl draft --tag 情報共有 --body '本日の訓練は中止します。'
expect_rc 1 nobody_ctl --as mayor approve "$ID"
assert_contains "$ERR" "--as" "the --as refusal says why"
expect_rc 1 nobody_ctl --as soumu_bucho draft --tag 情報共有 --body '本日の訓練は中止します。'
expect_rc 1 nobody_ctl --as kiki_shitsucho suspend mayor --reason 乗っ取り
expect_rc 0 ctl --json status "$ID"
assert_eq pending_approval "$(jget "$OUT" 'd["state"]')" "still pending"
expect_rc 0 ctl --json list
assert_eq 1 "$(jget "$OUT" 'len(d["alerts"])')" "nobody drafted nothing"
expect_rc 0 ctl --json roster show mayor
assert_eq false "$(jget "$OUT" 'd["member"]["suspended"]')" "nobody suspended nobody"

# set_login MEMBER: the roster maps the login nobody to MEMBER; reload.
set_login() {
	cp "$REPO/etc/rosters/crisis.yaml" "$CRISIS"
	python3 - "$CRISIS" "$1" "$NOBODY" <<'EOF'
import re, sys
path, member, login = sys.argv[1:]
text = open(path, encoding="utf-8").read()
at = text.index("  - id: %s\n" % member)
end = text.find("\n  - id: ", at + 1)
block = re.sub(r"login: \S+", "login: " + login, text[at:end], count=1)
assert ("login: " + login) in block, "member has no login line"
open(path, "w", encoding="utf-8").write(text[:at] + block + text[end:])
EOF
	ctl reload >/dev/null || fail "reload with login $NOBODY -> $1"
}

# 2. nobody is soumu_bucho: a sender, not an admin.
note "2: $NOBODY is soumu_bucho"
set_login soumu_bucho
expect_rc 0 nobody_ctl --json list
assert_eq 1 "$(jget "$OUT" 'len(d["alerts"])')" "soumu_bucho lists"
expect_rc 0 nobody_ctl status "$ID"
expect_rc 0 nobody_ctl --json draft --tag 情報共有 --body '明日の訓練は中止します。'
ID2=$(jget "$OUT" 'd["id"]')
expect_rc 0 ctl --json show "$ID2"
assert_eq soumu_bucho "$(jget "$OUT" 'd["sender"]["member"]')" "the draft is soumu_bucho's"
expect_rc 1 nobody_ctl approve "$ID"
expect_rc 1 nobody_ctl --as mayor approve "$ID"
expect_rc 1 nobody_ctl --as kiki_shitsucho suspend hs01-1 --reason x
expect_rc 1 nobody_ctl audit
expect_rc 1 nobody_ctl reload
expect_rc 0 ctl --json status "$ID"
assert_eq pending_approval "$(jget "$OUT" 'd["state"]')" "still pending"

# 3. nobody is kiki_shitsucho: an admin may read the audit and use --as.
note "3: $NOBODY is kiki_shitsucho (admin)"
set_login kiki_shitsucho
expect_rc 0 nobody_ctl audit --format csv
assert_match "$OUT" ",soumu_bucho,draft,$ID2," "the admin reads the audit"
expect_rc 1 nobody_ctl approve "$ID"	# an admin is no approver
expect_rc 0 nobody_ctl --as mayor approve "$ID"
expect_rc 0 ctl --json status "$ID"
assert_eq mayor "$(jget "$OUT" 'd["decided_by"]')" "decided as the mayor"

check_sanitizers
stop_site
echo "09-identity: ok"
