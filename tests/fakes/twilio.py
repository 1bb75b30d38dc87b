#!/usr/bin/python3
"""twilio.py: a strict fake of Twilio's Messages API for the integration
tests, and a sender of signed status callbacks.

  twilio.py serve --port-file F --log F --account-sid AC... --auth-token T
      [--fail-to NUMBER]
  twilio.py callback --url URL --auth-token T --account-sid AC... --sid SM...
      --status STATUS [--error-code N] [--bad-sig]

serve listens on 127.0.0.1 port 0 (the port goes to --port-file) and
answers POST /2010-04-01/Accounts/{AccountSid}/Messages.json like Twilio:
HTTP Basic auth AccountSid:AuthToken (401 code 20003 otherwise), the
account in the path, form fields To (E.164, 400 code 21211 otherwise),
From (E.164), Body (1..1600 characters), StatusCallback (an http(s) URL)
and ValidityPeriod (1..36000) when present; unknown fields are refused.
201 with a JSON message resource (sid SM + 32 hex, status queued).
--fail-to NUMBER answers 400 code 21614 (a landline) for that number.
Each request is one JSON line in --log: t, status, to, body, sid,
status_callback, validity.

callback POSTs a status callback form to URL, signed as Twilio signs
(base64 HMAC-SHA1 over URL + the sorted fields), prints the HTTP status.
"""
import argparse
import base64
import hashlib
import hmac
import json
import os
import re
import secrets
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

E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")
FIELDS = {"To", "From", "Body", "StatusCallback", "ValidityPeriod"}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, status, obj):
        data = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log(self, **kw):
        kw["t"] = round(time.time(), 3)
        with self.server.lock:
            self.server.logf.write(json.dumps(kw, ensure_ascii=False) + "\n")

    def err(self, status, code, msg, **kw):
        self.log(status=status, code=code, error=msg, **kw)
        self.reply(status, {"code": code, "message": msg, "status": status,
                            "more_info": "https://www.twilio.com/docs/errors/%d" % code})

    def do_POST(self):
        a = self.server.a
        n = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(n) if n else b""
        path = urllib.parse.urlsplit(self.path).path
        want = "/2010-04-01/Accounts/%s/Messages.json" % a.account_sid
        auth = self.headers.get("Authorization", "")
        good = "Basic " + base64.b64encode(
            ("%s:%s" % (a.account_sid, a.auth_token)).encode()).decode()
        if not hmac.compare_digest(auth, good):
            return self.err(401, 20003, "Authenticate")
        if path != want:
            return self.err(404, 20404, "The requested resource was not found")
        if not self.headers.get("Content-Type", "").startswith(
                "application/x-www-form-urlencoded"):
            return self.err(400, 20001, "content type")
        try:
            f = urllib.parse.parse_qs(raw.decode(), keep_blank_values=True,
                                      strict_parsing=True)
        except ValueError:
            return self.err(400, 20001, "bad form")
        if any(len(v) != 1 for v in f.values()):
            return self.err(400, 20001, "a field given twice")
        f = {k: v[0] for k, v in f.items()}
        unknown = set(f) - FIELDS
        if unknown:
            return self.err(400, 20001, "unknown fields %s" % sorted(unknown))
        to = f.get("To", "")
        if not E164.match(to):
            return self.err(400, 21211, "The 'To' number %s is not a valid phone number." % to)
        if "From" not in f:
            return self.err(400, 21603, "A 'From' phone number is required.")
        if not E164.match(f["From"]):
            return self.err(400, 21212, "Invalid From number")
        body = f.get("Body", "")
        if not 0 < len(body) <= 1600:
            return self.err(400, 21602, "Message body is required.")
        cb = f.get("StatusCallback")
        if cb is not None and not re.match(r"^https?://[^_/\s]+(/\S*)?$", cb):
            return self.err(400, 21609, "Invalid StatusCallback")
        vp = f.get("ValidityPeriod")
        if vp is not None and (not vp.isdigit() or not 1 <= int(vp) <= 36000):
            return self.err(400, 21623, "Invalid ValidityPeriod")
        if to == a.fail_to:
            return self.err(400, 21614, "'To' number is not a valid mobile number", to=to)
        sid = "SM" + secrets.token_hex(16)
        self.log(status=201, to=to, body=body, sid=sid, status_callback=cb,
                 validity=vp)
        self.reply(201, {"sid": sid, "account_sid": a.account_sid, "to": to,
                         "from": f["From"], "body": body, "status": "queued",
                         "num_segments": "1", "error_code": None,
                         "error_message": None,
                         "uri": want[:-5] + "/" + sid + ".json"})


def serve(a):
    srv = Server(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    srv.a = a
    srv.lock = threading.Lock()
    srv.logf = open(a.log, "a", buffering=1)
    tmp = a.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write(str(srv.server_address[1]))
    os.rename(tmp, a.port_file)
    srv.serve_forever()


def callback(a):
    params = {"MessageSid": a.sid, "SmsSid": a.sid, "MessageStatus": a.status,
              "SmsStatus": a.status, "AccountSid": a.account_sid,
              "To": "+819000000001", "From": "+815012345678",
              "ApiVersion": "2010-04-01"}
    if a.error_code:
        params["ErrorCode"] = a.error_code
    s = a.url + "".join(k + params[k] for k in sorted(params))
    key = a.auth_token.encode() if not a.bad_sig else b"wrong"
    sig = base64.b64encode(hmac.new(key, s.encode(), hashlib.sha1).digest()).decode()
    req = urllib.request.Request(a.url, method="POST",
                                 data=urllib.parse.urlencode(params).encode(),
                                 headers={"X-Twilio-Signature": sig,
                                          "Content-Type": "application/x-www-form-urlencoded",
                                          "I-Twilio-Idempotency-Token": secrets.token_hex(8)})
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
    s.add_argument("--account-sid", required=True)
    s.add_argument("--auth-token", required=True)
    s.add_argument("--fail-to", default="")
    c = sub.add_parser("callback")
    c.add_argument("--url", required=True)
    c.add_argument("--auth-token", required=True)
    c.add_argument("--account-sid", required=True)
    c.add_argument("--sid", required=True)
    c.add_argument("--status", required=True)
    c.add_argument("--error-code", default="")
    c.add_argument("--bad-sig", action="store_true")
    a = p.parse_args()
    return serve(a) if a.cmd == "serve" else callback(a)


if __name__ == "__main__":
    sys.exit(main())
