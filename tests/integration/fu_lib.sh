# fu_lib.sh: helpers shared by tests 50-54 (re-notify rounds, call list,
# readiness). Sourced after lib.sh.
#
# fu_site ACK RENOTIFY_MAX: the sample site with a copy of the rules where
# every tag but 取消 has ack_deadline ACK, and delivery.ack_deadline 2s /
# renotify_max RENOTIFY_MAX in the config; then starts the daemon.
fu_site() {
	write_config
	mkdir -p "$SITE/rules"
	cp "$REPO"/rules/*.yaml "$SITE/rules/"
	python3 - "$SITE/rules/tags.yaml" "$1" <<'PY'
import re, sys
path, ack = sys.argv[1], sys.argv[2]
out, tag = [], None
for line in open(path, encoding="utf-8"):
    m = re.match(r"^  (\S+):\s*$", line)
    if m:
        tag = m.group(1)
    if tag != "取消" and re.match(r"^    ack_deadline:", line):
        line = "    ack_deadline: %s\n" % ack
    out.append(line)
open(path, "w", encoding="utf-8").write("".join(out))
PY
	sed -i -e "s|^rules_dir: .*|rules_dir: \"$SITE/rules\"|" \
	    -e "s|^  ack_deadline: .*|  ack_deadline: 2s|" \
	    -e "s|^  renotify_max: .*|  renotify_max: $2|" "$CFG"
	start_daemon
}

fu_draft() {	# TAG AUDIENCE BODY: prints the id
	local out
	out=$(ctl --json --as "$SENDER" draft --tag "$1" --to "$2" --body "$3") ||
	    fail "draft failed: $out"
	jget "$out" 'd["id"]'
}

# fu_link ID MEMBER: the member's first recipient link of alert ID.
fu_link() {
	outbox field link kind=alert alert="$1" member="$2" | sed -n 1p
}

# fu_confirm ID RESPONSE MEMBER...: each member POSTs RESPONSE on their
# first link (8 at a time); fails unless every answer is 200. Links are
# read from the outbox in one pass, so 60 confirmations take well under
# a second.
fu_confirm() {
	local id=$1 resp=$2
	shift 2
	python3 - "$OUTBOX" "$id" "$@" >"$SITE/links" <<'PY'
import json, sys
path, alert, want = sys.argv[1], sys.argv[2], sys.argv[3:]
first = {}
for line in open(path, encoding="utf-8"):
    o = json.loads(line)
    if o.get("kind") == "alert" and str(o.get("alert")) == alert:
        first.setdefault(o["member"], o["link"])
missing = [m for m in want if m not in first]
if missing:
    sys.exit("no link for " + " ".join(missing))
print("\n".join(first[m] for m in want))
PY
	xargs -P 8 -I{} curl -s -o /dev/null -w '%{http_code}\n' \
	    -H 'Content-Type: application/x-www-form-urlencoded' \
	    --data-urlencode "response=$resp" {} <"$SITE/links" >"$SITE/confirm.out"
	[ "$(grep -c '^200$' "$SITE/confirm.out")" = "$#" ] ||
	    fail "confirm $*: $(sort "$SITE/confirm.out" | uniq -c)"
}

# fu_state_is ID STATE: predicate for wait_until.
fu_state_is() {
	[ "$(jget "$(ctl --json status "$1")" 'd["state"]')" = "$2" ]
}

# fu_rows ID EXPR: a jget over the status JSON of alert ID.
fu_rows() {
	jget "$(ctl --json status "$1")" "$2"
}
