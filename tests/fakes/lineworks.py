#!/usr/bin/python3
"""lineworks.py: a strict fake of LINE WORKS API 2.0 for the integration
tests (run with Debian's /usr/bin/python3: it needs python3-cryptography).

  lineworks.py serve --port-file F --log F --public-key PEM --client-id ID
      --client-secret S --service-account SA --bot-id B
      [--user EMAIL=USERID ...] [script options]
  lineworks.py callback --url URL --bot-secret S --bot-id B --user U
      (--postback P | --body JSON) [--type message|postback] [--bad-sig]

serve listens on 127.0.0.1, port 0, writes the port to --port-file, and
answers like the real service, rejecting what it rejects:
  POST /oauth2/v2.0/token: form-encoded; grant_type jwt-bearer; client_id
      and client_secret; scope: names separated by spaces, each one the app
      has (--app-scopes), bot or bot.message among them; assertion an
      RS256 JWT whose signature verifies with --public-key, header alg
      RS256, iss = client id, sub = service account, iat and exp numbers,
      iat not in the future, exp in the future and exp - iat <= 3600.
  POST /v1.0/bots/{botId}/users/{userId}/messages and .../channels/{id}/
      messages: a live bearer token on every call (401 UNAUTHORIZED
      otherwise), the bot id, JSON content text (<= 2000 chars) or a
      well-formed button_template (contentText <= 1000, 1..10 actions of
      type message/uri/copy with labels <= 20, uri http(s), postback
      <= 1000). 201 with an empty body.
  GET /v1.0/users/{userId}: the Directory API's user lookup. A live bearer
      token (401 UNAUTHORIZED otherwise) issued with user, user.read,
      directory or directory.read in its scope (403 FORBIDDEN otherwise);
      {userId} URL-decoded is a user id or an e-mail (any case) of the
      user table (--user, /_control), else 404 USER_NOT_EXIST; 200 with a
      UserResponse (domainId, userId, email, userName, is* flags).
  POST /_control (JSON, not logged): {"users": {EMAIL: USERID or null}}
      adds to (null: removes from) the user table; {"dir_rules": [RULE...]}
      replaces the Directory script, {"dir_append": [...]} adds to it.
      RULE: {"count": N (default 1, -1: for ever), "user": "..." (only for
      that {userId}, as decoded), "status": 500, "body": "raw text" (sent
      as it is; default: the error JSON of the status), "headers": {...},
      "delay_ms": N (before answering), "drop": true (close without an
      answer)}. The first rule with count left that matches answers
      instead of the table, after the token and scope checks passed; a
      rule with neither status nor body only delays the table's answer.
      {"revoke_tokens": true} revokes every token issued so far.
Script options: --burst N --window SECS (after every N accepted messages,
answer 429 with rateLimit-* headers for SECS), --expire-at N (revoke all
tokens when the N-th message arrives: it gets 401), --fail5xx N (the first
N messages get 500), --drop N (the first N message connections are closed
without a reply), --slow-ms MS, --fail-user U (404 for that user),
--expires-in SECS and --expires-number (expires_in as a number, not a
string), --app-scopes "S1 S2" (the scopes ticked for the app; default
bot bot.message bot.read user.read).
Every request is appended to --log as one JSON line: t, kind (token,
message, channel, directory), status, user (for a lookup: the {userId}
asked, decoded), postbacks, uri, scope (token); for a lookup also path
(as received), found (the user id answered) and scripted (answered by a
rule); and for a message that arrived inside a 429 window later than
0.25 s after the 429 that opened it, "violation": true.
"""
import argparse
import base64
import hashlib
import hmac
import json
import math
import os
import secrets
import socket
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Server(ThreadingHTTPServer):
    # The daemon opens up to its concurrency at once; http.server's default
    # listen backlog of 5 drops SYNs, and the 1 s retransmit would look like
    # the daemon sending late.
    request_queue_size = 1024
    daemon_threads = True

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding

GRACE = 0.25


def b64url_decode(s):
    if any(c not in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_" for c in s):
        raise ValueError("not base64url without padding")
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


class State:
    def __init__(self, a):
        self.a = a
        self.lock = threading.Lock()
        self.tokens = {}          # token -> (expiry (time.time()), scopes)
        self.users = {}           # e-mail (lower case) -> user id
        for u in a.user:
            email, _, uid = u.partition("=")
            self.users[email.lower()] = uid
        self.dir_rules = []
        self.accepted = 0         # messages accepted
        self.messages = 0         # message requests seen
        self.window_start = 0.0   # 429 window
        self.window_end = 0.0
        self.first_429 = 0.0      # when this window's first 429 went out
        self.since_window = 0
        self.logf = open(a.log, "a", buffering=1)
        with open(a.public_key, "rb") as f:
            self.pub = serialization.load_pem_public_key(f.read())

    def log(self, **kw):
        kw["t"] = round(time.time(), 3)
        with self.lock:
            self.logf.write(json.dumps(kw, ensure_ascii=False) + "\n")


def check_jwt(st, jwt):
    a = st.a
    parts = jwt.split(".")
    if len(parts) != 3:
        return "assertion is not a JWS compact token"
    try:
        header = json.loads(b64url_decode(parts[0]))
        claims = json.loads(b64url_decode(parts[1]))
        sig = b64url_decode(parts[2])
    except Exception as e:
        return "assertion: bad encoding: %s" % e
    if header.get("alg") != "RS256":
        return "alg must be RS256"
    try:
        st.pub.verify(sig, (parts[0] + "." + parts[1]).encode(),
                      padding.PKCS1v15(), hashes.SHA256())
    except InvalidSignature:
        return "JWT signature does not verify"
    if claims.get("iss") != a.client_id:
        return "iss is not the client id"
    if claims.get("sub") != a.service_account:
        return "sub is not the service account"
    iat, exp = claims.get("iat"), claims.get("exp")
    if not isinstance(iat, int) or not isinstance(exp, int) or \
            isinstance(iat, bool) or isinstance(exp, bool):
        return "iat and exp must be numbers"
    now = time.time()
    if iat > now + 60:
        return "iat in the future"
    if exp <= now:
        return "JWT expired"
    if exp - iat > 3600:
        return "exp - iat over 3600"
    return None


def check_content(body, channel):
    c = body.get("content") if isinstance(body, dict) else None
    if not isinstance(c, dict):
        return "content missing"
    t = c.get("type")
    if t == "text":
        if not isinstance(c.get("text"), str) or not 0 < len(c["text"]) <= 2000:
            return "text must be 1..2000 characters"
        return None
    if t != "button_template":
        return "unexpected content type %r" % t
    ct = c.get("contentText")
    if not isinstance(ct, str) or not 0 < len(ct) <= 1000:
        return "contentText must be 1..1000 characters"
    acts = c.get("actions")
    if not isinstance(acts, list) or not 1 <= len(acts) <= 10:
        return "actions must be 1..10"
    for x in acts:
        if not isinstance(x, dict) or x.get("type") not in ("message", "uri", "copy"):
            return "button_template accepts only message, uri and copy actions"
        lab = x.get("label")
        if not isinstance(lab, str) or not 0 < len(lab) <= 20:
            return "label must be 1..20 characters"
        if x["type"] == "uri":
            u = x.get("uri")
            if not isinstance(u, str) or not u.startswith(("http://", "https://")) or len(u) > 1000:
                return "uri action needs an http(s) uri"
        if x["type"] == "message":
            pb = x.get("postback")
            if pb is not None and (not isinstance(pb, str) or len(pb) > 1000):
                return "postback must be a string of at most 1000"
            if "text" in x and (not isinstance(x["text"], str) or len(x["text"]) > 300):
                return "text must be a string of at most 300"
    return None


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, status, obj=None, headers=()):
        data = b"" if obj is None else json.dumps(obj).encode()
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        if obj is not None:
            self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def err(self, status, code, desc, **log):
        self.server.st.log(status=status, error=desc, **log)
        self.reply(status, {"code": code, "description": desc})

    def bearer(self, st, now):
        """The scopes of the request's live bearer token, or None."""
        auth = self.headers.get("Authorization", "")
        if not auth.startswith("Bearer "):
            return None
        with st.lock:
            t = st.tokens.get(auth[7:])
        if t is None or t[0] < now:
            return None
        return t[1]

    def do_GET(self):
        st = self.server.st
        path = urllib.parse.urlsplit(self.path).path
        parts = path.split("/")
        # ['', 'v1.0', 'users', userId]
        if len(parts) != 4 or parts[1] != "v1.0" or parts[2] != "users" or \
                not parts[3]:
            return self.err(404, "NOT_FOUND", "no such API", kind="other",
                            path=path)
        return self.directory(st, urllib.parse.unquote(parts[3]))

    def directory(self, st, asked):
        if self.headers.get("Content-Length") not in (None, "0"):
            return self.err(400, "BAD_REQUEST", "a body on a GET",
                            kind="directory", user=asked, path=self.path)
        scopes = self.bearer(st, time.time())
        if scopes is None:
            return self.err(401, "UNAUTHORIZED", "invalid access token",
                            kind="directory", user=asked, path=self.path)
        if not scopes & {"user", "user.read", "directory", "directory.read"}:
            return self.err(403, "FORBIDDEN", "scope user.read required",
                            kind="directory", user=asked, path=self.path)
        rule = None
        with st.lock:
            for r in st.dir_rules:
                if r.get("count", 1) == 0:
                    continue
                if "user" in r and r["user"] != asked:
                    continue
                if r.get("count", 1) > 0:
                    r["count"] = r.get("count", 1) - 1
                rule = r
                break
        if rule is not None:
            if rule.get("delay_ms"):
                time.sleep(rule["delay_ms"] / 1000.0)
            if rule.get("drop"):
                st.log(kind="directory", user=asked, path=self.path, status=0, dropped=True,
                       scripted=True)
                self.close_connection = True
                try:
                    self.connection.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                return
        if rule is not None and ("status" in rule or "body" in rule):
            status = int(rule.get("status", 200))
            hdrs = list(rule.get("headers", {}).items())
            st.log(kind="directory", user=asked, path=self.path, status=status, scripted=True)
            if "body" in rule:
                data = rule["body"].encode()
                self.send_response(status)
                for k, v in hdrs:
                    self.send_header(k, v)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                return
            return self.reply(status, {"code": "SCRIPTED",
                                       "description": "scripted %d" % status},
                              hdrs)
        with st.lock:
            email, uid = None, None
            if asked.lower() in st.users:
                email, uid = asked.lower(), st.users[asked.lower()]
            else:
                for e, u in st.users.items():
                    if u == asked:
                        email, uid = e, u
        if uid is None:
            return self.err(404, "USER_NOT_EXIST", "no such user",
                            kind="directory", user=asked, path=self.path)
        st.log(kind="directory", user=asked, path=self.path, status=200, found=uid)
        self.reply(200, {"domainId": 40029600, "userId": uid,
                         "userExternalKey": None, "email": email,
                         "userName": {"lastName": email.split("@")[0],
                                      "firstName": ""},
                         "isAdministrator": False, "isPending": False,
                         "isSuspended": False, "isDeleted": False,
                         "isAwaiting": False})

    def control(self, st, raw):
        try:
            c = json.loads(raw or b"{}")
        except ValueError:
            return self.reply(400, {"code": "BAD_REQUEST",
                                    "description": "control JSON"})
        with st.lock:
            for e, u in (c.get("users") or {}).items():
                if u is None:
                    st.users.pop(e.lower(), None)
                else:
                    st.users[e.lower()] = u
            if "dir_rules" in c:
                st.dir_rules = list(c["dir_rules"])
            if "dir_append" in c:
                st.dir_rules.extend(c["dir_append"])
            if c.get("revoke_tokens"):
                st.tokens.clear()
        self.reply(200, {})

    def do_POST(self):
        st = self.server.st
        a = st.a
        n = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(n) if n else b""
        path = urllib.parse.urlsplit(self.path).path
        if path == "/oauth2/v2.0/token":
            return self.token(st, raw)
        if path == "/_control":
            return self.control(st, raw)
        parts = path.split("/")
        # ['', 'v1.0', 'bots', bot, 'users'|'channels', id, 'messages']
        if len(parts) != 7 or parts[1] != "v1.0" or parts[2] != "bots" or \
                parts[4] not in ("users", "channels") or parts[6] != "messages":
            return self.err(404, "NOT_FOUND", "no such API", kind="other", path=path)
        kind = "message" if parts[4] == "users" else "channel"
        user = urllib.parse.unquote(parts[5])
        now = time.time()
        with st.lock:
            st.messages += 1
            seq = st.messages
        if a.slow_ms:
            time.sleep(a.slow_ms / 1000.0)
        if kind == "message" and seq <= a.drop:
            st.log(kind=kind, user=user, status=0, dropped=True)
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return
        in_window = st.window_start <= now < st.window_end
        # The daemon learns of a window from its first 429, so the grace
        # for requests already on the wire runs from that answer.
        violation = in_window and st.first_429 > 0 and \
            now > st.first_429 + GRACE
        if kind == "message" and a.expire_at and seq == a.expire_at:
            with st.lock:
                st.tokens.clear()
        if self.bearer(st, now) is None:
            return self.err(401, "UNAUTHORIZED", "invalid access token",
                            kind=kind, user=user)
        if parts[3] != a.bot_id:
            return self.err(404, "NOT_FOUND", "no such bot", kind=kind, user=user)
        if not self.headers.get("Content-Type", "").startswith("application/json"):
            return self.err(400, "BAD_REQUEST", "content type", kind=kind, user=user)
        if in_window:
            with st.lock:
                if st.first_429 == 0:
                    st.first_429 = now
            reset = max(1, math.ceil(st.window_end - now))
            st.log(kind=kind, user=user, status=429, violation=violation,
                   reset=reset)
            return self.reply(429, {"code": "TOO_MANY_REQUESTS",
                                    "description": "API rate limit exceeded"},
                              [("rateLimit-limit", str(a.burst)),
                               ("rateLimit-remaining", "0"),
                               ("rateLimit-reset", str(reset))])
        if kind == "message" and seq <= a.fail5xx:
            return self.err(500, "INTERNAL_SERVER_ERROR", "scripted", kind=kind, user=user)
        if kind == "message" and a.fail_user and user == a.fail_user:
            return self.err(404, "USER_NOT_EXIST", "no such user", kind=kind, user=user)
        try:
            body = json.loads(raw)
        except ValueError:
            return self.err(400, "BAD_REQUEST", "not JSON", kind=kind, user=user)
        bad = check_content(body, kind == "channel")
        if bad:
            return self.err(400, "INVALID_PARAMETER", bad, kind=kind, user=user)
        c = body["content"]
        pbs = [x.get("postback") for x in c.get("actions", []) if x.get("type") == "message"]
        uris = [x.get("uri") for x in c.get("actions", []) if x.get("type") == "uri"]
        with st.lock:
            if kind == "message":
                st.accepted += 1
                st.since_window += 1
                if a.burst and st.since_window >= a.burst:
                    st.since_window = 0
                    st.window_start = time.time()
                    st.window_end = st.window_start + a.window
                    st.first_429 = 0.0
        st.log(kind=kind, user=user, status=201, postbacks=pbs,
               uri=uris[0] if uris else None, type=c.get("type"),
               text=c.get("contentText") or c.get("text"))
        self.reply(201)

    def token(self, st, raw):
        a = st.a
        if not self.headers.get("Content-Type", "").startswith(
                "application/x-www-form-urlencoded"):
            return self.err(400, "invalid_request", "content type", kind="token")
        try:
            f = urllib.parse.parse_qs(raw.decode(), keep_blank_values=True,
                                      strict_parsing=True)
        except ValueError:
            return self.err(400, "invalid_request", "form", kind="token")
        g = lambda k: f.get(k, [None])[0] if len(f.get(k, [])) <= 1 else None
        if g("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer":
            return self.err(400, "unsupported_grant_type", "grant_type", kind="token")
        if g("client_id") != a.client_id or g("client_secret") != a.client_secret:
            return self.err(401, "invalid_client", "client", kind="token")
        scope = (g("scope") or "").split(" ")
        if "bot" not in scope and "bot.message" not in scope:
            return self.err(400, "invalid_scope", "scope", kind="token")
        if any(x not in a.app_scopes.split() for x in scope):
            return self.err(400, "invalid_scope",
                            "scope not granted to the app", kind="token")
        bad = check_jwt(st, g("assertion") or "")
        if bad:
            return self.err(400, "invalid_grant", bad, kind="token")
        tok = "jp1" + secrets.token_urlsafe(24)
        with st.lock:
            st.tokens[tok] = (time.time() + a.expires_in, frozenset(scope))
        st.log(kind="token", status=200, scope=" ".join(scope))
        exp = a.expires_in if a.expires_number else str(a.expires_in)
        self.reply(200, {"access_token": tok, "refresh_token": "r" + tok,
                         "token_type": "Bearer", "expires_in": exp,
                         "scope": " ".join(scope)})


def serve(a):
    srv = Server(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    srv.st = State(a)
    tmp = a.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write(str(srv.server_address[1]))
    os.rename(tmp, a.port_file)
    srv.serve_forever()


def callback(a):
    if a.body is not None:
        body = a.body.encode()
    elif a.type == "postback":
        body = json.dumps({"type": "postback", "source": {"userId": a.user,
                           "domainId": 40029600},
                           "issuedTime": "2024-11-21T03:04:05.716Z",
                           "data": a.postback}, ensure_ascii=False).encode()
    else:
        body = json.dumps({"type": "message", "source": {"userId": a.user,
                           "domainId": 40029600},
                           "issuedTime": "2024-11-21T03:04:05Z",
                           "content": {"type": "text", "text": "確認しました",
                                       "postback": a.postback}},
                          ensure_ascii=False).encode()
    key = a.bot_secret.encode()
    if a.bad_sig:
        key = b"not-the-secret"
    sig = base64.b64encode(hmac.new(key, body, hashlib.sha256).digest()).decode()
    req = urllib.request.Request(a.url, data=body, method="POST", headers={
        "Content-Type": "application/json; charset=UTF-8",
        "X-WORKS-Signature": sig, "X-WORKS-BotId": a.bot_id})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            print(r.status)
    except urllib.error.HTTPError as e:
        print(e.code)


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("serve")
    s.add_argument("--port-file", required=True)
    s.add_argument("--log", required=True)
    s.add_argument("--public-key", required=True)
    s.add_argument("--client-id", required=True)
    s.add_argument("--client-secret", required=True)
    s.add_argument("--service-account", required=True)
    s.add_argument("--bot-id", required=True)
    s.add_argument("--burst", type=int, default=0)
    s.add_argument("--window", type=float, default=2.0)
    s.add_argument("--expire-at", type=int, default=0)
    s.add_argument("--fail5xx", type=int, default=0)
    s.add_argument("--drop", type=int, default=0)
    s.add_argument("--slow-ms", type=int, default=0)
    s.add_argument("--fail-user", default="")
    s.add_argument("--expires-in", type=int, default=86400)
    s.add_argument("--expires-number", action="store_true")
    s.add_argument("--user", action="append", default=[])
    s.add_argument("--app-scopes", default="bot bot.message bot.read user.read")
    c = sub.add_parser("callback")
    c.add_argument("--url", required=True)
    c.add_argument("--bot-secret", required=True)
    c.add_argument("--bot-id", required=True)
    c.add_argument("--user", default="")
    c.add_argument("--postback", default="")
    c.add_argument("--type", default="message")
    c.add_argument("--body")
    c.add_argument("--bad-sig", action="store_true")
    a = p.parse_args()
    if a.cmd == "serve":
        serve(a)
    else:
        callback(a)


if __name__ == "__main__":
    sys.exit(main())
