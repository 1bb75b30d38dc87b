# fakelib.sh: sourced after lib.sh by the tests that talk to provider fakes
# (tests/fakes/*.py). Starts fakes on 127.0.0.1 port 0, points channels of
# the test's config at them, scripts them, and stops them at exit.
#
#   fake_start NAME SCRIPT [ARGS...]   # sets NAME's port in $FAKE_PORT_<NAME>
#   fake_url NAME [PATH]               # http://127.0.0.1:PORT/PATH
#   fake_ctl NAME JSON                 # POST /_control (see fakehttp.py)
#   fake_log NAME                      # path of its JSON-lines log
#   set_transport CHANNEL 'YAML FLOW MAP'   # replaces/adds the channel
#   set_delivery_channels 'a, b'       # delivery.channels of the config
#
# Fakes run under /usr/bin/python3 (Debian's), never another python.

FAKE_PIDS=""
FAKEPY=/usr/bin/python3

fake_cleanup() {
	local p
	for p in $FAKE_PIDS; do
		kill "$p" 2>/dev/null || true
	done
	for p in $FAKE_PIDS; do
		wait "$p" 2>/dev/null || true
	done
	FAKE_PIDS=""
}

# fake_site_init: lib.sh's site_init, with fakes stopped at exit too.
fake_site_init() {
	site_init
	trap 'rc=$?; set +e; fake_cleanup; (exit $rc); cleanup' EXIT
}

fake_start() {	# NAME SCRIPT [ARGS...]
	local name=$1 script=$2 i=0
	shift 2
	fake_site_init
	rm -f "$SITE/$name.port"
	"$FAKEPY" "$REPO/tests/fakes/$script" --port-file "$SITE/$name.port" \
	    --log "$SITE/$name.log" "$@" 2>>"$SITE/$name.err" &
	FAKE_PIDS="$FAKE_PIDS $!"
	while [ ! -s "$SITE/$name.port" ]; do
		i=$((i + 1))
		[ "$i" -le 100 ] || { cat "$SITE/$name.err" >&2; fail "fake $name did not start"; }
		sleep 0.05
	done
	eval "FAKE_PORT_$name=$(cat "$SITE/$name.port")"
	touch "$SITE/$name.log"
}

fake_port() { eval "echo \$FAKE_PORT_$1"; }
fake_url() { echo "http://127.0.0.1:$(fake_port "$1")/${2:-}"; }
fake_log() { echo "$SITE/$1.log"; }

fake_ctl() {	# NAME JSON
	curl -sf -X POST --data-binary "$2" "$(fake_url "$1" _control)" \
	    >/dev/null || fail "cannot script fake $1"
}

set_transport() {	# CHANNEL MAP
	python3 - "$CFG" "$1" "$2" <<'PY'
import sys, re
path, ch, m = sys.argv[1:]
lines = open(path).read().split("\n")
i = lines.index("transports:")
pat = re.compile(r"^  %s:\s" % re.escape(ch))
new = "  %s: %s" % (ch, m)
for k in range(i + 1, len(lines)):
    if pat.match(lines[k]):
        lines[k] = new
        break
else:
    lines.insert(i + 1, new)
open(path, "w").write("\n".join(lines))
PY
}

set_delivery_channels() {	# 'a, b, c'
	sed -i "s/^  channels: \[lineworks, ntfy, sms, email\]/  channels: [$1]/" "$CFG"
}

# fq NAME PYEXPR: evaluates PYEXPR over L (the fake's log as a list of
# dicts); prints the result (strings as they are, else JSON).
fq() {
	python3 - "$(fake_log "$1")" "$2" <<'PY'
import json, sys
L = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
v = eval(sys.argv[2])
print(v if isinstance(v, str) else json.dumps(v, ensure_ascii=False))
PY
}

# fq_ge NAME MIN PYEXPR: true when PYEXPR (a number) is at least MIN; for
# wait_until, which runs its command again each time.
fq_ge() {
	[ "$(fq "$1" "$3")" -ge "$2" ]
}
