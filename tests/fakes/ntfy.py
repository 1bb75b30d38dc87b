#!/usr/bin/python3
"""ntfy.py: a strict ntfy server for crisiscast's ntfy transport (JSON
publish only: POST / with a JSON object, as docs.ntfy.sh/publish says).

Refuses what ntfy refuses, with ntfy's error shape {"code","http","error"}:
a body that is not JSON 400 (40017), a missing or invalid topic 400
(40009), a priority outside 1-5 400 (40007), bad actions 400 (40018: more
than 3, unknown action, no label, no url, http action without POST/GET/PUT
...), no token when --token-file is given 403 (40301), a wrong token 401
(40101). Answers 200 with the message as ntfy does (id, time, event,
topic, ...). Scriptable and logged as tests/fakes/fakehttp.py says.

    ntfy.py --port-file F --log L [--token-file T] [--latency-ms N]
"""
import json
import os
import re
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fakehttp  # noqa: E402

TOPIC = re.compile(r"^[-_A-Za-z0-9]{1,64}$")


def factory(args, fake):
    token = None
    if args.token_file:
        token = open(args.token_file).read().strip()
    n = [0]

    def err(status, code, msg):
        return (status, {}, json.dumps({"code": code, "http": status,
                                         "error": msg}),
                {"error": msg})

    def check_actions(acts):
        if not isinstance(acts, list) or len(acts) > 3:
            return "only up to 3 actions allowed"
        for a in acts:
            if not isinstance(a, dict):
                return "action is not an object"
            kind = a.get("action")
            if kind not in ("view", "http", "broadcast"):
                return "action '%s' unknown" % kind
            if not a.get("label"):
                return "action label missing"
            if kind in ("view", "http") and not str(a.get("url", "")).startswith(("http://", "https://")):
                return "action url missing or invalid"
            if kind == "http":
                if a.get("method", "POST") not in ("GET", "POST", "PUT", "DELETE"):
                    return "http action method invalid"
                h = a.get("headers", {})
                if not isinstance(h, dict) or not all(isinstance(v, str) for v in h.values()):
                    return "http action headers must be strings"
                if not isinstance(a.get("body", ""), str):
                    return "http action body must be a string"
            if "clear" in a and not isinstance(a["clear"], bool):
                return "clear must be a boolean"
        return None

    def handle(req):
        if req["method"] not in ("POST", "PUT"):
            return err(405, 40500, "method not allowed")
        if req["path"] != "/":
            return err(400, 40009, "JSON publish goes to the root URL")
        auth = req["headers"].get("authorization")
        if token is not None:
            if not auth:
                return err(403, 40301, "forbidden")
            if auth != "Bearer " + token:
                return err(401, 40101, "unauthorized")
        try:
            j = json.loads(req["body"])
        except ValueError:
            return err(400, 40017, "invalid request: body must be JSON")
        if not isinstance(j, dict):
            return err(400, 40017, "invalid request: body must be an object")
        topic = j.get("topic")
        if not isinstance(topic, str) or not TOPIC.match(topic):
            return err(400, 40009, "invalid topic")
        p = j.get("priority", 3)
        if not isinstance(p, int) or isinstance(p, bool) or not 1 <= p <= 5:
            return err(400, 40007, "invalid priority")
        for k in ("title", "message", "click"):
            if k in j and not isinstance(j[k], str):
                return err(400, 40017, "%s must be a string" % k)
        if "tags" in j and (not isinstance(j["tags"], list) or
                            not all(isinstance(t, str) for t in j["tags"])):
            return err(400, 40017, "tags must be a list of strings")
        if "actions" in j:
            e = check_actions(j["actions"])
            if e:
                return err(400, 40018, "invalid request: actions invalid: " + e)
        n[0] += 1
        mid = "nt%010d" % n[0]
        msg = {"id": mid, "time": int(time.time()),
               "expires": int(time.time()) + 43200, "event": "message",
               "topic": topic}
        for k in ("title", "message", "priority", "tags", "click", "actions"):
            if k in j:
                msg[k] = j[k]
        return 200, {}, json.dumps(msg), {"id": mid, "topic": topic,
                                          "_json": j}

    return handle


def add_args(ap):
    ap.add_argument("--token-file")


fakehttp.serve(__doc__, factory, add_args)
