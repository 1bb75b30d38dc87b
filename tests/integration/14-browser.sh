#!/bin/bash
# 14-browser: a real browser (Debian's chromium, headless, JavaScript off,
# a 390x844 phone viewport, driven by playwright-core from tests/browser)
# opens the approval link, clicks 承認, then opens a recipient link and
# confirms; crisisctl must then show the alert approved by link and the
# delivery read and confirmed with that response. Skipped (77) when
# chromium or node is missing. Screenshots go to $SCREENSHOT_DIR if set.
. "$(dirname "$0")/lib.sh"

[ -x /usr/bin/chromium ] || { echo "no /usr/bin/chromium"; exit 77; }
command -v node >/dev/null && command -v npm >/dev/null ||
    { echo "no node/npm"; exit 77; }
BROWSER_DIR=$REPO/tests/browser
if [ ! -d "$BROWSER_DIR/node_modules/playwright-core" ]; then
	(cd "$BROWSER_DIR" && npm ci --no-audit --no-fund) >&2 ||
	    fail "npm ci in tests/browser failed"
fi

start_site
out=$(ctl --json --as "$SENDER" draft --tag 参集指示 \
    --to member:soumu_bucho,kiki_shitsucho \
    --body '全職員は本庁舎に参集してください。') || fail "draft: $out"
ID=$(jget "$out" 'd["id"]')
wait_until 10 "approval link" outbox_has_link kind=approval alert="$ID"
AL=$(outbox field link kind=approval alert="$ID" | sed -n 1p)

# The recipient link exists only after the approval: a watcher writes it
# to a file that approve.mjs reads once it has approved.
python3 - "$OUTBOX" "$ID" "$SITE/rlink" <<'EOF2' &
import json, os, sys, time
path, alert, dest = sys.argv[1], int(sys.argv[2]), sys.argv[3]
for _ in range(600):
    try:
        for line in open(path, encoding="utf-8"):
            o = json.loads(line)
            if o.get("kind") == "alert" and o.get("alert") == alert and \
                    o.get("member") == "soumu_bucho":
                with open(dest + ".tmp", "w") as f:
                    f.write(o["link"])
                os.rename(dest + ".tmp", dest)
                sys.exit(0)
    except FileNotFoundError:
        pass
    time.sleep(0.1)
sys.exit(1)
EOF2
WATCH=$!
node "$BROWSER_DIR/approve.mjs" "$AL" "@$SITE/rlink" 遅れて参集 \
    "${SCREENSHOT_DIR:-$SITE}" || fail "the browser test failed"
wait "$WATCH" || fail "no recipient link in the outbox"

expect_rc 0 ctl --json status "$ID"
case $(jget "$OUT" 'd["state"]') in
approved|sending|complete) ;;
*) fail "state after the browser's 承認: $(jget "$OUT" 'd["state"]')" ;;
esac
assert_eq mayor "$(jget "$OUT" 'd["decided_by"]')" "decided_by"
assert_eq link "$(jget "$OUT" 'd["decided_how"]')" "decided_how"
R=$(jget "$OUT" '[r for r in d["recipients"] if r["member"] == "soumu_bucho"][0]')
assert_eq 遅れて参集 "$(jget "$R" 'd["response"]')" "response chosen in the browser"
[ "$(jget "$R" 'd["confirmed_at"]')" != null ] || fail "not confirmed"
[ "$(jget "$R" 'd["read_at"]')" != null ] || fail "not read"
assert_contains "$(sqlite3 "$STATE/state.db" \
    "SELECT decision_client FROM alerts WHERE id = $ID")" "Chrome" \
    "decision_client names the browser"

stop_site
echo "14-browser: ok"
