#!/usr/bin/python3
"""smtp.py: a real SMTP server on loopback (Debian's python3-aiosmtpd) for
the integration tests.

  smtp.py --port-file F --dir D

Listens on 127.0.0.1 port 0 (the port goes to F), speaks SMTP through
aiosmtpd (which rejects malformed commands as a server would), and saves
each message as D/N.eml with D/N.json holding the envelope (mail_from,
rcpt_tos). Refuses a recipient whose local part is "bounce" with 550.
"""
import argparse
import asyncio
import json
import os
import sys

from aiosmtpd.smtp import SMTP


class Saver:
    def __init__(self, d):
        self.d = d
        self.n = 0

    async def handle_RCPT(self, server, session, envelope, address, options):
        if address.split("@")[0] == "bounce":
            return "550 5.1.1 no such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.n += 1
        base = os.path.join(self.d, "%d" % self.n)
        with open(base + ".eml.tmp", "wb") as f:
            f.write(envelope.original_content or envelope.content)
        with open(base + ".json", "w") as f:
            json.dump({"mail_from": envelope.mail_from,
                       "rcpt_tos": envelope.rcpt_tos}, f)
        os.rename(base + ".eml.tmp", base + ".eml")
        return "250 Message accepted for delivery"


async def main(a):
    os.makedirs(a.dir, exist_ok=True)
    handler = Saver(a.dir)
    loop = asyncio.get_running_loop()
    srv = await loop.create_server(
        lambda: SMTP(handler, hostname="fake.smtp.test", decode_data=False),
        "127.0.0.1", 0)
    port = srv.sockets[0].getsockname()[1]
    with open(a.port_file + ".tmp", "w") as f:
        f.write(str(port))
    os.rename(a.port_file + ".tmp", a.port_file)
    async with srv:
        await srv.serve_forever()


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("--port-file", required=True)
    p.add_argument("--dir", required=True)
    sys.exit(asyncio.run(main(p.parse_args())))
