#!/usr/bin/env python3
"""A Web Push service for Herald's tests: hands out browser subscriptions, then takes pushes for them the way a
real push service does (RFC 8030), decrypting each with the `http_ece` library (RFC 8188/8291, aes128gcm) and
checking its VAPID `Authorization` header (RFC 8292) with `py_vapid`, and records what it saw.

Subscriptions are made by the control endpoint below: each has its own P-256 key pair and 16-byte auth secret,
kept in memory like a browser keeps them, and an endpoint `http://<host>:<port>/push/<id>`.

A push is `POST /push/<id>` with an aes128gcm body. It is decrypted with
`http_ece.decrypt(body, private_key=…, auth_secret=…, version="aes128gcm")`, and its `Authorization:
vapid t=<JWT>, k=<key>` verified with `py_vapid.jwt.decode(t, k)` (the ES256 signature against `k`), then
checked: header `{"typ": "JWT", "alg": "ES256"}`, `aud` is this receiver's origin, `exp` in the future and
at most 24 hours ahead, `sub` a mailto: or https: URL, and `k` the subscription's application server key when
one was given. (py_vapid's own `Vapid02.verify(header)` splits the header at its last space, so it cannot read
RFC 8292's `t=…, k=…` with a space after the comma; the parameters are parsed here, per RFC 9110 §11.) Then it
answers, as a push service would:

  201 + Location       accepted (decrypted or not: a push service cannot read the payload)
  400                  no TTL header
  401                  the VAPID token does not verify (missing, bad signature, bad claims)
  403                  `k` is not the key the subscription was made with
  404                  no such subscription
  413                  body over 4096 bytes
  whatever was set     for subscriptions given an answer by /_control/answer (410, 404, 429 + Retry-After, 500…)

One JSON line per push goes to --record (and is kept for GET /_control/record):

  {"seq", "subscription", "status", "verified", "vapid_error", "jwt", "k", "claims", "payload", "decrypt_error",
   "content_encoding", "content_type", "ttl", "urgency", "topic", "body_bytes", "received_at"}

`payload` is the decrypted body as JSON when it parses, else as text (null when it did not decrypt).

Control (JSON bodies, answered with JSON):
  POST /_control/subscriptions {"count": N, "application_server_key": "B…"?}
                                   -> [{"id", "endpoint", "keys": {"p256dh", "auth"}}, …] (keys base64url, unpadded)
  POST /_control/answer        {"ids": ["…"], "status": 410, "retry_after": "30"?, "body": "…"?}
                                   subscriptions answer so from now on (status 0 or null: back to normal)
  GET  /_control/record            -> every recorded line, in order

Once listening it prints exactly one line, `READY <port>`, and runs until SIGTERM/SIGINT.
"""

import argparse
import base64
import json
import os
import signal
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import http_ece
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from py_vapid import jwt as vapid_jwt

# A parent that spawned us from a thread with signals blocked (Swift's Foundation.Process called from a
# libdispatch worker does) passes that mask on; unblock them, or SIGTERM never arrives.
signal.pthread_sigmask(signal.SIG_SETMASK, [])

MAX_BODY = 4096
MAX_TOKEN_LIFETIME = 24 * 3600


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def parse_vapid_header(value):
    """`vapid t=…, k=…` -> {"t": …, "k": …}; raises ValueError when it is not one."""
    scheme, _, rest = (value or "").strip().partition(" ")
    if scheme.lower() != "vapid":
        raise ValueError(f"Authorization scheme is {scheme!r}, not vapid")
    params = {}
    for part in rest.split(","):
        name, sep, param = part.strip().partition("=")
        if not sep:
            raise ValueError(f"malformed auth-param {part.strip()!r}")
        params[name.strip().lower()] = param.strip().strip('"')
    if "t" not in params or "k" not in params:
        raise ValueError("Authorization lacks t= or k=")
    return params


class Subscription:
    def __init__(self, ident, endpoint, application_server_key):
        self.id = ident
        self.endpoint = endpoint
        self.private_key = ec.generate_private_key(ec.SECP256R1())
        self.p256dh = b64url(self.private_key.public_key().public_bytes(Encoding.X962, PublicFormat.UncompressedPoint))
        self.auth = os.urandom(16)
        self.application_server_key = application_server_key
        self.answer = None

    def public(self):
        return {"id": self.id, "endpoint": self.endpoint, "keys": {"p256dh": self.p256dh, "auth": b64url(self.auth)}}


class State:
    def __init__(self, record):
        self.lock = threading.Lock()
        self.subscriptions = {}
        self.lines = []
        self.record = open(record, "a", encoding="utf-8") if record else None
        self.sequence = 0
        self.next_id = 0
        self.origin = None

    def create(self, count, application_server_key):
        made = []
        with self.lock:
            for _ in range(count):
                self.next_id += 1
                ident = f"s{self.next_id}"
                made.append(Subscription(ident, f"{self.origin}/push/{ident}", application_server_key))
                self.subscriptions[ident] = made[-1]
        return [subscription.public() for subscription in made]

    def write(self, entry):
        with self.lock:
            self.sequence += 1
            entry["seq"] = self.sequence
            self.lines.append(entry)
            if self.record:
                self.record.write(json.dumps(entry, sort_keys=True) + "\n")
                self.record.flush()
            return self.sequence


def verify_vapid(header, origin, subscription):
    """(verified, error, jwt, k, claims, status if refused)."""
    try:
        params = parse_vapid_header(header)
    except ValueError as error:
        return False, str(error), None, None, None, 401
    token, key = params["t"], params["k"]
    try:
        claims = vapid_jwt.decode(token, key)
    except Exception as error:  # InvalidSignature, or a token that is not three parts of base64url JSON
        return False, f"signature does not verify: {type(error).__name__} {error}", token, key, None, 401
    problems = []
    try:
        jose = json.loads(b64url_decode(token.split(".")[0]))
        if jose != {"typ": "JWT", "alg": "ES256"}:
            problems.append(f"header is {jose}")
    except Exception as error:
        problems.append(f"header does not decode: {error}")
    now = time.time()
    if claims.get("aud") != origin:
        problems.append(f"aud is {claims.get('aud')!r}, not {origin!r}")
    exp = claims.get("exp")
    if not isinstance(exp, int) or isinstance(exp, bool):
        problems.append(f"exp is {exp!r}, not an integer")
    elif exp <= now:
        problems.append("exp has passed")
    elif exp > now + MAX_TOKEN_LIFETIME + 60:
        problems.append(f"exp is {exp - now:.0f} s ahead, more than 24 h")
    sub = claims.get("sub")
    if not isinstance(sub, str) or not (sub.startswith("mailto:") or sub.startswith("https:")):
        problems.append(f"sub is {sub!r}, not a mailto: or https: URL")
    if problems:
        return False, "; ".join(problems), token, key, claims, 401
    if subscription.application_server_key and key != subscription.application_server_key:
        return False, "k is not the subscription's application server key", token, key, claims, 403
    return True, None, token, key, claims, None


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "webpush-receiver"

    def log_message(self, format, *args):
        pass

    def reply(self, status, body=b"", content_type="application/json", headers=()):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in headers:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def read_body(self):
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def do_GET(self):
        state = self.server.state
        if self.path == "/_control/record":
            with state.lock:
                lines = list(state.lines)
            return self.reply(200, json.dumps(lines).encode())
        self.reply(404, b'{"error": "not found"}')

    def do_POST(self):
        state = self.server.state
        raw = self.read_body()
        if self.path == "/_control/subscriptions":
            request = json.loads(raw or b"{}")
            made = state.create(int(request.get("count", 1)), request.get("application_server_key"))
            return self.reply(200, json.dumps(made).encode())
        if self.path == "/_control/answer":
            request = json.loads(raw)
            answer = request if request.get("status") else None
            with state.lock:
                unknown = [ident for ident in request["ids"] if ident not in state.subscriptions]
                for ident in request["ids"]:
                    if ident in state.subscriptions:
                        state.subscriptions[ident].answer = answer
            if unknown:
                return self.reply(400, json.dumps({"error": f"no subscriptions {unknown}"}).encode())
            return self.reply(200, b'{"ok": true}')
        if self.path.startswith("/push/"):
            return self.push(self.path[len("/push/"):], raw)
        self.reply(404, b'{"error": "not found"}')

    def push(self, ident, body):
        state = self.server.state
        with state.lock:
            subscription = state.subscriptions.get(ident)
        if subscription is None:
            return self.reply(404, b'{"error": "no such subscription"}')
        headers = self.headers
        ttl = headers.get("TTL")
        entry = {
            "subscription": ident,
            "content_encoding": headers.get("Content-Encoding"),
            "content_type": headers.get("Content-Type"),
            "ttl": int(ttl) if ttl is not None and ttl.strip().isdigit() else ttl,
            "urgency": headers.get("Urgency"),
            "topic": headers.get("Topic"),
            "body_bytes": len(body),
            "received_at": time.time(),
            "payload": None,
            "decrypt_error": None,
        }
        verified, error, token, key, claims, refusal = verify_vapid(headers.get("Authorization"), state.origin, subscription)
        entry.update({"verified": verified, "vapid_error": error, "jwt": token, "k": key, "claims": claims})
        try:
            plaintext = http_ece.decrypt(body, private_key=subscription.private_key, auth_secret=subscription.auth, version="aes128gcm")
            text = plaintext.decode("utf-8")
            try:
                entry["payload"] = json.loads(text)
            except ValueError:
                entry["payload"] = text
        except Exception as failure:  # ECEException, InvalidTag, a body too short to parse, not UTF-8
            entry["decrypt_error"] = f"{type(failure).__name__}: {failure}"

        extra = []
        answer = subscription.answer
        if answer:
            status = int(answer["status"])
            reply = answer.get("body", f"status {status}")
            if answer.get("retry_after") is not None:
                extra.append(("Retry-After", str(answer["retry_after"])))
        elif ttl is None:
            status, reply = 400, "missing TTL header"
        elif len(body) > MAX_BODY:
            status, reply = 413, "payload too large"
        elif refusal:
            status, reply = refusal, f"VAPID: {error}"
        else:
            status, reply = 201, ""
        entry["status"] = status
        sequence = state.write(entry)
        if status == 201:
            extra.append(("Location", f"{state.origin}/message/{sequence}"))
        self.reply(status, reply.encode(), "text/plain", extra)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--record", help="append one JSON line per push to this file")
    options = parser.parse_args(argv)

    # Pushes arrive over many connections at once; the default backlog of 5 would make the rest wait for SYN retries.
    ThreadingHTTPServer.request_queue_size = 256
    server = ThreadingHTTPServer((options.host, options.port), Handler)
    server.daemon_threads = True
    server.state = State(options.record)
    host = options.host if ":" not in options.host else f"[{options.host}]"
    server.state.origin = f"http://{host}:{server.server_address[1]}"

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
