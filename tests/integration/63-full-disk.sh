#!/bin/bash
# 63-full-disk: the state directory on a small tmpfs that fills up. While
# the database cannot be written, drafts are refused with a clear Japanese
# error (exit 1), the daemon keeps running and answers, and a confirmation
# is never answered 200 unless it was stored. After space is freed,
# everything stored before is intact (the alert, its 94 deliveries and
# confirmations, every audit row; integrity_check ok, also after a
# restart) and new drafts work. Needs root and mount(8) (else skipped).
. "$(dirname "$0")/lib.sh"

site_init
if ! mount -t tmpfs -o size=8m,mode=0755 tmpfs "$STATE" 2>"$SITE/mount.err"; then
	echo "63-full-disk: skipped: cannot mount a tmpfs on the state dir ($(head -n 1 "$SITE/mount.err"))"
	exit 77
fi
full_cleanup() {
	local rc=$?
	set +e
	if [ -n "$DPID" ]; then
		kill -KILL "$DPID" 2>/dev/null
		wait "$DPID" 2>/dev/null
		DPID=""
	fi
	umount -l "$STATE" 2>/dev/null
	(exit "$rc")
	cleanup
}
trap full_cleanup EXIT
start_site

BODY='全職員は直ちに本庁舎3階の災害対策本部に参集してください。'
F=(-H 'Content-Type: application/x-www-form-urlencoded')
out=$(ctl --json --as soumu_bucho draft --tag 参集指示 --to crisis+shelter --body "$BODY") ||
    fail "draft: $out"
A=$(jget "$out" 'd["id"]')
expect_rc 0 ctl --as mayor approve "$A"
wait_sent "$A" 94
for m in soumu_bucho kiki_shitsucho hs01-1; do
	link=$(outbox field link kind=alert alert="$A" member=$m | sed -n 1p)
	code=$(curl -s -o /dev/null -w '%{http_code}' "${F[@]}" \
	    --data-urlencode 'response=参集できる' "$link")
	assert_eq 200 "$code" "confirmation of $m"
done
snapshot() {	# SUFFIX
	ctl --json status "$A" >"$SITE/status.$1" || fail "status"
	ctl --json audit >"$SITE/audit.$1" || fail "audit"
	ctl --json list >"$SITE/list.$1" || fail "list"
}
snapshot before

# Fill the file system.
dd if=/dev/zero of="$STATE/filler" bs=64k 2>/dev/null || true
note "state dir: $(df -k "$STATE" | awk 'NR == 2 { print $4 }') KiB free"

# Drafts until the database refuses one (WAL room may take a few).
refused=""
for i in $(seq 1 60); do
	rc=0
	ctl --as soumu_bucho draft --tag 情報共有 --body "満杯試験 $i。$BODY" \
	    >"$SITE/d.out" 2>"$SITE/d.err" || rc=$?
	if [ "$rc" != 0 ]; then
		refused=$i
		break
	fi
done
[ -n "$refused" ] || fail "60 drafts stored on a full disk"
note "draft $refused refused: $(cat "$SITE/d.err")"
assert_eq 1 "$rc" "crisisctl's exit for a refused draft"
assert_contains "$(cat "$SITE/d.err")" "ディスクの空きがありません" "the refusal says the disk is full"
for i in 1 2 3; do
	expect_rc 1 ctl --as soumu_bucho draft --tag 情報共有 --body "満杯試験 再。$BODY"
	assert_contains "$ERR" "ディスクの空きがありません" "refusal $i"
done
# Still running and answering; reads work.
expect_rc 0 ctl ping
expect_rc 0 ctl --json status "$A"
kill -0 "$DPID" || fail "crisiscastd died on a full disk"
# A confirmation on a full disk: 200 only if stored.
link=$(outbox field link kind=alert alert="$A" member=mayor | sed -n 1p)
ccode=$(curl -s -o "$SITE/confirm.body" -w '%{http_code}' "${F[@]}" \
    --data-urlencode 'response=参集できる' "$link")
note "a confirmation on the full disk: HTTP $ccode"

# Free the space: everything is there, new drafts work.
rm -f "$STATE/filler"
snapshot after
python3 - "$SITE" "$ccode" <<'PY' || fail "stored state changed across the full disk"
import json, sys
site, ccode = sys.argv[1], sys.argv[2]
def load(n):
    d = json.load(open("%s/%s" % (site, n)))
    return d
b, a = load("status.before"), load("status.after")
key = lambda r: (r["member"], r["channel"], r["round"])
rb = {key(r): r for r in b["recipients"]}
ra = {key(r): r for r in a["recipients"]}
bad = []
if set(rb) != set(ra):
    bad.append("recipient rows differ")
for k, r in rb.items():
    x = ra.get(k, {})
    for f in ("state", "sent_at", "confirmed_at", "response"):
        if r.get(f) != x.get(f):
            bad.append("%s %s: %r -> %r" % (k, f, r.get(f), x.get(f)))
conf = {r["member"] for r in a["recipients"] if r.get("confirmed_at")}
want = {"soumu_bucho", "kiki_shitsucho", "hs01-1"}
if ccode == "200":
    want.add("mayor")
if not want <= conf:
    bad.append("confirmations lost: %s" % sorted(want - conf))
rows = lambda d: d if isinstance(d, list) else d["rows"]
ab = rows(load("audit.before"))
aa = {r["id"]: r for r in rows(load("audit.after"))}
lost = [r for r in ab if aa.get(r["id"]) != r]
if lost:
    bad.append("audit rows lost: %d" % len(lost))
lb = {x["id"] for x in load("list.before")["alerts"]}
la = {x["id"] for x in load("list.after")["alerts"]}
if not lb <= la:
    bad.append("alerts lost: %s" % sorted(lb - la))
if bad:
    sys.exit("\n".join(bad))
PY
out=$(ctl --json --as soumu_bucho draft --tag 情報共有 --body "空き回復後。$BODY") ||
    fail "a draft after space was freed: $out"
B=$(jget "$out" 'd["id"]')
expect_rc 0 ctl --as mayor approve "$B"
wait_sent "$B" "$(jget "$(ctl --json status "$B")" 'd["counts"]["recipients"]')"
stop_site
assert_eq ok "$(sqlite3 "$STATE/state.db" 'PRAGMA integrity_check')" "integrity_check"
start_daemon
expect_rc 0 ctl --json status "$A"
assert_eq 94 "$(jget "$OUT" 'd["counts"]["sent"]')" "alert $A after the restart"
stop_site
echo "63-full-disk: ok"
