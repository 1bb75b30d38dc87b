#!/bin/bash
# 07-reload: SIGHUP and `crisisctl reload` are all or nothing. With a broken
# roster the reload fails (crisisctl exits 1 and cites file:line:column),
# the old rosters keep working, and the daemon runs on; once the file is
# fixed a reload brings the new members in.
. "$(dirname "$0")/lib.sh"
site_init
mkdir -p "$SITE/rosters"
cp "$REPO/etc/rosters/crisis.yaml" "$REPO/etc/rosters/shelters.yaml" "$SITE/rosters/"
CRISIS=$SITE/rosters/crisis.yaml
SHELTERS=$SITE/rosters/shelters.yaml
start_site "$CRISIS" "$SHELTERS"

accounts() {
	jget "$(ctl --json roster check)" 'd["accounts"]'
}

# accounts_is N: roster check reports N accounts (polled by wait_until).
accounts_is() {
	[ "$(accounts)" = "$1" ]
}
assert_eq 94 "$(accounts)" "accounts at start"

# A new staff member for hs01, appended after hs01's last staff line.
add_staff() {	# ID NUMBER
	python3 - "$SHELTERS" "$1" "$2" <<'EOF'
import sys
path, sid, num = sys.argv[1:]
lines = open(path, encoding="utf-8").read().split("\n")
at = max(i for i, l in enumerate(lines) if "id: hs01-4" in l or "hs01-4@" in l)
new = ["      - id: %s" % sid, "        name: 試験 太郎", "        title: 主事",
       '        phone: "+8190%08d"' % int(num),
       '        contacts: {sms: "+8190%08d", email: %s@town.example}' % (int(num), sid)]
lines[at + 1:at + 1] = new
open(path, "w", encoding="utf-8").write("\n".join(lines))
EOF
}

# Break the shelters file: hs02-1's sms number is not E.164. Note where.
cp "$SHELTERS" "$SITE/shelters.good"
LINE=$(grep -m 1 -n 'sms: "+819000000105"' "$SHELTERS" | cut -d: -f1)
[ -n "$LINE" ] || fail "fixture: hs02-1's sms number not found"
sed -i "${LINE}s/sms: \"+819000000105\"/sms: \"090-0000-0105\"/" "$SHELTERS"
COL=$(sed -n "${LINE}p" "$SHELTERS" | python3 -c 'import sys; l = sys.stdin.read(); print(l.index("\"090-") + 1)')

expect_rc 1 ctl reload
assert_contains "$ERR" "$SHELTERS:$LINE:$COL:" "reload error cites file:line:column"
assert_contains "$ERR" "090-0000-0105" "reload error names the value"
assert_eq 94 "$(accounts)" "accounts after the failed reload"
expect_rc 0 ctl --json rules check --tag 避難所開設要請 --to shelter:hs02 \
    --body '第二小学校の避難所を開設してください。'
assert_eq 4 "$(jget "$OUT" 'd["recipients"]')" "the old roster still resolves shelter:hs02"
# A draft to the old roster goes through, and reaches hs02 after approval.
expect_rc 0 ctl --json --as soumu_bucho draft --tag 避難所開設要請 \
    --to shelter:hs02 --body '第二小学校の避難所を開設してください。'
ID=$(jget "$OUT" 'd["id"]')
assert_eq 4 "$(jget "$OUT" 'd["recipients"]')" "draft recipients with the old roster"

# SIGHUP with the same broken file: fails the same way, in the log.
kill -HUP "$DPID"
wait_until 10 "the SIGHUP reload to fail" grep -q "reload failed" "$LOG"
grep -q "$SHELTERS:$LINE:$COL:" "$LOG" || fail "SIGHUP failure cites file:line:column in the log"
assert_eq 94 "$(accounts)" "accounts after the failed SIGHUP"
expect_rc 0 ctl --as mayor approve "$ID"
wait_sent "$ID" 4
assert_eq "hs02-1
hs02-2
hs02-3
hs02-4" "$(outbox members kind=alert alert="$ID")" "delivered with the old roster"
kill -0 "$DPID" || fail "crisiscastd died"

# Broken YAML is refused too.
printf 'group: shelter\nshelters: [\n' >"$SHELTERS"
expect_rc 1 ctl reload
assert_contains "$ERR" "$SHELTERS:" "broken YAML: the file is named"
assert_eq 94 "$(accounts)" "accounts after the broken-YAML reload"

# Fixed, with one more member: SIGHUP brings in 95.
cp "$SITE/shelters.good" "$SHELTERS"
add_staff hs01-5 99001
kill -HUP "$DPID"
wait_until 10 "95 accounts after SIGHUP" accounts_is 95
expect_rc 0 ctl --json roster show hs01-5
assert_eq hs01 "$(jget "$OUT" 'd["member"]["shelter"]')" "the new member's shelter"
expect_rc 0 ctl --json roster check
assert_contains "$(jget "$OUT" 'd["summary"]')" "95 accounts: crisis 38, shelter 57" \
    "roster check summary after SIGHUP"

# One more, through crisisctl reload: 96, and the new member is reached.
add_staff hs01-6 99002
expect_rc 0 ctl reload
expect_rc 0 ctl --json roster check
assert_eq 96 "$(jget "$OUT" 'd["accounts"]')" "accounts after crisisctl reload"
assert_contains "$(jget "$OUT" 'd["summary"]')" "96 accounts: crisis 38, shelter 58" \
    "roster check summary after crisisctl reload"
expect_rc 0 ctl --json --as soumu_bucho draft --tag 避難所開設要請 \
    --to shelter:hs01 --body '第一小学校の避難所を開設してください。'
ID=$(jget "$OUT" 'd["id"]')
assert_eq 6 "$(jget "$OUT" 'd["recipients"]')" "hs01 has 6 staff now"
expect_rc 0 ctl --as mayor approve "$ID"
wait_sent "$ID" 6
assert_eq 1 "$(outbox_count kind=alert alert="$ID" member=hs01-6)" "the new member is reached"

# The audit trail has both outcomes.
expect_rc 0 ctl audit --format csv
assert_match "$OUT" ',reload_failed,' "audit: reload_failed"
assert_match "$OUT" ',reloaded,' "audit: reloaded"

stop_site
echo "07-reload: ok"
