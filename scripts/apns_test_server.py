#!/usr/bin/env python3
"""A fake Apple Push Notification service for Herald's tests, speaking APNs' real wire format.

HTTP/2 only, over TLS with ALPN "h2" (the `h2` library on asyncio; a client that does not negotiate h2
is disconnected, as Apple does). Every request is checked the way APNs checks it:

  POST /3/device/<hex token>                    anything else: 405 MethodNotAllowed / 404 BadPath
  authorization: bearer <ES256 JWT>             header {"alg": "ES256", "kid": --key-id}, claims
                                                {"iss": --team-id, "iat": not older than one hour}, signed
                                                by the key whose public half is --public-key
                                                (403 MissingProviderToken / InvalidProviderToken /
                                                ExpiredProviderToken)
  apns-topic                                    required (400 MissingTopic); one of --topic when given
                                                (400 TopicDisallowed)
  apns-push-type                                alert, background, voip, ... (400 InvalidPushType);
                                                background wants apns-priority 5 and aps.content-available 1
  apns-priority 10|5|1, apns-expiration <int>,  400 BadPriority / BadExpirationDate / BadCollapseId /
  apns-collapse-id <= 64 bytes, apns-id UUID    BadMessageId
  body                                          a JSON object with an "aps" object, at most 4096 bytes
                                                (413 PayloadTooLarge; 400 PayloadEmpty)

and answered as Apple answers: 200 with an `apns-id` header and no body, or an error status with
`{"reason": "..."}` (410 adds `"timestamp"`, milliseconds since the epoch) and the `apns-id` header.
A JWT's signature is verified once and remembered; its age is checked on every request.

One JSON line per request goes to --log (and is kept for GET /record):
  {"seq", "connection", "stream", "method", "path", "token", "headers" (lower-case names, pseudo-headers
   included), "body", "verified" (every check passed), "problems", "jwt", "status", "reason", "apns_id"}

Control, plain HTTP/1.1 on a side port (JSON bodies and answers):
  POST /fail          {"token": "<hex>", "status": 410, "reason": "Unregistered", "retry_after": 2, "times": -1}
                      the next `times` requests (-1: all) to that token get that answer (reason defaults by
                      status: 410 Unregistered, 400 BadDeviceToken, 403 Forbidden, 429 TooManyRequests,
                      500 InternalServerError, 503 ServiceUnavailable; retry_after adds Retry-After)
  POST /expire-jwts   {"always": false}  every JWT seen so far answers 403 ExpiredProviderToken from now on;
                      with always, every JWT does (new ones too) until POST /clear
  POST /clear         forget failures and expiries
  GET  /counters      {"connections", "open_connections", "refused_connections", "requests", "verified",
                       "distinct_jwts", "statuses": {"200": n, ...}}
  GET  /record        every request line so far, as a JSON array

Once listening it prints exactly one line, `READY <h2 port> <control port>`, and runs until SIGTERM/SIGINT.
"""

import argparse
import asyncio
import base64
import json
import re
import signal
import ssl
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import h2.config
import h2.connection
import h2.events
import h2.exceptions
import h2.settings
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

# A parent that spawned us from a thread with signals blocked (Swift's Foundation.Process called from a
# libdispatch worker does) passes that mask on; unblock them, or SIGTERM never arrives.
signal.pthread_sigmask(signal.SIG_SETMASK, [])

PUSH_TYPES = {"alert", "background", "voip", "complication", "fileprovider", "mdm", "location", "liveactivity", "pushtotalk", "widgets", "controls"}
DEFAULT_REASONS = {400: "BadDeviceToken", 403: "Forbidden", 410: "Unregistered", 413: "PayloadTooLarge", 429: "TooManyRequests",
                   500: "InternalServerError", 503: "ServiceUnavailable"}
TOKEN = re.compile(r"^[0-9a-fA-F]{64,200}$")
UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
INTERRUPTION_LEVELS = {"passive", "active", "time-sensitive", "critical"}


def b64url_decode(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class State:
    """Everything the two servers share; the asyncio thread and the control threads take the lock."""

    def __init__(self, args, public_key):
        self.lock = threading.Lock()
        self.key_id = args.key_id
        self.team_id = args.team_id
        self.topics = set(args.topic or [])
        self.public_key = public_key
        self.log = open(args.log, "a", encoding="utf-8", buffering=1) if args.log else None
        self.records = []
        self.connections = 0
        self.open_connections = 0
        self.refused_connections = 0
        self.statuses = {}
        self.verified = 0
        self.jwts = {}  # JWT text -> None when its signature verifies, else why not
        self.expired_jwts = set()
        self.expire_always = False
        self.failures = {}  # token -> {"status", "reason", "retry_after", "times"}

    def check_jwt(self, jwt):
        """None when the JWT is Apple's kind and signed by our key, else the 403 reason."""
        if jwt not in self.jwts:
            self.jwts[jwt] = self.verify_signature(jwt)
        if jwt in self.expired_jwts or self.expire_always:
            return "ExpiredProviderToken"
        if self.jwts[jwt] is not None:
            return "InvalidProviderToken"
        claims = json.loads(b64url_decode(jwt.split(".")[1]))
        iat = claims.get("iat")
        if time.time() - iat > 3600:
            return "ExpiredProviderToken"
        if iat > time.time() + 60:
            return "InvalidProviderToken"
        return None

    def verify_signature(self, jwt):
        try:
            parts = jwt.split(".")
            if len(parts) != 3:
                return "not three parts"
            header = json.loads(b64url_decode(parts[0]))
            claims = json.loads(b64url_decode(parts[1]))
            if header.get("alg") != "ES256":
                return f"alg {header.get('alg')!r}"
            if header.get("kid") != self.key_id:
                return f"kid {header.get('kid')!r}"
            if claims.get("iss") != self.team_id:
                return f"iss {claims.get('iss')!r}"
            if not isinstance(claims.get("iat"), int) or isinstance(claims.get("iat"), bool):
                return "iat is not a whole number"
            signature = b64url_decode(parts[2])
            if len(signature) != 64:
                return f"signature of {len(signature)} bytes (ES256 wants r||s, 64)"
            der = encode_dss_signature(int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big"))
            self.public_key.verify(der, f"{parts[0]}.{parts[1]}".encode(), ec.ECDSA(hashes.SHA256()))
            return None
        except InvalidSignature:
            return "bad signature"
        except Exception as error:  # malformed base64 or JSON
            return f"unreadable: {error}"

    def counters(self):
        with self.lock:
            return {"connections": self.connections, "open_connections": self.open_connections,
                    "refused_connections": self.refused_connections, "requests": len(self.records), "verified": self.verified,
                    "distinct_jwts": len(self.jwts), "statuses": {str(k): v for k, v in sorted(self.statuses.items())}}


def check_request(state, headers, body):
    """(status, reason, problems) for one request. problems lists every rule broken (empty: verified);
    status and reason are the first one Apple would answer."""
    problems = []
    method, path = headers.get(":method"), headers.get(":path", "")
    answer = None

    def refuse(status, reason, detail=None):
        nonlocal answer
        problems.append(detail or reason)
        if answer is None:
            answer = (status, reason)

    if method != "POST":
        refuse(405, "MethodNotAllowed")
    match = re.fullmatch(r"/3/device/([^/?]*)", path)
    token = match.group(1) if match else None
    if match is None:
        refuse(404, "BadPath")
    elif not token:
        refuse(400, "MissingDeviceToken")
    elif not TOKEN.match(token):
        refuse(400, "BadDeviceToken")

    authorization = headers.get("authorization", "")
    jwt = authorization[7:] if authorization.lower().startswith("bearer ") else None
    if jwt is None:
        refuse(403, "MissingProviderToken")
    else:
        reason = state.check_jwt(jwt)
        if reason:
            refuse(403, reason, f"{reason}: {state.jwts.get(jwt) or 'refused'}")

    topic = headers.get("apns-topic")
    if not topic:
        refuse(400, "MissingTopic")
    elif state.topics and topic not in state.topics:
        refuse(400, "TopicDisallowed")
    push_type = headers.get("apns-push-type")
    if push_type not in PUSH_TYPES:
        refuse(400, "InvalidPushType", f"InvalidPushType: {push_type!r}")
    priority = headers.get("apns-priority", "10")
    if priority not in ("10", "5", "1"):
        refuse(400, "BadPriority")
    if push_type == "background" and priority == "10":
        refuse(400, "BadPriority", "BadPriority: background pushes must have priority 5 or 1")
    expiration = headers.get("apns-expiration")
    if expiration is not None and not re.fullmatch(r"[0-9]+", expiration):
        refuse(400, "BadExpirationDate")
    collapse = headers.get("apns-collapse-id")
    if collapse is not None and len(collapse.encode()) > 64:
        refuse(400, "BadCollapseId")
    message_id = headers.get("apns-id")
    if message_id is not None and not UUID.match(message_id):
        refuse(400, "BadMessageId")

    if len(body) > 4096:
        refuse(413, "PayloadTooLarge")
    elif not body:
        refuse(400, "PayloadEmpty")
    else:
        try:
            payload = json.loads(body)
        except ValueError as error:
            payload = None
            refuse(400, "PayloadEmpty", f"body is not JSON: {error}")
        if payload is not None:
            for problem in payload_problems(payload, push_type):
                refuse(400, "PayloadEmpty", problem)
    return token, jwt, answer, problems


def payload_problems(payload, push_type):
    """What is wrong with a payload's shape (Apple drops what it cannot read; we want to hear of it)."""
    if not isinstance(payload, dict) or not isinstance(payload.get("aps"), dict):
        return ["the payload has no aps dictionary"]
    aps, problems = payload["aps"], []
    alert = aps.get("alert")
    if alert is not None and not isinstance(alert, (str, dict)):
        problems.append("aps.alert is neither a string nor a dictionary")
    if isinstance(alert, dict):
        for key in ("title", "subtitle", "body"):
            if key in alert and not isinstance(alert[key], str):
                problems.append(f"aps.alert.{key} is not a string")
    if "badge" in aps and (not isinstance(aps["badge"], int) or isinstance(aps["badge"], bool) or aps["badge"] < 0):
        problems.append("aps.badge is not a whole number")
    sound = aps.get("sound")
    if isinstance(sound, dict):
        if not isinstance(sound.get("name"), str):
            problems.append("aps.sound.name is missing")
        if sound.get("critical", 0) not in (0, 1):
            problems.append("aps.sound.critical is neither 0 nor 1")
        volume = sound.get("volume", 1)
        if not isinstance(volume, (int, float)) or not 0 <= volume <= 1:
            problems.append("aps.sound.volume is not between 0 and 1")
    elif sound is not None and not isinstance(sound, str):
        problems.append("aps.sound is neither a string nor a dictionary")
    level = aps.get("interruption-level")
    if level is not None and level not in INTERRUPTION_LEVELS:
        problems.append(f"aps.interruption-level {level!r}")
    if level == "critical" and not (isinstance(sound, dict) and sound.get("critical") == 1):
        problems.append("a critical alert without a critical sound")
    if "thread-id" in aps and not isinstance(aps["thread-id"], str):
        problems.append("aps.thread-id is not a string")
    if aps.get("mutable-content", 1) != 1 or aps.get("content-available", 1) != 1:
        problems.append("mutable-content and content-available take only 1")
    if push_type == "alert" and not any(key in aps for key in ("alert", "badge", "sound")):
        problems.append("an alert push with no alert, badge or sound")
    if push_type == "background":
        if aps.get("content-available") != 1:
            problems.append("a background push without content-available 1")
        if any(key in aps for key in ("alert", "badge", "sound")):
            problems.append("a background push with an alert, badge or sound")
    return problems


class APNsProtocol(asyncio.Protocol):
    def __init__(self, state):
        self.state = state
        self.connection = None
        self.transport = None
        self.streams = {}  # stream id -> (headers dict, bytearray)
        self.number = 0

    def connection_made(self, transport):
        self.transport = transport
        ssl_object = transport.get_extra_info("ssl_object")
        if ssl_object is None or ssl_object.selected_alpn_protocol() != "h2":
            with self.state.lock:
                self.state.refused_connections += 1
            transport.close()
            return
        with self.state.lock:
            self.state.connections += 1
            self.state.open_connections += 1
            self.number = self.state.connections
        self.connection = h2.connection.H2Connection(config=h2.config.H2Configuration(client_side=False, header_encoding="utf-8"))
        self.connection.local_settings = h2.settings.Settings(
            client=False, initial_values={h2.settings.SettingCodes.MAX_CONCURRENT_STREAMS: 1000})
        self.connection.initiate_connection()
        self.flush()

    def connection_lost(self, exc):
        if self.connection is not None:
            with self.state.lock:
                self.state.open_connections -= 1

    def flush(self):
        data = self.connection.data_to_send()
        if data:
            self.transport.write(data)

    def data_received(self, data):
        if self.connection is None:
            return
        try:
            events = self.connection.receive_data(data)
        except h2.exceptions.ProtocolError:
            self.flush()
            self.transport.close()
            return
        for event in events:
            if isinstance(event, h2.events.RequestReceived):
                self.streams[event.stream_id] = ({name: value for name, value in event.headers}, bytearray())
                if event.stream_ended:
                    self.answer(event.stream_id)
            elif isinstance(event, h2.events.DataReceived):
                if event.stream_id in self.streams:
                    self.streams[event.stream_id][1].extend(event.data)
                self.connection.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
            elif isinstance(event, h2.events.StreamEnded):
                if event.stream_id in self.streams:
                    self.answer(event.stream_id)
            elif isinstance(event, h2.events.StreamReset):
                self.streams.pop(event.stream_id, None)
        self.flush()

    def answer(self, stream_id):
        headers, body = self.streams.pop(stream_id)
        body = bytes(body)
        state = self.state
        with state.lock:
            token, jwt, answer, problems = check_request(state, headers, body)
            failure = state.failures.get(token)
            if answer is None and failure is not None:
                answer = (failure["status"], failure["reason"])
                if failure["times"] > 0:
                    failure["times"] -= 1
                    if failure["times"] == 0:
                        del state.failures[token]
            status, reason = answer or (200, None)
            apns_id = headers.get("apns-id") or str(uuid.uuid4()).upper()
            state.statuses[status] = state.statuses.get(status, 0) + 1
            if not problems:
                state.verified += 1
            record = {"seq": len(state.records) + 1, "connection": self.number, "stream": stream_id, "method": headers.get(":method"),
                      "path": headers.get(":path"), "token": token, "headers": headers, "body": body.decode("utf-8", "replace"),
                      "verified": not problems, "problems": problems, "jwt": jwt, "status": status, "reason": reason, "apns_id": apns_id}
            state.records.append(record)
            if state.log:
                state.log.write(json.dumps(record) + "\n")
        response_headers = [(":status", str(status)), ("apns-id", apns_id)]
        if status == 200:
            self.connection.send_headers(stream_id, response_headers, end_stream=True)
            return
        error = {"reason": reason}
        if status == 410:
            error["timestamp"] = int(time.time() * 1000)
        if failure is not None and failure.get("retry_after") is not None and (status, reason) == (failure["status"], failure["reason"]):
            response_headers.append(("retry-after", str(failure["retry_after"])))
        data = json.dumps(error).encode()
        response_headers += [("content-type", "application/json"), ("content-length", str(len(data)))]
        self.connection.send_headers(stream_id, response_headers)
        self.connection.send_data(stream_id, data, end_stream=True)


def control_handler(state):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def reply(self, value, status=200):
            data = json.dumps(value).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self):
            if self.path == "/counters":
                self.reply(state.counters())
            elif self.path == "/record":
                with state.lock:
                    records = list(state.records)
                self.reply(records)
            else:
                self.reply({"error": "no such control"}, 404)

        def do_POST(self):
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length) or b"{}")
            with state.lock:
                if self.path == "/fail":
                    status = int(body["status"])
                    state.failures[body["token"]] = {"status": status, "reason": body.get("reason") or DEFAULT_REASONS.get(status, "BadRequest"),
                                                     "retry_after": body.get("retry_after"), "times": int(body.get("times", -1))}
                elif self.path == "/expire-jwts":
                    state.expired_jwts |= set(state.jwts)
                    state.expire_always = bool(body.get("always", False))
                elif self.path == "/clear":
                    state.failures.clear()
                    state.expired_jwts.clear()
                    state.expire_always = False
                else:
                    self.reply({"error": "no such control"}, 404)
                    return
            self.reply({"ok": True})

    return Handler


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("cert", help="PEM certificate the TLS server presents")
    parser.add_argument("key", help="its PEM private key")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--control-port", type=int, default=0)
    parser.add_argument("--key-id", required=True, help="the kid every JWT must carry")
    parser.add_argument("--team-id", required=True, help="the iss every JWT must carry")
    parser.add_argument("--public-key", required=True, help="PEM file: the public half of the .p8 signing key")
    parser.add_argument("--topic", action="append", help="an allowed apns-topic (repeatable; any when none)")
    parser.add_argument("--log", help="append one JSON line per request here")
    args = parser.parse_args()

    with open(args.public_key, "rb") as file:
        public_key = serialization.load_pem_public_key(file.read())
    if not isinstance(public_key, ec.EllipticCurvePublicKey) or public_key.curve.name != "secp256r1":
        sys.exit("--public-key must be a P-256 public key")
    state = State(args, public_key)

    control = ThreadingHTTPServer((args.host, args.control_port), control_handler(state))
    control.daemon_threads = True
    threading.Thread(target=control.serve_forever, daemon=True).start()

    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(args.cert, args.key)
    context.set_alpn_protocols(["h2"])
    context.minimum_version = ssl.TLSVersion.TLSv1_2

    async def serve():
        loop = asyncio.get_running_loop()
        server = await loop.create_server(lambda: APNsProtocol(state), args.host, args.port, ssl=context, backlog=256)
        print(f"READY {server.sockets[0].getsockname()[1]} {control.server_address[1]}", flush=True)
        stop = asyncio.Event()
        for number in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(number, stop.set)
        await stop.wait()
        server.close()

    asyncio.run(serve())


if __name__ == "__main__":
    main()
