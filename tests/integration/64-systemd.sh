#!/bin/bash
# 64-systemd: the installed unit under a real systemd. systemd runs as PID 1
# of a PID and mount namespace of its own, with /etc, /usr and /var behind
# overlays (nothing on this machine changes), /run and /tmp fresh tmpfs; the
# test installs crisiscast there with `make install PREFIX=/usr`, creates
# the user with systemd-sysusers and starts crisiscastd.service as it
# ships, plus a drop-in that names a credential, shortens the watchdog and
# drops the default dependencies (see below). It checks:
#   - Type=notify: `systemctl start` returns once READY=1 came, the status
#     line says "94 accounts"; the daemon runs as crisiscast, with no
#     capabilities, NoNewPrivs, the seccomp filter on;
#   - RuntimeDirectory: crisisctl reaches /run/crisiscast/control.sock;
#     StateDirectory: an alert drafted, approved and sent lands in
#     /var/lib/crisiscast (ProtectSystem=strict leaves only that writable);
#   - LoadCredential: the board token is read from $CREDENTIALS_DIRECTORY;
#   - the WAL checkpoint thread starts under SystemCallFilter= once enough
#     alerts were written, and checkpoints run there, none on the loop;
#   - ExecReload: `systemctl reload` keeps it running, audited;
#   - the watchdog: keep-alives arrive; a daemon stopped with SIGSTOP is
#     killed and restarted by systemd, and the alert is still there;
#   - `systemctl stop`: STOPPING, a clean exit (Result=success);
#   - `systemd-analyze security` on the loaded unit: 2.0 or lower.
# Needs root, unshare and systemd; skipped otherwise, and under the
# sanitizers (LeakSanitizer's ptrace is outside the unit's system calls).
. "$(dirname "$0")/lib.sh"
SYSTEMD=/lib/systemd/systemd
[ "$(id -u)" = 0 ] || { echo "skipped: needs root (uid $(id -u))"; exit 77; }
[ -x "$SYSTEMD" ] && command -v unshare >/dev/null && command -v nsenter >/dev/null ||
    { echo "skipped: needs systemd, unshare and nsenter"; exit 77; }
if ldd "$CRISISCASTD" 2>/dev/null | grep -q 'libasan\|libubsan'; then
	echo "skipped: a sanitizer build (the unit's SystemCallFilter= forbids LeakSanitizer's ptrace)"
	exit 77
fi
site_init
W=$SITE/sd
mkdir -p "$W"

# --- PID 1 of a namespace of its own. What this systemd may touch is
# kept inside: /etc, /usr and /var are overlays (writes go to $W), /run
# and /tmp are fresh tmpfs (the repository and the build are bound in
# under /run/cc), and hostname and IPC are private. Only crisiscastd.service
# is ever started: the drop-in below drops its default dependencies, since
# sysinit.target would run the boot services on this machine's kernel and
# shared directories (systemd-tmpfiles --remove empties /tmp, sysctl,
# remount-fs, udev), and network-online.target is masked.
cat >"$W/init.sh" <<EOF
#!/bin/bash
set -e
for d in etc usr var; do
	mkdir -p "$W/\$d.up" "$W/\$d.work"
	mount -t overlay overlay -o "lowerdir=/\$d,upperdir=$W/\$d.up,workdir=$W/\$d.work" "/\$d"
done
mount -t tmpfs tmpfs /run
mkdir -p /run/systemd/system /run/cc/repo /run/cc/build
mount --bind "$REPO" /run/cc/repo
mount --bind "$BUILD" /run/cc/build
# Shared within this namespace (it is a private copy of the machine's), as
# systemd expects: it moves each unit's credentials mount into place from
# a helper's namespace.
mount --make-rshared /
printf '[Unit]\nDescription=crisiscast test\n' >/run/systemd/system/cctest.target
: >"$W/init.ready"
mount -t tmpfs tmpfs /tmp
export container=crisiscast-test
exec "$SYSTEMD" --system --unit=cctest.target --log-target=null
EOF
chmod +x "$W/init.sh"
unshare --pid --fork --mount --mount-proc --propagation private --uts --ipc \
    "$W/init.sh" >"$W/init.log" 2>&1 &
UPID=$!
SDPID=""
# Killing the namespace's PID 1 kills everything in it; its mounts go too.
stop_ns() {
	if [ -n "$SDPID" ]; then kill -9 "$SDPID" 2>/dev/null || true; fi
	kill -9 "$UPID" 2>/dev/null || true
	wait "$UPID" 2>/dev/null || true
}
trap 'rc=$?; stop_ns; (exit $rc); cleanup' EXIT

in_ns() { nsenter -t "$SDPID" -m -p -- "$@"; }
sd_up() {
	SDPID=$(pgrep -P "$UPID" -x systemd || true)
	[ -n "$SDPID" ] || return 1
	case "$(in_ns systemctl is-system-running 2>/dev/null)" in
	running|degraded) return 0 ;;
	esac
	return 1
}
# A machine that cannot make the namespace (no overlayfs, no mount
# rights) skips; one where systemd then does not come up fails.
for _ in $(seq 1 100); do
	[ -e "$W/init.ready" ] && break
	kill -0 "$UPID" 2>/dev/null || break
	sleep 0.1
done
[ -e "$W/init.ready" ] || {
	echo "skipped: cannot set up the namespace: $(tail -n 1 "$W/init.log")"
	exit 77
}
wait_until 20 "systemd running in the namespace" sd_up ||
    fail "systemd did not start: $(cat "$W/init.log")"
note "systemd $(in_ns systemctl --version | head -n 1 | cut -d' ' -f2) is PID 1 of the namespace (pid $SDPID here)"

# --- Install as a package would, then configure.
in_ns make -s -C /run/cc/repo -o all install BUILD=/run/cc/build PREFIX=/usr DESTDIR= \
    >"$W/install.log" 2>&1 || { cat "$W/install.log" >&2; fail "make install"; }
in_ns systemd-sysusers crisiscast.conf >/dev/null 2>&1 || fail "systemd-sysusers"
in_ns getent passwd crisiscast >/dev/null || fail "no crisiscast user after sysusers"
in_ns systemd-tmpfiles --create crisiscast.conf >/dev/null 2>&1 ||
    fail "systemd-tmpfiles --create crisiscast.conf"

HTTP_PORT=$(free_port)
TOKEN=board-$(head -c 18 /dev/urandom | base64 | tr '+/' '-_')
in_ns bash -e -c "
	mkdir -p /etc/crisiscast/rosters /etc/crisiscast/credentials
	cp /usr/share/doc/crisiscast/examples/rosters/*.yaml /etc/crisiscast/rosters/
	sed -e 's|^control_socket:.*|control_socket: /run/crisiscast/control.sock|' \
	    -e 's|^state_dir:.*|state_dir: /var/lib/crisiscast|' \
	    -e 's|^rules_dir:.*|rules_dir: /usr/share/crisiscast/rules|' \
	    -e 's|^templates_dir:.*|templates_dir: /usr/share/crisiscast/templates|' \
	    -e 's|127\.0\.0\.1:8080|127.0.0.1:$HTTP_PORT|g' \
	    /usr/share/doc/crisiscast/examples/crisiscast.yaml \
	    >/etc/crisiscast/crisiscast.yaml
	printf 'board:\n  token_file: board-token\n  loopback_trusted: false\n' \
	    >>/etc/crisiscast/crisiscast.yaml
	umask 077
	printf '%s\n' '$TOKEN' >/etc/crisiscast/credentials/board-token
	mkdir -p /etc/systemd/system/crisiscastd.service.d
	printf '[Unit]\nDefaultDependencies=no\n[Service]\nLoadCredential=board-token:/etc/crisiscast/credentials/board-token\nWatchdogSec=2s\nStandardOutput=append:/run/cc/daemon.log\nStandardError=append:/run/cc/daemon.log\n' \
	    >/etc/systemd/system/crisiscastd.service.d/test.conf
"
in_ns systemctl mask --quiet network-online.target
in_ns systemctl daemon-reload
prop() { in_ns systemctl show -P "$1" crisiscastd.service; }	# NAME

note "systemctl start: returns after READY=1"
timeout 40 nsenter -t "$SDPID" -m -p -- systemctl start crisiscastd.service ||
    fail "systemctl start failed: $(in_ns systemctl status --no-pager crisiscastd 2>&1 | tail -n 20)
$(in_ns cat /run/cc/daemon.log)"
assert_eq "active running" "$(prop ActiveState) $(prop SubState)" "state after start"
assert_eq "94 accounts" "$(prop StatusText)" "STATUS= from READY=1"
assert_eq "inactive" "$(in_ns systemctl is-active sysinit.target || true)" \
    "sysinit.target never started (nothing of this machine's boot ran)"
MAIN=$(prop MainPID)
[ "$MAIN" -gt 0 ] || fail "no MainPID"
st=$(in_ns cat "/proc/$MAIN/status")
CRISISCAST_UID=$(in_ns id -u crisiscast)
assert_match "$st" "$(printf 'Uid:\t%s\t' "$CRISISCAST_UID")" "runs as crisiscast"
assert_match "$st" "$(printf 'CapEff:\t0000000000000000')" "no effective capabilities"
assert_match "$st" "$(printf 'CapBnd:\t0000000000000000')" "empty bounding set"
assert_match "$st" "$(printf 'NoNewPrivs:\t1')" "NoNewPrivs"
assert_match "$st" "$(printf 'Seccomp:\t2')" "seccomp filter on"

note "RuntimeDirectory and StateDirectory: draft, approve, send"
ctl_ns() { in_ns /usr/bin/crisisctl -s /run/crisiscast/control.sock "$@"; }
ctl_ns ping >/dev/null || fail "crisisctl cannot reach /run/crisiscast/control.sock"
# send_ns: drafts and approves an alert to everyone; prints its id.
send_ns() {
	local out
	out=$(ctl_ns --json --as soumu_bucho draft --tag 参集指示 \
	    --to crisis+shelter \
	    --body '全職員は直ちに本庁舎3階の災害対策本部に参集してください。') ||
	    fail "draft: $out"
	ctl_ns --as mayor approve "$(jget "$out" 'd["id"]')" >/dev/null ||
	    fail "approve"
	jget "$out" 'd["id"]'
}
sent_count_ns() {	# ID
	ctl_ns --json status "$1" |
	    python3 -c 'import json,sys; print(json.load(sys.stdin)["counts"]["sent"])'
}
sent94() {	# ID
	[ "$(sent_count_ns "$1")" = 94 ]
}
ID=$(send_ns)
wait_until 20 "94 sent" sent94 "$ID"
assert_eq 96 "$(in_ns sh -c 'wc -l </var/lib/crisiscast/outbox.jsonl')" \
    "outbox lines in /var/lib/crisiscast (2 approval requests, 94 alerts)"
assert_eq "700 crisiscast" "$(in_ns stat -c '%a %U' /var/lib/crisiscast)" \
    "state directory mode and owner"

note "LoadCredential: the board token"
st() { curl -s -o /dev/null -w '%{http_code}' "$@"; }
assert_eq 403 "$(st "http://127.0.0.1:$HTTP_PORT/board")" "/board without the token"
assert_eq 200 "$(st "http://127.0.0.1:$HTTP_PORT/board?token=$TOKEN")" \
    "/board with the credential's token"

note "the WAL checkpoint thread starts under the unit's system call filter"
ckpts() {
	curl -sf -H "Authorization: Bearer $TOKEN" \
	    "http://127.0.0.1:$HTTP_PORT/metrics" |
	    sed -n "s/^crisiscast_wal_checkpoints_total{where=\"$1\"} //p"
}
# About 100 WAL pages an alert to 94: the thread starts past 1,000.
for _ in $(seq 20); do
	[ "$(ckpts thread)" -ge 1 ] && break
	n=$(send_ns)
	wait_until 20 "alert $n sent" sent94 "$n"
done
assert_ge 1 "$(ckpts thread)" "checkpoints on the thread"
assert_eq 0 "$(ckpts loop)" "checkpoints on the loop"
assert_eq 1 "$(in_ns sh -c "cat /proc/$(prop MainPID)/task/*/comm" | grep -cx checkpoint)" \
    "threads named checkpoint"

note "systemctl reload"
in_ns systemctl reload crisiscastd.service || fail "systemctl reload"
reloaded() { in_ns grep -q 'reloaded: ' /run/cc/daemon.log; }
wait_until 10 "the reload (SIGHUP from ExecReload=)" reloaded ||
    fail "no reload: $(in_ns tail -n 5 /run/cc/daemon.log)"
ctl_ns --json audit >"$SITE/audit.json" || fail "crisisctl audit"
assert_eq 1 "$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); rows=d if isinstance(d,list) else d["rows"]; print(sum(1 for r in rows if r["action"]=="reloaded" and r.get("detail")=="SIGHUP"))' "$SITE/audit.json")" \
    "the reload audited (signal, SIGHUP)"
assert_eq "active running $MAIN" "$(prop ActiveState) $(prop SubState) $(prop MainPID)" \
    "same process after the reload"

note "the watchdog: keep-alives, then a hung daemon is restarted"
w1=$(prop WatchdogTimestampMonotonic)
sleep 1.5
w2=$(prop WatchdogTimestampMonotonic)
[ "$w2" -gt "$w1" ] || fail "no keep-alive in 1.5 s at WatchdogSec=2s ($w1 -> $w2)"
in_ns kill -STOP "$MAIN"
restarted() {
	local p
	p=$(prop MainPID)
	[ "$p" -gt 0 ] && [ "$p" != "$MAIN" ] && [ "$(prop SubState)" = running ]
}
wait_until 20 "systemd restarts the hung daemon" restarted
assert_eq 1 "$(prop NRestarts)" "restarts"
assert_eq 94 "$(sent_count_ns "$ID")" "the alert survived the watchdog kill"

note "systemctl stop: a clean exit"
in_ns systemctl stop crisiscastd.service
assert_eq "inactive success 0" "$(prop ActiveState) $(prop Result) $(prop ExecMainStatus)" \
    "stopped cleanly"

note "systemd-analyze security on the loaded unit"
sec=$(in_ns systemd-analyze security --no-pager crisiscastd.service 2>&1 || true)
level=$(sed -n 's/.*Overall exposure level for crisiscastd.service: \([0-9.]*\).*/\1/p' <<<"$sec")
[ -n "$level" ] || fail "no exposure level: $sec"
awk -v l="$level" 'BEGIN { exit !(l <= 2.0) }' || fail "exposure $level > 2.0"
note "exposure $level"
echo "64-systemd: ok"
