#!/usr/bin/env python3
"""A webhook receiver for Herald's tests: checks every delivery with the official Standard Webhooks
library (`pip install standardwebhooks`) and records it.

Every POST outside /_control and /_verify is a delivery. It is verified against each configured secret
(`Webhook(secret).verify(body, headers)`: the signature, and a timestamp within five minutes) and then
answered as its path is configured (200 by default). One JSON line per delivery goes to --record:

  {"seq", "path", "webhook_id", "webhook_timestamp", "signature", "signatures", "body", "status", "verified",
   "verified_by", "error", "received_at"}

`verified_by` lists the indexes of the secrets that verify it (two after a key rotation, say); `error`
is the library's message when none does. `status` is what the receiver answered.

Control (JSON bodies, answered with JSON):
  POST /_control/path      {"path": "/a", "status": 503, "delay": 0.0, "body": "…"}  how to answer deliveries to a path
  POST /_control/secrets   {"secrets": ["whsec_…", …]}                              replace the secrets
  POST /_verify            {"body": "…", "headers": {…}}                            verify without recording:
                                                                                    {"verified", "verified_by", "error"}

Once listening it prints exactly one line, `READY <port>`, and runs until SIGTERM/SIGINT.
"""

import argparse
import json
import signal
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks.webhooks import Webhook

# A parent that spawned us from a thread with signals blocked (Swift's Foundation.Process called from a
# libdispatch worker does) passes that mask on; unblock them, or SIGTERM never arrives.
signal.pthread_sigmask(signal.SIG_SETMASK, [])


class State:
    def __init__(self, secrets, record):
        self.lock = threading.Lock()
        self.secrets = list(secrets)
        self.paths = {}
        self.record = open(record, "a", encoding="utf-8") if record else None
        self.sequence = 0

    def verify(self, body, headers):
        with self.lock:
            secrets = list(self.secrets)
        verified_by, errors = [], []
        for index, secret in enumerate(secrets):
            try:
                Webhook(secret).verify(body, headers)
                verified_by.append(index)
            except Exception as error:  # the library's WebhookVerificationError, or a malformed header
                errors.append(f"{type(error).__name__}: {error}")
        if not secrets:
            errors.append("no secret configured")
        return {"verified": bool(verified_by), "verified_by": verified_by, "error": None if verified_by else "; ".join(errors)}

    def answer_for(self, path):
        with self.lock:
            return dict(self.paths.get(path, {}))

    def write(self, entry):
        with self.lock:
            self.sequence += 1
            entry["seq"] = self.sequence
            if self.record:
                self.record.write(json.dumps(entry, sort_keys=True) + "\n")
                self.record.flush()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "webhook-receiver"

    def log_message(self, format, *args):
        pass

    def reply(self, status, body=b"", content_type="application/json"):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def read_body(self):
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def do_GET(self):
        self.reply(404, b'{"error": "POST deliveries here"}')

    def do_POST(self):
        state = self.server.state
        raw = self.read_body()
        if len(raw) < int(self.headers.get("Content-Length") or 0):
            # The sender gave up mid-request (its timeout, on a loaded machine) and closed the connection: that is
            # no delivery, and a truncated body would be recorded as an unverifiable one. Its retry is.
            self.close_connection = True
            return
        if self.path == "/_control/path":
            config = json.loads(raw)
            with state.lock:
                state.paths[config["path"]] = config
            return self.reply(200, b'{"ok": true}')
        if self.path == "/_control/secrets":
            config = json.loads(raw)
            with state.lock:
                state.secrets = list(config["secrets"])
            return self.reply(200, b'{"ok": true}')
        if self.path == "/_verify":
            request = json.loads(raw)
            result = state.verify(request["body"], request["headers"])
            return self.reply(200, json.dumps(result).encode())

        body = raw.decode("utf-8", errors="replace")
        headers = {name.lower(): value for name, value in self.headers.items()}
        result = state.verify(body, headers)
        config = state.answer_for(self.path)
        if config.get("delay"):
            time.sleep(float(config["delay"]))
        status = int(config.get("status", 200))
        state.write(
            {
                "path": self.path,
                "webhook_id": headers.get("webhook-id"),
                "webhook_timestamp": headers.get("webhook-timestamp"),
                "signature": headers.get("webhook-signature"),
                "signatures": len((headers.get("webhook-signature") or "").split()),
                "content_type": headers.get("content-type"),
                "body": body,
                "status": status,
                "verified": result["verified"],
                "verified_by": result["verified_by"],
                "error": result["error"],
                "received_at": time.time(),
            }
        )
        self.reply(status, config.get("body", "ok" if status < 300 else f"status {status}").encode(), "text/plain")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--secret", action="append", default=[], help="a whsec_ secret to verify with (repeatable)")
    parser.add_argument("--record", help="append one JSON line per delivery to this file")
    options = parser.parse_args(argv)

    server = ThreadingHTTPServer((options.host, options.port), Handler)
    server.daemon_threads = True
    server.state = State(options.secret, options.record)

    def stop(signum, frame):
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    sys.stdout.write(f"READY {server.server_address[1]}\n")
    sys.stdout.flush()
    server.serve_forever(poll_interval=0.1)
    server.server_close()


if __name__ == "__main__":
    main()
