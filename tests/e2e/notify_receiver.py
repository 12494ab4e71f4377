#!/usr/bin/python3
"""A webhook receiver (HTTP) and an SMTP server on 127.0.0.1 for the notification tests.

Usage: notify_receiver.py DIR
Both listen on ports the kernel picks and write them to DIR/ports.json ({"http": N, "smtp": M})
once they accept connections. Every webhook request is appended to DIR/webhooks.jsonl
({"path","headers","body","status"}), every accepted email to DIR/emails.jsonl
({"mail_from","rcpt_tos","data"}), one JSON object a line, flushed at once. While the file
DIR/reject exists, webhooks are answered 503 (and still recorded, with "status": 503).
Runs until killed. Needs Debian's python3-aiosmtpd.
"""

import asyncio
import http.server
import json
import os
import sys
import threading

from aiosmtpd.smtp import SMTP

DIR = sys.argv[1]
LOCK = threading.Lock()


def record(name, obj):
    with LOCK:
        with open(os.path.join(DIR, name), "a", encoding="utf-8") as f:
            f.write(json.dumps(obj) + "\n")
            f.flush()


class Hook(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(length).decode("utf-8", "replace")
        status = 503 if os.path.exists(os.path.join(DIR, "reject")) else 200
        record("webhooks.jsonl", {"path": self.path, "headers": dict(self.headers.items()),
                                  "body": body, "status": status})
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


class Mailbox:
    async def handle_DATA(self, server, session, envelope):
        record("emails.jsonl", {"mail_from": envelope.mail_from, "rcpt_tos": envelope.rcpt_tos,
                                "data": envelope.content.decode("utf-8", "replace")})
        return "250 OK"


async def main():
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    loop = asyncio.get_running_loop()
    smtp = await loop.create_server(lambda: SMTP(Mailbox(), hostname="receiver.test"),
                                    "127.0.0.1", 0)
    ports = {"http": httpd.server_address[1], "smtp": smtp.sockets[0].getsockname()[1]}
    tmp = os.path.join(DIR, "ports.json.tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(ports, f)
    os.rename(tmp, os.path.join(DIR, "ports.json"))
    await asyncio.Event().wait()


asyncio.run(main())
