#!/usr/bin/env python3
"""outbox.py: questions about the file transport's outbox, for lib.sh.

usage: outbox.py OUTBOX VERB [ARGS] [KEY=VALUE...]
  count                 lines matching every KEY=VALUE filter
  members               sorted member ids of the matching lines, one a line
  field NAME            NAME of each matching line, one a line (a newline
                        inside the value is printed as \\n)
  dupkeys               "key xN" for every key written more than once
  dupmembers            "member xN" for matching members seen more than once
  check                 every line is a JSON object with the fields the file
                        transport writes; prints the problems
A filter compares the field's JSON value as text: kind=alert, alert=3,
drill=false. A missing outbox counts as empty.
"""
import collections
import json
import sys

FIELDS = ("key", "at", "channel", "kind", "alert", "member", "name",
          "address", "tag", "drill", "form", "text", "link")


def load(path):
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except FileNotFoundError:
        return [], []
    rows, bad = [], []
    for n, line in enumerate(text.split("\n")[:-1], 1):
        try:
            o = json.loads(line)
        except ValueError as e:
            bad.append("line %d: not JSON: %s" % (n, e))
            continue
        if not isinstance(o, dict):
            bad.append("line %d: not an object" % n)
            continue
        rows.append(o)
    if text and not text.endswith("\n"):
        bad.append("the last line has no newline")
    return rows, bad


def text_of(v):
    if isinstance(v, str):
        return v
    return json.dumps(v)


def main(argv):
    if len(argv) < 3:
        sys.exit(__doc__)
    path, verb, rest = argv[1], argv[2], argv[3:]
    name = None
    if verb == "field":
        name, rest = rest[0], rest[1:]
    filters = [a.split("=", 1) for a in rest]
    rows, bad = load(path)
    sel = [r for r in rows
           if all(k in r and text_of(r[k]) == v for k, v in filters)]
    if verb == "count":
        print(len(sel))
    elif verb == "members":
        for m in sorted(r.get("member", "") for r in sel):
            print(m)
    elif verb == "field":
        for r in sel:
            print(text_of(r.get(name)).replace("\n", "\\n"))
    elif verb == "dupkeys":
        c = collections.Counter(r.get("key") for r in rows)
        for k, n in sorted(c.items(), key=lambda kv: str(kv[0])):
            if n > 1:
                print("%s x%d" % (k, n))
    elif verb == "dupmembers":
        c = collections.Counter(r.get("member") for r in sel)
        for k, n in sorted(c.items()):
            if n > 1:
                print("%s x%d" % (k, n))
    elif verb == "check":
        for b in bad:
            print(b)
        for i, r in enumerate(rows, 1):
            missing = [f for f in FIELDS if f not in r]
            if missing:
                print("row %d: missing %s" % (i, ", ".join(missing)))
    else:
        sys.exit("outbox.py: unknown verb " + verb)


if __name__ == "__main__":
    main(sys.argv)
