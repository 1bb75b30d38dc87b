#!/usr/bin/python3
"""soak.py: the load generator and the checker of bench/soak.sh.

    soak.py run    --url URL --ctl CRISISCTL --socket S --pid PID
                   --outbox F --ntfy-log F --db F --stats OUT [options]
    soak.py verify --db F --outbox F --ntfy-log F --stats F

`run` drives one crisiscastd for --secs seconds: --alerts alerts spread
evenly, each drafted (crisisctl), then approved (by the console, by the
approval link, or by the deputy after the chain escalated), rejected,
cancelled before or after it went out (the 取消 notice is approved too), or
left to expire. Recipients open their links (GET /r/TOKEN) and confirm
(POST /r/TOKEN with one of the page's own choices), from the outbox of the
file transport and, for re-notify rounds on ntfy, from the ntfy fake's log
(the http action a phone would tap). The board, the metrics and an event
stream are polled, crisisctl reload runs every --reload seconds, a member
is suspended and resumed now and then. Every --sample seconds it reads the
daemon's VmRSS, open descriptors and CPU time. After the load it waits
until every alert and delivery settled, samples the daemon idle at once
and again after --settle seconds (two of its one-minute memory trims),
prints `name value unit` lines and writes its counters to --stats.

`verify` reads the database (read-only) after the daemon stopped and
checks what a soak must not lose: each alert ended as its plan says, no
delivery is left pending, the audit trail matches the rows (one draft row
per alert, one row per sent delivery, per confirmation, per round, no
gaps), the outbox and the ntfy fake hold exactly the sent messages. Prints
figures, then one line per failed check on stderr; exit 1 if any failed.

Debian's python3 and its standard library only.
"""
import argparse
import collections
import concurrent.futures
import heapq
import http.client
import json
import os
import random
import re
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.parse

BODIES = [
    # tag, audience, body, drill
    ("参集指示", "crisis",
     "全職員は直ちに本庁舎3階の災害対策本部に参集してください。", False),
    ("避難所開設要請", "shelter:hs01,hs03",
     "第一小学校と第三中学校の避難所を開設してください。", False),
    ("避難所開設要請", "shelter", "全指定避難所を開設してください。", False),
    ("気象警報", "crisis",
     "大雨警報が発表されました。各課で警戒体制をとってください。", False),
    ("被害報告", "crisis+shelter",
     "町道で倒木があります。通行止めにしています。", False),
    ("情報共有", "kind:fever", "発熱者専用避難所の備品を確認してください。", False),
    ("情報共有", "member:kiki_shitsucho,soumu_bucho,kyoikucho",
     "明朝の会議は予定どおり開きます。", False),
    ("訓練", "crisis", "訓練です。本庁舎に参集してください。", True),
]

# plan: share of alerts. The end state each plan must reach.
PLANS = [
    ("approve", 0.60, "complete"),
    ("approve_link", 0.14, "complete"),
    ("approve_deputy", 0.04, "complete"),
    ("reject", 0.03, "rejected"),
    ("reject_link", 0.03, "rejected"),
    ("cancel_pending", 0.04, "cancelled"),
    ("cancel_sent", 0.07, "cancelled"),
    ("expire", 0.05, "expired"),
]
# How recipients of an approved alert behave.
# late: everyone confirms just around the ack deadline, as the reminders
# are being made.
MODES = [("mixed", 0.76), ("all", 0.12), ("late", 0.06), ("none", 0.06)]

SENDER, APPROVER, DEPUTY, ADMIN = ("soumu_bucho", "mayor", "deputy_mayor",
                                   "kiki_shitsucho")
SUSPENDABLE = ["hs%02d-4" % i for i in range(1, 11)] + ["fv01-3", "fv02-3"]
FORM = "application/x-www-form-urlencoded"
BUTTON = re.compile(r'name="response" value="([^"]*)"')
NONCE = re.compile(r'name="nonce" value="([^"]*)"')


def pick(rng, table):
    x, acc = rng.random(), 0.0
    for row in table:
        acc += row[1]
        if x < acc:
            return row
    return table[-1]


def unescape(s):
    return (s.replace("&quot;", '"').replace("&#39;", "'")
            .replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&"))


class Alert:
    def __init__(self, aid, tag, plan, mode, recipients, expect):
        self.id = aid
        self.tag = tag
        self.plan = plan
        self.mode = mode
        self.recipients = recipients
        self.expect = expect
        self.drafted = time.monotonic()
        self.notice = None	# the 取消 notice's id


class Tail:
    """Complete JSON lines appended to a file since the last call."""

    def __init__(self, path):
        self.path = path
        self.f = None
        self.rest = b""

    def lines(self):
        if self.f is None:
            try:
                self.f = open(self.path, "rb")
            except FileNotFoundError:
                return []
        data = self.rest + self.f.read()
        parts = data.split(b"\n")
        self.rest = parts.pop()
        out = []
        for p in parts:
            try:
                out.append(json.loads(p))
            except ValueError:
                pass
        return out


class Soak:
    def __init__(self, a):
        self.a = a
        u = urllib.parse.urlsplit(a.url)
        self.host, self.port = u.hostname, u.port
        self.rng = random.Random(a.seed)
        self.lock = threading.Lock()
        self.heap = []
        self.seq = 0
        self.pool = concurrent.futures.ThreadPoolExecutor(a.workers)
        self.running = 0	# events submitted, not finished
        self.tl = threading.local()
        self.c = collections.Counter()
        self.alerts = {}
        self.approval_links = collections.defaultdict(list)
        self.seen = collections.Counter()	# (alert, member) messages
        self.problems = []		# unexpected answers, first few kept
        self.samples = []		# (t, phase, rss KiB, fds, cpu s)
        self.phase = "load"
        self.stop = threading.Event()
        self.lag_max = 0.0
        self.t0 = time.monotonic()
        self.outbox = Tail(a.outbox)
        self.ntfy = Tail(a.ntfy_log)
        self.ack = a.ack
        self.conns = []			# every HTTP connection made
        self.sse = None			# the event stream's connection
        self.suspended = {}		# member -> their links revoked until
        self.peers = {}			# port -> " (name)", for fd_kinds
        for p in a.peer:
            name, _, port = p.partition("=")
            self.peers[int(port)] = " (%s)" % name

    # -- scheduling ----------------------------------------------------

    def at(self, delay, fn, *args):
        with self.lock:
            self.seq += 1
            heapq.heappush(self.heap, (time.monotonic() + delay, self.seq,
                                       fn, args))

    def _run(self, due, fn, args):
        lag = time.monotonic() - due
        if lag > self.lag_max:
            self.lag_max = lag
        try:
            fn(*args)
        except Exception as e:	# a driver bug must not stop the soak
            self.problem("driver: %s%r: %r" % (fn.__name__, args, e))
        finally:
            with self.lock:
                self.running -= 1

    def dispatch(self):
        now = time.monotonic()
        while True:
            with self.lock:
                if not self.heap or self.heap[0][0] > now:
                    return
                due, _, fn, args = heapq.heappop(self.heap)
                self.running += 1
            self.pool.submit(self._run, due, fn, args)

    def idle(self):
        with self.lock:
            return not self.heap and self.running == 0

    def count(self, name, n=1):
        with self.lock:
            self.c[name] += n

    def problem(self, what):
        with self.lock:
            self.c["unexpected"] += 1
            if len(self.problems) < 40:
                self.problems.append("%.1fs %s" % (time.monotonic() - self.t0,
                                                   what))

    # -- the daemon's two doors ----------------------------------------

    def http(self, method, path, body=None, ctype=None):
        """(status, text); status 0 when no answer came."""
        hdr = {"User-Agent": "crisiscast-soak"}
        if body is not None:
            hdr["Content-Type"] = ctype or FORM
            body = body.encode() if isinstance(body, str) else body
        for attempt in (1, 2):
            conn = getattr(self.tl, "conn", None)
            if conn is None:
                conn = self.tl.conn = http.client.HTTPConnection(
                    self.host, self.port, timeout=20)
                with self.lock:
                    self.conns.append(conn)
            try:
                conn.request(method, path, body=body, headers=hdr)
                r = conn.getresponse()
                data = r.read()
                self.count("http_requests")
                if r.getheader("Connection", "").lower() == "close":
                    conn.close()
                    self.tl.conn = None
                return r.status, data.decode("utf-8", "replace")
            except (http.client.HTTPException, OSError) as e:
                conn.close()
                self.tl.conn = None
                if attempt == 2:
                    self.problem("http %s %s: %r" % (method, path, e))
                    return 0, ""
                # a kept-alive connection the server closed meanwhile
                self.count("http_reconnects")
        return 0, ""

    def expect(self, got, allowed, what):
        if got not in allowed:
            self.problem("%s: HTTP %s" % (what, got))
            return False
        return True

    def ctl(self, args, who=None, want=(0,)):
        cmd = [self.a.ctl, "-s", self.a.socket, "--json"]
        if who:
            cmd += ["--as", who]
        try:
            p = subprocess.run(cmd + args, capture_output=True, timeout=60)
        except subprocess.TimeoutExpired:
            self.problem("crisisctl %s: timed out" % " ".join(args))
            return None
        self.count("ctl_calls")
        if p.returncode not in want:
            self.count("ctl_failures")
            self.problem("crisisctl %s: exit %d: %s" % (
                " ".join(args), p.returncode,
                (p.stdout + p.stderr).decode("utf-8", "replace").strip()[:300]))
            return None
        try:
            return json.loads(p.stdout or b"{}")
        except ValueError:
            return {}

    # -- alerts ---------------------------------------------------------

    def draft(self, i):
        rng = random.Random(self.a.seed * 1000003 + i)
        tag, aud, body, drill = BODIES[i % len(BODIES)] if i < len(
            BODIES) else rng.choice(BODIES)
        plan, _, expect = pick(rng, PLANS)
        mode = pick(rng, MODES)[0]
        args = ["draft", "--tag", tag, "--to", aud, "--body", body]
        if drill:
            args.append("--drill")
        j = self.ctl(args, SENDER)
        if j is None or "id" not in j:
            self.count("draft_failed")
            return
        a = Alert(int(j["id"]), tag, plan, mode, int(j.get("recipients", 0)),
                  expect)
        with self.lock:
            self.alerts[a.id] = a
        self.count("alerts")
        self.count("plan_" + plan)
        step, ttl = self.a.step, self.a.ttl
        if plan == "approve":
            self.at(rng.uniform(0.3, 2.0), self.approve_ctl, a.id, APPROVER)
        elif plan == "approve_link":
            self.at(rng.uniform(0.3, 1.5), self.decide_link, a.id, APPROVER,
                    "approve", time.monotonic() + step - 0.5)
        elif plan == "approve_deputy":
            self.at(step + rng.uniform(0.3, 1.0), self.decide_link, a.id,
                    DEPUTY, "approve", time.monotonic() + ttl - 1.0)
        elif plan == "reject":
            self.at(rng.uniform(0.3, 2.0), self.reject_ctl, a.id)
        elif plan == "reject_link":
            self.at(rng.uniform(0.3, 1.5), self.decide_link, a.id, APPROVER,
                    "reject", time.monotonic() + step - 0.5)
        elif plan == "cancel_pending":
            self.at(rng.uniform(0.3, 2.0), self.cancel, a.id)
        elif plan == "cancel_sent":
            self.at(rng.uniform(0.3, 1.5), self.approve_ctl, a.id, APPROVER)
            self.at(rng.uniform(3.0, 2.5 * self.ack), self.cancel, a.id)
        # expire: nobody decides; the chain escalates, then expires it

    def approve_ctl(self, aid, who):
        if self.ctl(["approve", str(aid)], who) is not None:
            self.count("approved_ctl")

    def reject_ctl(self, aid):
        if self.ctl(["reject", str(aid), "--reason", "誤報のため"],
                    APPROVER) is not None:
            self.count("rejected_ctl")

    def cancel(self, aid):
        j = self.ctl(["cancel", str(aid), "--reason", "誤って送信したため"],
                     SENDER)
        if j is None:
            return
        self.count("cancelled")
        n = j.get("notice")
        if n:
            n = int(n)
            with self.lock:
                self.alerts[aid].notice = n
                self.alerts[n] = Alert(n, "取消", "notice", "mixed",
                                       int(j.get("reached", 0)), "complete")
            self.count("notices")
            self.at(self.rng.uniform(0.3, 1.5), self.approve_ctl, n, APPROVER)

    def decide_link(self, aid, member, action, deadline):
        """The approver opens their link and presses 承認 or 却下."""
        with self.lock:
            links = [l for m, l in self.approval_links.get(aid, [])
                     if m == member]
        if not links:
            if time.monotonic() < deadline:
                self.at(0.2, self.decide_link, aid, member, action, deadline)
                return
            self.problem("alert %d: no approval link for %s" % (aid, member))
            return
        path = urllib.parse.urlsplit(self.rng.choice(links)).path
        st, page = self.http("GET", path)
        if not self.expect(st, (200,), "GET approval page of %d" % aid):
            return
        m = NONCE.search(page)
        if not m:
            self.problem("alert %d: approval page without nonce" % aid)
            return
        form = {"nonce": unescape(m.group(1)), "action": action}
        if action == "reject":
            form["reason"] = "内容を確認してから出し直してください。"
        st, page = self.http("POST", path, urllib.parse.urlencode(form))
        if self.expect(st, (200,), "POST approval %s of %d" % (action, aid)):
            self.count("approved_link" if action == "approve" else
                       "rejected_link")

    # -- recipients ------------------------------------------------------

    def on_outbox(self, o):
        kind, aid, member = o.get("kind"), o.get("alert"), o.get("member")
        self.count("outbox_" + str(kind))
        if kind == "approval":
            with self.lock:
                self.approval_links[aid].append((member, o["link"]))
            return
        if kind != "alert":
            return
        key = (aid, member)
        with self.lock:
            self.seen[key] += 1
            n = self.seen[key]
            a = self.alerts.get(aid)
        mode = a.mode if a else "mixed"
        path = urllib.parse.urlsplit(o["link"]).path
        self.react(key, mode, n == 1, path, None)

    def on_ntfy(self, e):
        if e.get("status") != 200 or e.get("path") != "/":
            self.count("ntfy_refused" if e.get("status") else "ntfy_dropped")
            return
        self.count("ntfy_messages")
        try:
            j = json.loads(e["body"])
        except ValueError:
            self.problem("ntfy: a body that is not JSON")
            return
        click = j.get("click")
        acts = [x for x in j.get("actions", []) if x.get("action") == "http"]
        if not click or not acts:
            return		# a notice: nothing to press
        member = str(j.get("topic", ""))[3:]
        self.react((None, member), "mixed", False,
                   urllib.parse.urlsplit(click).path, acts)

    def react(self, key, mode, first, path, acts):
        """What one recipient does with one message."""
        r, ack = self.rng, self.ack
        key = (key[0], key[1], time.monotonic())	# + when it arrived
        if mode == "none":
            if r.random() < 0.2:
                self.at(r.uniform(0.3, ack), self.read, key, path)
            return
        if mode == "late":
            if first:
                self.at(r.uniform(ack - 0.7, ack + 0.7), self.confirm, key,
                        path)
            return
        if mode == "all":
            p_read, p_conf, late = 1.0, 1.0, 0.5 * ack
        elif first:
            p_read, p_conf, late = 0.8, 0.8, 1.3 * ack
        else:
            p_read, p_conf, late = 0.6, 0.8, 0.8 * ack
        if r.random() >= p_read:
            return
        if r.random() >= p_conf:
            self.at(r.uniform(0.3, late), self.read, key, path)
        elif acts:
            self.at(r.uniform(0.3, late), self.tap, key, path, acts)
        else:
            self.at(r.uniform(0.3, late), self.confirm, key, path)

    def revoked(self, key):
        """True when the member was suspended after this message came:
        a suspension revokes every link the member holds (404)."""
        with self.lock:
            t = self.suspended.get(key[1])
        return t is not None and key[2] <= t

    def read(self, key, path):
        st, _ = self.http("GET", path)
        if st == 404 and self.revoked(key):
            self.count("revoked_links")
        elif self.expect(st, (200,), "GET recipient page %s" % path):
            self.count("reads")

    def confirm(self, key, path):
        st, page = self.http("GET", path)
        if st == 404 and self.revoked(key):
            self.count("revoked_links")
            return
        if not self.expect(st, (200,), "GET recipient page %s" % path):
            return
        self.count("reads")
        choices = [unescape(c) for c in BUTTON.findall(page)]
        if not choices:
            # confirmed already (an earlier link), or cancelled
            self.count("pages_without_choices")
            return
        r = self.rng
        if r.random() < 0.01:
            st, _ = self.http("POST", path, "response=" +
                              urllib.parse.quote("たぶん行けます"))
            self.expect(st, (400,), "POST a response not offered")
            self.count("bad_responses")
        choice = r.choice(choices)
        body = "response=" + urllib.parse.quote(choice)
        self.post_confirm(key, path, body)
        if r.random() < 0.03:	# a double tap
            self.at(r.uniform(0.2, 1.0), self.post_confirm, key, path, body)

    def tap(self, key, path, acts):
        """The ntfy action button: a POST without opening the page."""
        if self.rng.random() < 0.3:
            self.read(key, path)
        act = self.rng.choice(acts)
        self.post_confirm(key, urllib.parse.urlsplit(act["url"]).path,
                          act.get("body", ""))

    def post_confirm(self, key, path, body):
        st, page = self.http("POST", path, body)
        if st == 404 and self.revoked(key):
            self.count("revoked_links")
            return
        if not self.expect(st, (200, 409), "POST confirmation %s" % path):
            return
        if st == 409:
            self.count("confirm_cancelled")
        elif "回答「" in page:
            self.count("confirms")
        else:
            self.count("confirms_repeated")

    # -- pollers -----------------------------------------------------------

    def poll(self):
        for path in ("/board", "/metrics", "/healthz"):
            st, _ = self.http("GET", path)
            self.expect(st, (200,), "GET " + path)
        tok = "".join(self.rng.choice(
            "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
            for _ in range(22))
        st, _ = self.http("GET", "/r/" + tok)
        self.expect(st, (404,), "GET an unknown recipient token")
        st, _ = self.http("POST", "/a/" + tok, "nonce=x&action=approve")
        self.expect(st, (404,), "POST an unknown approval token")
        self.count("polls")
        with self.lock:
            ids = list(self.alerts)[-20:]
        if ids:
            aid = self.rng.choice(ids)
            self.ctl(["status", str(aid)])
            if self.rng.random() < 0.3:
                self.ctl(["show", str(aid)])
            if self.rng.random() < 0.2:
                self.ctl(["cap", str(aid)], want=(0, 1))
            if self.rng.random() < 0.1:
                self.ctl(["audit", "--alert", str(aid), "--format", "json"])
            self.ctl(["list", "--state", "sending"])
        if self.phase == "load":
            self.at(self.a.poll, self.poll)

    def reload(self):
        if self.ctl(["reload"]) is not None:
            self.count("reloads")
        if self.phase == "load":
            self.at(self.a.reload, self.reload)

    def suspend_cycle(self):
        m = self.rng.choice(SUSPENDABLE)
        if self.ctl(["suspend", m, "--reason", "端末紛失"], ADMIN) is not None:
            self.count("suspensions")
            with self.lock:
                # Links that arrive up to a second later (the tail's lag)
                # may still be older than the suspension.
                self.suspended[m] = time.monotonic() + 1.0
            self.at(self.a.reload * 0.7, self.resume, m)
        if self.phase == "load":
            self.at(self.a.reload * 2, self.suspend_cycle)

    def resume(self, m):
        self.ctl(["resume", m], ADMIN)

    def events(self):
        """One /board/events client, reconnected when dropped."""
        while not self.stop.is_set():
            try:
                c = self.sse = http.client.HTTPConnection(
                    self.host, self.port, timeout=90)
                c.request("GET", "/board/events",
                          headers={"Accept": "text/event-stream"})
                r = c.getresponse()
                if r.status != 200:
                    self.problem("GET /board/events: HTTP %d" % r.status)
                    r.read()
                    c.close()
                    self.stop.wait(5)
                    continue
                self.count("event_streams")
                data = False
                while not self.stop.is_set():
                    line = r.fp.readline()
                    if not line:
                        break
                    if line.startswith(b"data:"):
                        data = True
                    elif line.strip() == b"" and data:
                        self.count("board_events")	# one complete event
                        data = False
                c.close()
            except (http.client.HTTPException, OSError):
                self.count("event_stream_drops")
                self.stop.wait(1)

    def sample(self):
        """(t, phase, VmRSS KiB, open fds, CPU s) of the daemon, or None."""
        pid = self.a.pid
        try:
            with open("/proc/%d/status" % pid) as f:
                rss = int(re.search(r"^VmRSS:\s+(\d+)", f.read(),
                                    re.M).group(1))
            fds = len(os.listdir("/proc/%d/fd" % pid))
            with open("/proc/%d/stat" % pid) as f:
                st = f.read().rsplit(")", 1)[1].split()
            cpu = (int(st[11]) + int(st[12])) / os.sysconf("SC_CLK_TCK")
        except (OSError, AttributeError):
            self.problem("the daemon (pid %d) is gone" % pid)
            return None
        return (time.monotonic() - self.t0, self.phase, rss, fds, cpu)

    def heap_kib(self):
        """Resident KiB of the daemon's malloc heap: [heap] and the
        anonymous mappings (large allocations, arenas)."""
        total, anon = 0, False
        try:
            with open("/proc/%d/smaps" % self.a.pid) as f:
                for line in f:
                    if re.match(r"^[0-9a-f]+-[0-9a-f]+ ", line):
                        x = line.split()
                        anon = len(x) < 6 or x[5] == "[heap]"
                    elif anon and line.startswith("Rss:"):
                        total += int(line.split()[1])
        except OSError:
            return None
        return total

    def fd_kinds(self):
        """The daemon's descriptors by what they are: a file's path, or
        for a socket its TCP endpoints and state, or "unix"."""
        pid = self.a.pid
        tcp = {}
        states = {"01": "ESTABLISHED", "06": "TIME_WAIT", "08": "CLOSE_WAIT",
                  "0A": "LISTEN", "04": "FIN_WAIT1", "05": "FIN_WAIT2",
                  "07": "CLOSE", "09": "LAST_ACK", "0B": "CLOSING"}

        def addr(h):
            ip, port = h.split(":")
            if len(ip) == 8:
                ip = ".".join(str(int(ip[i:i + 2], 16)) for i in (6, 4, 2, 0))
            return ip, int(port, 16)
        for name in ("tcp", "tcp6"):
            try:
                with open("/proc/%d/net/%s" % (pid, name)) as f:
                    for line in list(f)[1:]:
                        x = line.split()
                        (lip, lport), (rip, rport) = addr(x[1]), addr(x[2])
                        st = states.get(x[3], x[3])
                        if st == "LISTEN":
                            t = "tcp listening on %s:%d" % (lip, lport)
                        elif lport == self.port:
                            t = "tcp from a client of :%d, %s" % (lport, st)
                        else:
                            t = "tcp to %s:%d%s, %s" % (
                                rip, rport, self.peers.get(rport, ""), st)
                        tcp[x[9]] = t
            except OSError:
                pass
        kinds = collections.Counter()
        try:
            for fd in os.listdir("/proc/%d/fd" % pid):
                try:
                    t = os.readlink("/proc/%d/fd/%s" % (pid, fd))
                except OSError:
                    continue
                m = re.match(r"socket:\[(\d+)\]", t)
                if m:
                    t = tcp.get(m.group(1), "unix socket")
                t = re.sub(r"^(pipe|anon_inode):\[\d+\]$", r"\1", t)
                kinds[t] += 1
        except OSError:
            pass
        return kinds

    def sampler(self):
        while not self.stop.is_set():
            s = self.sample()
            if s is None:
                self.stop.set()
                return
            with self.lock:
                self.samples.append(s)
            self.stop.wait(self.a.sample)

    # -- the run -------------------------------------------------------

    def tail(self):
        for o in self.outbox.lines():
            self.on_outbox(o)
        for e in self.ntfy.lines():
            self.on_ntfy(e)

    def end_periodic(self, now):
        """The load is over: drop the pollers' next turns, resume a
        suspended member now."""
        periodic = (self.poll, self.reload, self.suspend_cycle)
        with self.lock:
            self.heap = [(now if e[2] == self.resume else e[0],) + e[1:]
                         for e in self.heap if e[2] not in periodic]
            heapq.heapify(self.heap)

    def settled(self):
        """(open alerts, open deliveries) in the database."""
        db = sqlite3.connect("file:%s?mode=ro" % self.a.db, uri=True,
                             timeout=10)
        try:
            a = db.execute("SELECT count(*) FROM alerts WHERE state IN "
                           "('pending_approval', 'approved', 'sending')"
                           ).fetchone()[0]
            d = db.execute("SELECT count(*) FROM deliveries WHERE state IN "
                           "('pending', 'sending')").fetchone()[0]
        finally:
            db.close()
        return a, d

    def run(self):
        a = self.a
        self.idle_before = self.sample()	# nobody connected yet
        self.fds_before = self.fd_kinds()
        self.heap_before = self.heap_kib()
        threads = [threading.Thread(target=self.sampler, daemon=True),
                   threading.Thread(target=self.events, daemon=True)]
        for t in threads:
            t.start()
        self.at(a.poll, self.poll)
        self.at(a.reload, self.reload)
        self.at(a.reload * 1.5, self.suspend_cycle)
        gap = a.secs / a.alerts
        for i in range(a.alerts):
            self.at(i * gap, self.draft, i)
        t_load_end = self.t0 + a.secs
        drain_max = a.ttl + a.ack * (a.renotify_max + 2) + 60
        # Rows left open after every alert closed, unchanged this long,
        # will not move any more: stop waiting for them.
        stuck_after = 2 * a.ack + 10
        last_tail = last_check = 0
        last_open, open_since = None, 0
        settled = None
        while not self.stop.is_set():
            now = time.monotonic()
            if now - last_tail >= 0.2:
                self.tail()
                last_tail = now
            self.dispatch()
            if self.phase == "load" and now >= t_load_end:
                self.phase = "drain"
                self.t_drain = now
                self.end_periodic(now)
            if self.phase == "drain" and now - last_check >= 1:
                last_check = now
                if self.idle():
                    o = self.settled()
                    if o == (0, 0):
                        self.tail()
                        if self.idle():
                            settled = True
                            break
                    if o != last_open:
                        last_open, open_since = o, now
                    elif o[0] == 0 and now - open_since > stuck_after:
                        settled = False
                        break
                if now - self.t_drain > drain_max:
                    settled = False
                    break
            time.sleep(0.02)
        self.t_end = time.monotonic()
        if self.phase == "load":
            self.t_drain = self.t_end
        self.phase = "end"
        self.stop.set()
        self.pool.shutdown(wait=True)
        # Hang up everything, give the daemon a moment, sample it idle.
        if self.sse is not None and self.sse.sock is not None:
            try:
                self.sse.sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        for c in self.conns:
            c.close()
        for t in threads:
            t.join(5)
        time.sleep(2)
        self.idle_after = self.sample()
        self.fds_after = self.fd_kinds()
        self.heap_after = self.heap_kib()
        # Idle for two of the daemon's one-minute memory trims (the first
        # still sees the drain's writes and keeps SQLite's cache): what it
        # holds on a quiet day after a busy one.
        self.idle_settled = self.heap_settled = None
        if self.a.settle > 0:
            time.sleep(self.a.settle)
            self.idle_settled = self.sample()
            self.heap_settled = self.heap_kib()
        if settled is None:
            self.problem("the daemon went away during the soak")
        elif not settled:
            o = self.settled()
            self.problem("not settled %.0fs after the load: %d alerts, "
                         "%d deliveries still open" % (
                             self.t_end - self.t_drain, o[0], o[1]))
        return settled

    def report(self):
        a, c = self.a, self.c
        load = [s for s in self.samples if s[1] == "load"]
        warm = a.secs * 0.10
        after = [s for s in load if s[0] >= warm] or load
        out = []

        def fig(name, value, unit):
            out.append("%s %s %s" % (name, value, unit))

        fig("soak_alerts", c["alerts"], "alerts")
        fig("soak_notices", c["notices"], "alerts")
        fig("soak_reads", c["reads"], "page_views")
        fig("soak_confirm_posts", c["confirms"], "confirmations")
        fig("soak_http_requests", c["http_requests"], "requests")
        fig("soak_unexpected", c["unexpected"], "events")
        fig("soak_ctl_calls", c["ctl_calls"], "calls")
        fig("soak_reloads", c["reloads"], "reloads")
        fig("soak_board_events", c["board_events"], "events")
        if after:
            s0, s1 = after[0], after[-1]
            rss_max = max(s[2] for s in self.samples)
            fig("soak_rss_start", s0[2], "KiB")
            fig("soak_rss_end", s1[2], "KiB")
            fig("soak_rss_max", rss_max, "KiB")
            fig("soak_rss_growth", s1[2] - s0[2], "KiB")
            fig("soak_rss_growth_pct", "%.1f" % (100.0 * (s1[2] - s0[2]) /
                                                 s0[2]), "%")
            # least squares over the samples after the warm-up
            n = len(after)
            if n >= 3:
                mt = sum(s[0] for s in after) / n
                mr = sum(s[2] for s in after) / n
                sxx = sum((s[0] - mt) ** 2 for s in after)
                sxy = sum((s[0] - mt) * (s[2] - mr) for s in after)
                fig("soak_rss_slope", "%.1f" % (sxy / sxx * 60 if sxx else 0),
                    "KiB/min")
            fig("soak_fds_start", s0[3], "fds")
            fig("soak_fds_end", s1[3], "fds")
            fig("soak_fds_max", max(s[3] for s in self.samples), "fds")
        if self.idle_before and self.idle_after:
            # idle, nobody connected: before the load and after the drain
            fig("soak_rss_idle_before", self.idle_before[2], "KiB")
            fig("soak_rss_idle_after", self.idle_after[2], "KiB")
            if self.heap_before is not None and self.heap_after is not None:
                fig("soak_heap_idle_before", self.heap_before, "KiB")
                fig("soak_heap_idle_after", self.heap_after, "KiB")
            if self.idle_settled is not None:
                fig("soak_rss_idle_settled", self.idle_settled[2], "KiB")
                fig("soak_heap_idle_settled", self.heap_settled, "KiB")
            fig("soak_fds_idle_before", self.idle_before[3], "fds")
            fig("soak_fds_idle_after", self.idle_after[3], "fds")
            fig("soak_cpu", "%.1f" % self.idle_after[4], "s")
        fig("soak_elapsed", "%.1f" % (self.t_drain - self.t0), "s")
        fig("soak_drain", "%.1f" % (self.t_end - self.t_drain), "s")
        fig("soak_driver_lag_max", "%.2f" % self.lag_max, "s")
        print("\n".join(out), flush=True)
        stats = {"counters": dict(c), "samples": self.samples,
                 "idle_before": self.idle_before,
                 "idle_after": self.idle_after,
                 "fds_before": self.fds_before, "fds_after": self.fds_after,
                 "problems": self.problems,
                 "alerts": {str(k): {"plan": v.plan, "expect": v.expect,
                                     "tag": v.tag, "mode": v.mode,
                                     "recipients": v.recipients,
                                     "notice": v.notice}
                            for k, v in self.alerts.items()}}
        with open(a.stats, "w") as f:
            json.dump(stats, f)
        for p in self.problems:
            print("soak: " + p, file=sys.stderr)
        more = self.fds_after - self.fds_before
        if more:
            print("soak: descriptors open after the drain that were not "
                  "before the load:", file=sys.stderr)
            for k, n in more.most_common():
                print("soak:   %4d %s" % (n, k), file=sys.stderr)


# ---------------------------------------------------------------------------
# verify

def verify(a):
    stats = json.load(open(a.stats))
    alerts = stats["alerts"]
    db = sqlite3.connect("file:%s?mode=ro" % a.db, uri=True)
    q = lambda sql, *p: db.execute(sql, p).fetchall()
    one = lambda sql, *p: db.execute(sql, p).fetchone()[0]
    fails = []

    def check(ok, what):
        if not ok:
            fails.append(what)

    state = dict(q("SELECT id, state FROM alerts"))
    # 1. every alert the driver made, and nothing else
    check(len(state) == len(alerts),
          "alerts in the database: %d, made by the soak: %d" %
          (len(state), len(alerts)))
    wrong = collections.Counter()
    for k, v in alerts.items():
        got = state.get(int(k))
        if got != v["expect"]:
            wrong[(v["plan"], v["expect"], got)] += 1
    for (plan, want, got), n in sorted(wrong.items(), key=str):
        fails.append("%d alerts of plan %s ended %s, not %s" %
                     (n, plan, got, want))
    # 2. nothing left open
    n = one("SELECT count(*) FROM deliveries WHERE state IN "
            "('pending', 'sending')")
    check(n == 0, "%d deliveries still pending or sending" % n)
    for aid, ast, kind, st, ch, rnd, cnt, att, conf in q(
            "SELECT d.alert_id, a.state, d.kind, d.state, d.channel, d.round, "
            "count(*), max(d.attempts), count(d.confirmed_at) FROM deliveries "
            "d JOIN alerts a ON a.id = d.alert_id WHERE d.state NOT IN "
            "('sent', 'failed', 'suspended', 'cancelled') GROUP BY 1, 2, 3, "
            "4, 5, 6 LIMIT 12"):
        fails.append("alert %d (%s): %d %s deliveries left %s on %s, round "
                     "%d, %d attempts, %d of them confirmed already" %
                     (aid, ast, cnt, kind, st, ch, rnd, att, conf))
    # 3. every approved alert reached its audience once in round 0
    approved = set(r[0] for r in q(
        "SELECT alert_id FROM audit WHERE action = 'approved'"))
    r0 = dict(q("SELECT alert_id, count(DISTINCT member) FROM deliveries "
                "WHERE kind = 'alert' AND round = 0 GROUP BY 1"))
    dup = one("SELECT count(*) FROM (SELECT alert_id, member, round, "
              "count(*) c FROM deliveries WHERE kind = 'alert' AND state "
              "<> 'failed' GROUP BY 1, 2, 3 HAVING c > 1)")
    check(dup == 0, "%d (alert, member, round) with more than one live "
          "delivery" % dup)
    for k, v in alerts.items():
        aid = int(k)
        if aid in approved and v["plan"] != "notice" and \
                r0.get(aid, 0) != v["recipients"]:
            fails.append("alert %d: %d recipients in round 0, %d drafted" %
                         (aid, r0.get(aid, 0), v["recipients"]))
        if aid not in approved and r0.get(aid):
            fails.append("alert %d: deliveries without an approval" % aid)
    for aid in approved:
        s = state.get(aid)
        check(s in ("complete", "cancelled"),
              "approved alert %d ended %s" % (aid, s))
    # 4. the audit trail against the rows
    n, mx = one("SELECT count(*) FROM audit"), one("SELECT max(id) FROM audit")
    check(n == mx, "audit: %d rows but ids up to %s (rows missing)" % (n, mx))
    act = collections.Counter(dict(q(
        "SELECT action, count(*) FROM audit GROUP BY 1")))

    def per_alert(action):
        return dict(q("SELECT alert_id, count(*) FROM audit WHERE action = ? "
                      "GROUP BY 1", action))

    drafts = per_alert("draft")
    check(all(drafts.get(i) == 1 for i in state) and len(drafts) == len(state),
          "audit: draft rows %d for %d alerts" % (act["draft"], len(state)))
    done = per_alert("complete")	# complete, then maybe cancelled
    check(all(c == 1 for c in done.values()) and
          set(i for i, s in state.items() if s == "complete") <= set(done) and
          all(state[i] in ("complete", "cancelled") for i in done),
          "audit: %d complete rows for %d complete alerts" %
          (act["complete"], sum(1 for s in state.values() if s == "complete")))
    for action, st in (("rejected", "rejected"), ("expired", "expired"),
                       ("cancelled", "cancelled")):
        rows = per_alert(action)
        want = set(i for i, s in state.items() if s == st)
        check(set(rows) == want and all(c == 1 for c in rows.values()),
              "audit: %d %s rows for %d %s alerts" % (act[action], action,
                                                      len(want), st))
    check(all(c == 1 for c in per_alert("approved").values()),
          "audit: an alert approved twice")
    for kind, action in (("alert", "delivery_sent"),
                         ("approval", "approval_sent"),
                         ("notice", "notice_sent")):
        rows = one("SELECT count(*) FROM deliveries WHERE kind = ? AND "
                   "state = 'sent'", kind)
        check(rows == act[action], "audit: %d %s rows, %d %s deliveries sent"
              % (act[action], action, rows, kind))
    conf = one("SELECT count(*) FROM (SELECT DISTINCT alert_id, member FROM "
               "deliveries WHERE kind = 'alert' AND confirmed_at IS NOT NULL)")
    check(conf == act["confirmed"], "audit: %d confirmed rows, %d members "
          "confirmed" % (act["confirmed"], conf))
    rd = one("SELECT count(*) FROM (SELECT DISTINCT alert_id, member FROM "
             "deliveries WHERE kind = 'alert' AND read_at IS NOT NULL)")
    check(act["read"] <= rd <= act["read"] + act["confirmed"],
          "audit: %d read rows, %d members read" % (act["read"], rd))
    rounds = dict(q("SELECT alert_id, max(round) FROM deliveries WHERE "
                    "kind = 'alert' GROUP BY 1"))
    rr = per_alert("renotify_round")
    bad = [i for i, r in rounds.items() if rr.get(i, 0) != r]
    check(not bad, "audit: renotify_round rows differ from the rounds of "
          "%d alerts (e.g. %s)" % (len(bad), bad[:5]))
    resp = q("SELECT DISTINCT a.tag, d.response FROM deliveries d JOIN alerts "
             "a ON a.id = d.alert_id WHERE d.response IS NOT NULL")
    check(len(resp) > 0 or not conf, "no responses recorded")
    # 5. what left the daemon, against what it recorded as sent
    outbox = [json.loads(l) for l in open(a.outbox, encoding="utf-8")
              if l.strip()]
    keys = collections.Counter(o["key"] for o in outbox)
    check(all(v == 1 for v in keys.values()),
          "outbox: %d keys written more than once" %
          sum(1 for v in keys.values() if v > 1))
    file_sent = one("SELECT count(*) FROM deliveries WHERE state = 'sent' AND "
                    "channel <> 'ntfy'")
    check(len(outbox) == file_sent, "outbox: %d lines, %d deliveries sent by "
          "the file transport" % (len(outbox), file_sent))
    nt = [json.loads(l) for l in open(a.ntfy_log, encoding="utf-8")
          if l.strip()]
    nt_ok = sum(1 for e in nt if e.get("status") == 200 and e["path"] == "/")
    nt_sent = one("SELECT count(*) FROM deliveries WHERE state = 'sent' AND "
                  "channel = 'ntfy'")
    check(nt_ok == nt_sent, "ntfy: %d messages accepted by the fake, %d "
          "deliveries sent" % (nt_ok, nt_sent))
    nt_bad = sum(1 for e in nt if e.get("status") != 200 and e["path"] == "/")
    nt_rec = one("SELECT count(*) FROM audit WHERE action IN "
                 "('delivery_retry', 'delivery_failed') AND channel = 'ntfy'")
    check(nt_bad == nt_rec, "ntfy: %d refusals by the fake, %d retries and "
          "failures recorded" % (nt_bad, nt_rec))
    # 6. the driver's own view against the database
    c = stats["counters"]
    check(c.get("confirms", 0) == conf,
          "the soak saw %d first confirmations, the database has %d" %
          (c.get("confirms", 0), conf))

    def fig(name, value, unit):
        print("%s %s %s" % (name, value, unit))

    states = collections.Counter(state.values())
    for s in ("complete", "rejected", "expired", "cancelled"):
        fig("soak_alerts_" + s, states[s], "alerts")
    fig("soak_deliveries", one("SELECT count(*) FROM deliveries WHERE "
                               "kind = 'alert' AND state = 'sent'"),
        "deliveries")
    fig("soak_deliveries_renotify", one(
        "SELECT count(*) FROM deliveries WHERE kind = 'alert' AND round > 0 "
        "AND state = 'sent'"), "deliveries")
    fig("soak_deliveries_all", one("SELECT count(*) FROM deliveries"), "rows")
    fig("soak_retries", act["delivery_retry"], "retries")
    fig("soak_confirmations", conf, "confirmations")
    fig("soak_reads_recorded", rd, "members")
    fig("soak_escalations", act["escalated"], "call_lists")
    fig("soak_audit_rows", n, "rows")
    fig("soak_inconsistencies", len(fails), "checks")
    for f in fails:
        print("soak: INCONSISTENT: " + f, file=sys.stderr)
    return 1 if fails else 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run")
    r.add_argument("--url", required=True)
    r.add_argument("--ctl", required=True)
    r.add_argument("--socket", required=True)
    r.add_argument("--pid", type=int, required=True)
    r.add_argument("--outbox", required=True)
    r.add_argument("--ntfy-log", required=True)
    r.add_argument("--db", required=True)
    r.add_argument("--stats", required=True)
    r.add_argument("--secs", type=float, default=600)
    r.add_argument("--alerts", type=int, default=1000)
    r.add_argument("--ack", type=float, default=10)
    r.add_argument("--step", type=float, default=4)
    r.add_argument("--ttl", type=float, default=8)
    r.add_argument("--renotify-max", type=int, default=3)
    r.add_argument("--reload", type=float, default=30)
    r.add_argument("--poll", type=float, default=5)
    r.add_argument("--sample", type=float, default=5)
    r.add_argument("--workers", type=int, default=8)
    r.add_argument("--seed", type=int, default=1)
    r.add_argument("--settle", type=float, default=130,
                   help="idle seconds before the last sample (0: none)")
    r.add_argument("--peer", action="append", default=[],
                   help="NAME=PORT: names a server the daemon talks to")
    v = sub.add_parser("verify")
    v.add_argument("--db", required=True)
    v.add_argument("--outbox", required=True)
    v.add_argument("--ntfy-log", required=True)
    v.add_argument("--stats", required=True)
    a = ap.parse_args()
    if a.cmd == "verify":
        return verify(a)
    s = Soak(a)
    ok = s.run()
    s.report()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
