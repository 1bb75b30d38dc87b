"""fakehttp.py: the small asyncio HTTP/1.1 server under every provider fake.

A fake subclasses nothing: it passes handle(req) -> (status, headers, body)
to serve(). This module does the rest, the same way for every fake:

- listens on 127.0.0.1 port 0 and writes the port to --port-file;
- keeps connections alive (HTTP/1.1), reads Content-Length bodies only;
- records every request as one JSON line in --log: t (arrival, epoch
  seconds), t_done (when the answer was written), method, path, headers,
  body, status, and what the fake adds (extra);
- is scriptable through POST /_control (JSON):
    {"latency_ms": 50}                       added to every answer
    {"rules": [RULE, ...]}                   replaces the script
    {"append": [RULE, ...]}                  adds to it
  RULE: {"count": N (-1: for ever), "match": {"member": "x"} (optional,
  matched against the request's parsed JSON body), "status": 429,
  "headers": {"Retry-After": "1"}, "body": "...", "huge": BYTES,
  "drop": true (close the connection without an answer), "delay_ms": N,
  "p": 0.3 (applies to that share of the requests it could match, at
  random; FAKE_SEED in the environment seeds the choice)}.
  The first rule that matches and has count left answers, instead of the
  fake's own answer (after the fake's checks passed: a bad request is
  still refused as the real service would).
  GET /_control/stats answers {"requests": N}.
"""
import argparse
import asyncio
import json
import os
import random
import sys
import time


class Fake:
    def __init__(self, log_path):
        self.log = open(log_path, "a", buffering=1 << 16) if log_path else None
        self.rules = []
        self.latency_ms = 0
        self.requests = 0
        self.rng = random.Random(os.environ.get("FAKE_SEED"))

    def record(self, entry):
        if self.log:
            self.log.write(json.dumps(entry, ensure_ascii=False) + "\n")
            self.log.flush()

    def scripted(self, body_json):
        for r in self.rules:
            if r.get("count", 1) == 0:
                continue
            if "p" in r and self.rng.random() >= r["p"]:
                continue
            m = r.get("match")
            if m:
                if not isinstance(body_json, dict):
                    continue
                if any(body_json.get(k) != v for k, v in m.items()):
                    continue
            if r.get("count", 1) > 0:
                r["count"] = r.get("count", 1) - 1
            return r
        return None

    def control(self, method, path, body):
        if method == "GET" and path == "/_control/stats":
            return 200, {}, json.dumps({"requests": self.requests})
        try:
            c = json.loads(body or b"{}")
        except ValueError:
            return 400, {}, "bad control JSON"
        if "latency_ms" in c:
            self.latency_ms = int(c["latency_ms"])
        if "rules" in c:
            self.rules = list(c["rules"])
        if "append" in c:
            self.rules.extend(c["append"])
        return 200, {}, "{}"


REASONS = {200: "OK", 201: "Created", 400: "Bad Request", 401: "Unauthorized",
           403: "Forbidden", 404: "Not Found", 405: "Method Not Allowed",
           413: "Payload Too Large", 415: "Unsupported Media Type",
           429: "Too Many Requests", 500: "Internal Server Error",
           502: "Bad Gateway", 503: "Service Unavailable"}


async def write_answer(writer, status, headers, body):
    if isinstance(body, str):
        body = body.encode()
    head = "HTTP/1.1 %d %s\r\n" % (status, REASONS.get(status, "Status"))
    h = {"Content-Length": str(len(body)), "Connection": "keep-alive"}
    h.update(headers or {})
    if "Content-Type" not in h:
        h["Content-Type"] = "application/json"
    head += "".join("%s: %s\r\n" % kv for kv in h.items()) + "\r\n"
    writer.write(head.encode() + body)
    await writer.drain()


async def connection(fake, handle, reader, writer):
    try:
        while True:
            line = await reader.readline()
            if not line:
                break
            t = time.time()
            try:
                method, target, _ = line.decode("latin-1").split(" ", 2)
            except ValueError:
                break
            headers = {}
            while True:
                h = await reader.readline()
                if h in (b"\r\n", b"\n", b""):
                    break
                k, _, v = h.decode("latin-1").partition(":")
                headers[k.strip().lower()] = v.strip()
            n = int(headers.get("content-length", "0") or 0)
            if n > 8 << 20:
                break
            body = await reader.readexactly(n) if n else b""
            if target.startswith("/_control"):
                st, hd, bd = fake.control(method, target, body)
                await write_answer(writer, st, hd, bd)
                continue
            fake.requests += 1
            req = {"method": method, "path": target, "headers": headers,
                   "body": body}
            status, hdrs, rbody, extra = handle(req)
            parsed = extra.pop("_json", None) if isinstance(extra, dict) else None
            rule = fake.scripted(parsed) if 200 <= status < 300 else None
            drop = False
            delay = fake.latency_ms
            if rule:
                delay += rule.get("delay_ms", 0)
                drop = bool(rule.get("drop"))
                if "status" in rule:
                    status = rule["status"]
                    hdrs = dict(rule.get("headers", {}))
                    rbody = rule.get("body", "")
                if "huge" in rule:
                    rbody = "x" * int(rule["huge"])
                if "body" in rule:
                    rbody = rule["body"]
                    hdrs["Content-Type"] = "text/plain"
            if delay:
                await asyncio.sleep(delay / 1000.0)
            entry = {"t": t, "method": method, "path": target,
                     "headers": headers,
                     "body": body.decode("utf-8", "replace"),
                     "status": 0 if drop else status}
            entry.update(extra or {})
            if drop:
                entry["dropped"] = True
                entry["t_done"] = time.time()
                fake.record(entry)
                break
            await write_answer(writer, status, hdrs, rbody)
            entry["t_done"] = time.time()
            fake.record(entry)
    except (ConnectionError, asyncio.IncompleteReadError):
        pass
    finally:
        try:
            writer.close()
        except Exception:
            pass


def serve(description, handle_factory, add_args=None):
    """Parses argv, builds handle = handle_factory(args, fake), serves."""
    ap = argparse.ArgumentParser(description=description)
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--log", required=True)
    ap.add_argument("--latency-ms", type=int, default=0)
    if add_args:
        add_args(ap)
    args = ap.parse_args()
    fake = Fake(args.log)
    fake.latency_ms = args.latency_ms
    handle = handle_factory(args, fake)

    async def main():
        server = await asyncio.start_server(
            lambda r, w: connection(fake, handle, r, w), "127.0.0.1", 0,
            backlog=1024)
        port = server.sockets[0].getsockname()[1]
        tmp = args.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write("%d\n" % port)
        os.rename(tmp, args.port_file)
        async with server:
            await server.serve_forever()

    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        pass
    sys.exit(0)
