#!/usr/bin/env python3
"""frames.py SOCKET [SEED]: hostile clients on crisiscastd's control socket.

Talks the control protocol (lib/proto.h: 4-byte big-endian length, then one
JSON object, at most 1 MiB, version 1) by hand and checks that every broken
frame gets a clear error reply (code 2) or a clean close, and that every
reply that does come is a well-formed frame. Then sends 1,000 random frames
(random bytes, random lengths, and well-formed requests with mutated
fields). Prints one line per failed check and exits 1 if any failed.
Used by tests/integration/06-frames.sh.
"""
import json
import random
import re
import socket
import struct
import sys
import time

MAX = 1 << 20
TIMEOUT = 15
PATH = sys.argv[1]
SEED = int(sys.argv[2]) if len(sys.argv) > 2 else int(time.time())
rng = random.Random(SEED)
failures = []


def check(ok, what):
    if not ok:
        failures.append(what)
        print("FAIL: " + what, flush=True)
    return ok


def connect():
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(TIMEOUT)
    s.connect(PATH)
    return s


def send(s, raw):
    """Sends; a daemon that already replied and closed is not an error."""
    try:
        s.sendall(raw)
    except (BrokenPipeError, ConnectionResetError):
        pass


def frame(payload):
    if isinstance(payload, (dict, list)):
        payload = json.dumps(payload, ensure_ascii=False)
    if isinstance(payload, str):
        payload = payload.encode("utf-8")
    return struct.pack(">I", len(payload)) + payload


def recv_exact(s, n):
    """n bytes, or fewer if the peer closed."""
    out = b""
    while len(out) < n:
        chunk = s.recv(n - len(out))
        if not chunk:
            break
        out += chunk
    return out


def valid_reply(o, what):
    """A reply must be {"v": 1, "code": 0|1|2, "errors": [str...], ...}."""
    ok = check(isinstance(o, dict), what + ": reply is not an object: %r" % (o,))
    if not ok:
        return False
    ok &= check(o.get("v") == 1, what + ": reply v is %r" % (o.get("v"),))
    ok &= check(o.get("code") in (0, 1, 2), what + ": reply code %r" % (o.get("code"),))
    errs = o.get("errors", [])
    ok &= check(isinstance(errs, list) and all(isinstance(e, str) for e in errs),
                what + ": reply errors %r" % (errs,))
    return ok


def read_reply(s, what):
    """One reply frame, parsed; None on EOF or timeout (recorded)."""
    try:
        hdr = recv_exact(s, 4)
    except socket.timeout:
        check(False, what + ": no reply within %ds" % TIMEOUT)
        return None
    if len(hdr) < 4:
        check(False, what + ": connection closed without a reply")
        return None
    (n,) = struct.unpack(">I", hdr)
    if not check(1 <= n <= MAX, what + ": reply frame length %d" % n):
        return None
    body = recv_exact(s, n)
    if not check(len(body) == n, what + ": reply truncated"):
        return None
    try:
        o = json.loads(body.decode("utf-8"))
    except ValueError as e:
        check(False, what + ": reply is not JSON: %s" % e)
        return None
    valid_reply(o, what)
    return o


def read_to_eof(s, what):
    """Every frame until the daemon closes; they must all be valid."""
    data = b""
    try:
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    except socket.timeout:
        check(False, what + ": the daemon did not close within %ds" % TIMEOUT)
    except ConnectionResetError:
        pass
    replies = []
    while len(data) >= 4:
        (n,) = struct.unpack(">I", data[:4])
        if not check(1 <= n <= MAX and len(data) >= 4 + n,
                     what + ": bad reply framing"):
            break
        try:
            o = json.loads(data[4:4 + n].decode("utf-8"))
        except ValueError:
            check(False, what + ": reply is not JSON")
            break
        valid_reply(o, what)
        replies.append(o)
        data = data[4 + n:]
    check(len(data) == 0 or len(data) >= 4 or not replies,
          what + ": stray bytes after the replies")
    return replies


def expect_closed(s, what):
    """After a protocol error the daemon closes: EOF, no more replies."""
    rest = read_to_eof(s, what)
    check(rest == [], what + ": more replies after the error: %r" % (rest,))


def error_case(what, raw, want, closes):
    """Sends raw bytes; wants a code 2 reply whose errors match `want`."""
    s = connect()
    send(s, raw)
    o = read_reply(s, what)
    if o is not None:
        check(o.get("code") == 2, what + ": code %r, want 2" % (o.get("code"),))
        text = " ".join(o.get("errors", []))
        check(re.search(want, text) is not None,
              what + ": errors %r do not match /%s/" % (text, want))
    if closes:
        expect_closed(s, what)
    else:
        # The stream is intact: the same connection still answers.
        s.sendall(frame({"v": 1, "cmd": "ping"}))
        p = read_reply(s, what + ", then ping")
        check(p is not None and p.get("code") == 0 and
              p.get("result", {}).get("pong") is True,
              what + ": ping on the same connection: %r" % (p,))
    s.close()


def ping_ok(what):
    s = connect()
    s.sendall(frame({"v": 1, "cmd": "ping"}))
    o = read_reply(s, what)
    s.close()
    return check(o is not None and o.get("code") == 0,
                 what + ": ping answered %r" % (o,))


# --- broken streams: an error reply, then the daemon closes -------------
error_case("length 0", b"\0\0\0\0", r"length 0", True)
error_case("length over 1 MiB", struct.pack(">I", MAX + 1), r"over the limit", True)
error_case("length 0xffffffff", b"\xff\xff\xff\xff" + b"x" * 100, r"over the limit", True)
error_case("not JSON", frame(b"hello, daemon"), r"not JSON", True)
error_case("JSON array", frame(b'[{"v": 1, "cmd": "ping"}]'), r"not a JSON object", True)
error_case("JSON string", frame(b'"ping"'), r"not a JSON object", True)
error_case("JSON number", frame(b"1"), r"not a JSON object", True)
error_case("JSON null", frame(b"null"), r"not a JSON object", True)
error_case("invalid UTF-8", frame(b'{"v": 1, "cmd": "ping\xff\xfe"}'), r"UTF-8", True)
error_case("NUL inside", frame(b'{"v": 1, "cmd": "ping"}\0'), r".", True)
error_case("bytes after the object", frame(b'{"v": 1, "cmd": "ping"} {}'),
           r"after", True)
error_case("truncated JSON", frame(b'{"v": 1, "cmd": "pi'), r"not JSON", True)
error_case("deep nesting", frame(b'{"a":' * 5000 + b"1" + b"}" * 5000), r".", True)
error_case("deep array", frame(b'{"a":' + b"[" * 100000 + b"]" * 100000 + b"}"),
           r".", True)

# --- well-framed requests of the wrong shape: code 2, stream intact -------
error_case("version 2", frame({"v": 2, "cmd": "ping"}),
           r"(?=.*\b2\b)(?=.*\b1\b)", False)
error_case("version 0", frame({"v": 0, "cmd": "ping"}), r"\b1\b", False)
error_case("version 1.5", frame({"v": 1.5, "cmd": "ping"}), r"\b1\b", False)
error_case("version as a string", frame({"v": "1", "cmd": "ping"}), r"\bv\b", False)
error_case("version missing", frame({"cmd": "ping"}), r"\bv\b", False)
error_case("cmd missing", frame({"v": 1}), r"cmd", False)
error_case("cmd empty", frame({"v": 1, "cmd": ""}), r"cmd", False)
error_case("cmd a number", frame({"v": 1, "cmd": 7}), r"cmd", False)
error_case("cmd unknown", frame({"v": 1, "cmd": "format-disk"}),
           r"unknown command", False)
error_case("cmd very long", frame({"v": 1, "cmd": "x" * 100000}),
           r"unknown command", False)
for bad in ([], "args", 5, True):
    error_case("args %r" % (bad,), frame({"v": 1, "cmd": "ping", "args": bad}),
               r"args", False)
error_case("as a number", frame({"v": 1, "cmd": "ping", "as": 5}), r"as", False)

# The version error names both versions, exactly.
s = connect()
s.sendall(frame({"v": 2, "cmd": "version"}))
o = read_reply(s, "version 2 wording")
s.close()
if o is not None:
    text = " ".join(o.get("errors", []))
    check("version 2" in text and "version 1" in text,
          "version mismatch names both versions: %r" % text)

# --- streams cut short: the daemon closes and runs on ----------------------
for what, raw in (("length 100, 10 bytes, then EOF", struct.pack(">I", 100) + b"x" * 10),
                  ("length 1 MiB, 1000 bytes, then EOF", struct.pack(">I", MAX) + b"{" * 1000),
                  ("2 bytes of a length, then EOF", b"\0\0"),
                  ("a whole ping and half a frame", frame({"v": 1, "cmd": "ping"}) + b"\0\0\0\x40{")):
    s = connect()
    s.sendall(raw)
    s.shutdown(socket.SHUT_WR)
    read_to_eof(s, what)
    s.close()
    s = connect()   # and once more, closing without reading anything
    s.sendall(raw)
    s.close()

# --- good frames in odd shapes ---------------------------------------------
# Exactly 1 MiB: a ping padded with spaces is accepted.
body = b'{"v": 1, "cmd": "ping"}'
body += b" " * (MAX - len(body))
s = connect()
s.sendall(frame(body))
o = read_reply(s, "a 1 MiB frame")
check(o is not None and o.get("code") == 0, "a frame of exactly 1 MiB is answered: %r" % (o,))
s.close()
# Two requests in one write: two replies, in order.
s = connect()
s.sendall(frame({"v": 1, "cmd": "ping"}) + frame({"v": 1, "cmd": "version"}))
a, b = read_reply(s, "pipelined 1"), read_reply(s, "pipelined 2")
check(a is not None and a.get("result", {}).get("pong") is True, "pipelined ping: %r" % (a,))
check(b is not None and b.get("result", {}).get("protocol") == 1, "pipelined version: %r" % (b,))
s.close()
# One request dribbled a byte at a time.
s = connect()
for byte in frame({"v": 1, "cmd": "ping", "args": {}}):
    s.send(bytes([byte]))
o = read_reply(s, "byte by byte")
check(o is not None and o.get("code") == 0, "a request sent byte by byte: %r" % (o,))
s.close()
# More connections than the daemon serves at once: the extra ones are
# closed, and once they are gone everything works again.
held = []
for i in range(80):
    try:
        held.append(connect())
    except OSError:
        break
for h in held:
    h.close()
time.sleep(0.3)
ping_ok("after 80 idle connections")

# --- wrong-typed arguments to every command --------------------------------
COMMANDS = ["ping", "version", "draft", "show", "list", "status", "approve",
            "reject", "cancel", "suspend", "resume", "roster", "rules-check",
            "calendar", "audit", "reload"]
KEYS = ["id", "tag", "body", "to", "drill", "state", "since", "until",
        "reason", "member", "sub", "at", "year", "alert", "format"]
ODD = [None, True, False, 0, -1, 1, 1.5, 2 ** 31, 2 ** 53 + 1, 1e300, -1e300,
       "", "x", "1", "-1", "9" * 40, "\u0000", "a\u0000b", "【情報共有】",
       "\U0001F600" * 10, "x" * 60000, [], [1], {}, {"a": 1},
       "2026-02-30", "2026-11-21T25:61", "crisis+", "shelter:", "member:,",
       "kind:", "+++", "shelter:hs01,hs01,hs01", "../../etc/passwd"]
AS = [None, "soumu_bucho", "mayor", "kiki_shitsucho", "hs01-1", "nobody", "",
      "x" * 1000]


def random_request():
    req = {"v": 1, "cmd": rng.choice(COMMANDS)}
    a = rng.choice(AS)
    if a is not None:
        req["as"] = a
    args = {}
    for k in rng.sample(KEYS, rng.randint(0, 5)):
        args[k] = rng.choice(ODD)
    if rng.random() < 0.9:
        req["args"] = args
    if rng.random() < 0.05:
        req["extra"] = rng.choice(ODD)
    return req


def one_request(req, what):
    s = connect()
    send(s, frame(req))
    o = read_reply(s, what)
    s.close()
    return o


# Every command once with every odd value under every key (as root).
for cmd in COMMANDS:
    for v in ODD:
        args = {k: v for k in KEYS}
        one_request({"v": 1, "cmd": cmd, "args": args},
                    "%s with every argument %.40r" % (cmd, v))

# --- 1,000 random frames ----------------------------------------------------
kinds = {"bytes": 0, "framed bytes": 0, "request": 0}
for i in range(1000):
    r = rng.random()
    what = "random frame %d (seed %d)" % (i, SEED)
    if r < 0.2:
        kinds["bytes"] += 1
        raw = bytes(rng.getrandbits(8) for _ in range(rng.randint(1, 64)))
        s = connect()
        s.sendall(raw)
        s.shutdown(socket.SHUT_WR)
        read_to_eof(s, what + " [bytes %s]" % raw[:16].hex())
        s.close()
    elif r < 0.5:
        kinds["framed bytes"] += 1
        n = rng.choice([1, 2, 5, 17, 100, 1000, rng.randint(1, 5000)])
        alphabet = b'{}[]":,0123456789.eE+-truefalsnl \\u\n' + bytes(range(256))
        payload = bytes(rng.choice(alphabet) for _ in range(n))
        s = connect()
        s.sendall(frame(payload))
        s.shutdown(socket.SHUT_WR)
        read_to_eof(s, what + " [framed %s]" % payload[:16].hex())
        s.close()
    else:
        kinds["request"] += 1
        req = random_request()
        one_request(req, what + " [%s]" % json.dumps(req)[:200])
    if len(failures) > 20:
        break

ping_ok("after the random frames")
print("frames.py: seed %d, %s, %d failures" % (SEED, kinds, len(failures)))
sys.exit(1 if failures else 0)
