#!/usr/bin/python3
"""webhook.py: a strict receiver of crisiscast's webhook transport.

Accepts POST with a JSON object body, an Idempotency-Key header and
X-Crisiscast-Signature: sha256=<hex HMAC-SHA256(secret, raw body)>.
Refuses as a careful receiver would: no or wrong signature 401, no
Idempotency-Key 400, a body that is not a JSON object 400, a missing field
400, wrong method 405. A repeated key is answered 200 with the first id and
recorded with "dup": true. Posts under /apprise/ (the bench's Apprise
peer, json:// URLs) are taken without signature and recorded as such.
Scriptable and logged as tests/fakes/fakehttp.py says.

    webhook.py --port-file F --log L --secret-file S [--latency-ms N]
"""
import hashlib
import hmac
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fakehttp  # noqa: E402

FIELDS = ("key", "alert", "kind", "member", "name", "address", "tag",
          "priority", "drill", "subject", "text", "link", "responses")


def factory(args, fake):
    secret = open(args.secret_file, "rb").read().rstrip(b"\r\n")
    seen = {}

    def err(status, msg):
        return status, {}, json.dumps({"error": msg}), {"error": msg}

    def handle(req):
        if req["method"] != "POST":
            return err(405, "POST only")
        body = req["body"]
        if req["path"].startswith("/apprise/"):
            try:
                j = json.loads(body)
            except ValueError:
                return err(400, "not JSON")
            return 200, {}, "{}", {"apprise": True, "_json": j}
        sig = req["headers"].get("x-crisiscast-signature", "")
        want = "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()
        if not sig:
            return err(401, "missing X-Crisiscast-Signature")
        if not hmac.compare_digest(sig, want):
            return err(401, "bad signature")
        key = req["headers"].get("idempotency-key", "")
        if not key:
            return err(400, "missing Idempotency-Key")
        if not req["headers"].get("content-type", "").startswith(
                "application/json"):
            return err(415, "Content-Type must be application/json")
        try:
            j = json.loads(body)
        except ValueError:
            return err(400, "body is not JSON")
        if not isinstance(j, dict):
            return err(400, "body is not a JSON object")
        missing = [f for f in FIELDS if f not in j]
        if missing:
            return err(400, "missing fields: " + ", ".join(missing))
        if j["key"] != key:
            return err(400, "Idempotency-Key differs from the body's key")
        extra = {"key": key, "member": j["member"], "_json": j}
        if key in seen:
            extra["dup"] = True
            return 200, {}, json.dumps({"id": seen[key]}), extra
        mid = "wh-%d" % (len(seen) + 1)
        seen[key] = mid
        extra["id"] = mid
        return 200, {}, json.dumps({"id": mid}), extra

    return handle


def add_args(ap):
    ap.add_argument("--secret-file", required=True)


fakehttp.serve(__doc__, factory, add_args)
