#!/usr/bin/env python3
"""A fake Firebase Cloud Messaging HTTP v1 API and Google OAuth token endpoint for Herald's tests.

One HTTP/1.1 server on loopback (keep-alive, threads) serves:

  POST /token                                  Google's OAuth 2.0 token endpoint for service accounts:
                                               form-encoded grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer
                                               and assertion=<RS256 JWT> with {"iss": --client-email, "scope"
                                               naming https://www.googleapis.com/auth/firebase.messaging, "aud":
                                               the token URI (--token-uri, default this server's /token), "iat",
                                               "exp" at most an hour later and not past}, signed by the key whose
                                               public half is --public-key (and "kid" --key-id when given).
                                               Answers {"access_token", "expires_in", "token_type": "Bearer"} or,
                                               like Google, 400 {"error": "invalid_grant", "error_description"}.
  POST /v1/projects/<project>/messages:send    FCM HTTP v1: `authorization: Bearer <a token this server
                                               issued and that has not expired>` (else 401 UNAUTHENTICATED),
                                               project --project-id (else 403 PERMISSION_DENIED), a JSON body
                                               {"message": {...}} with exactly one of token/topic/condition,
                                               string-only "data", and the shapes of notification, android,
                                               apns and webpush checked (400 INVALID_ARGUMENT naming the field).
                                               Answers 200 {"name": "projects/<project>/messages/<id>"}.

Errors are Google's: {"error": {"code", "message", "status", "details": [{"@type":
"type.googleapis.com/google.firebase.fcm.v1.FcmError", "errorCode"}]}}.

Control (JSON bodies and answers, not recorded):
  POST /_control/fail           {"token": "<registration token>", "error": "UNREGISTERED", "retry_after": 2, "times": -1}
                                the next `times` sends (-1: all) to that token get that FCM error: UNREGISTERED
                                (404), INVALID_ARGUMENT (400, about the registration token), SENDER_ID_MISMATCH
                                (403), QUOTA_EXCEEDED (429), UNAVAILABLE (503), INTERNAL (500),
                                THIRD_PARTY_AUTH_ERROR (401); retry_after adds a Retry-After header
  POST /_control/expire-tokens  every access token issued so far is expired from now on
  POST /_control/clear          forget failures
  GET  /_control/counters       {"exchanges", "refused_exchanges", "sends", "accepted", "unauthenticated",
                                 "verified", "statuses": {"200": n, ...}}

Every token exchange and send is appended to --log as one JSON line: {"seq", "kind": "token"|"send",
"path", "headers" (lower-case names), "body", "status", "verified", "problems", "token" (the registration
token of a send), "claims" (of an assertion), "access_token" (used or issued)}.

Prints "READY <port>" once listening, and runs until SIGTERM/SIGINT.
"""

import argparse
import base64
import json
import re
import secrets
import signal
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

# A parent that spawned us from a thread with signals blocked (Swift's Foundation.Process called from a
# libdispatch worker does) passes that mask on; unblock them, or SIGTERM never arrives.
signal.pthread_sigmask(signal.SIG_SETMASK, [])
signal.signal(signal.SIGTERM, signal.SIG_DFL)

SCOPE = "https://www.googleapis.com/auth/firebase.messaging"
GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
FCM_ERROR = "type.googleapis.com/google.firebase.fcm.v1.FcmError"
# errorCode -> (HTTP status, google.rpc status, message), as FCM answers them.
ERRORS = {
    "UNREGISTERED": (404, "NOT_FOUND", "Requested entity was not found."),
    "INVALID_ARGUMENT": (400, "INVALID_ARGUMENT", "The registration token is not a valid FCM registration token"),
    "SENDER_ID_MISMATCH": (403, "PERMISSION_DENIED", "SenderId mismatch"),
    "QUOTA_EXCEEDED": (429, "RESOURCE_EXHAUSTED", "Quota exceeded for quota metric 'Send requests'."),
    "UNAVAILABLE": (503, "UNAVAILABLE", "The service is currently unavailable."),
    "INTERNAL": (500, "INTERNAL", "Internal error encountered."),
    "THIRD_PARTY_AUTH_ERROR": (401, "UNAUTHENTICATED", "Auth error from APNS or Web Push Service"),
}
TOKEN = re.compile(r"^[A-Za-z0-9_:\-]{20,4096}$")
URGENCIES = {"very-low", "low", "normal", "high"}


def b64url_decode(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def google_error(code, status, message, error_code=None):
    error = {"code": code, "message": message, "status": status}
    if error_code:
        error["details"] = [{"@type": FCM_ERROR, "errorCode": error_code}]
    return {"error": error}


class State:
    def __init__(self, args, public_key):
        self.lock = threading.Lock()
        self.args = args
        self.public_key = public_key
        self.token_uri = args.token_uri
        self.log = open(args.log, "a", encoding="utf-8", buffering=1) if args.log else None
        self.sequence = 0
        self.access_tokens = {}  # access token -> expiry (epoch seconds)
        self.failures = {}
        self.counters = {"exchanges": 0, "refused_exchanges": 0, "sends": 0, "accepted": 0, "unauthenticated": 0, "verified": 0, "statuses": {}}

    def record(self, entry):
        with self.lock:
            self.sequence += 1
            entry["seq"] = self.sequence
            statuses = self.counters["statuses"]
            statuses[str(entry["status"])] = statuses.get(str(entry["status"]), 0) + 1
            if entry["verified"]:
                self.counters["verified"] += 1
            if self.log:
                self.log.write(json.dumps(entry) + "\n")

    def assertion_problems(self, assertion):
        """(claims, problems) of an OAuth assertion: everything Google checks."""
        parts = assertion.split(".")
        if len(parts) != 3:
            return None, ["the assertion is not a compact JWT"]
        try:
            header = json.loads(b64url_decode(parts[0]))
            claims = json.loads(b64url_decode(parts[1]))
            signature = b64url_decode(parts[2])
        except Exception as error:
            return None, [f"unreadable assertion: {error}"]
        problems = []
        if header.get("alg") != "RS256":
            problems.append(f"alg {header.get('alg')!r}, not RS256")
        if self.args.key_id and header.get("kid") not in (None, self.args.key_id):
            problems.append(f"kid {header.get('kid')!r}")
        try:
            self.public_key.verify(signature, f"{parts[0]}.{parts[1]}".encode(), padding.PKCS1v15(), hashes.SHA256())
        except InvalidSignature:
            problems.append("Invalid JWT Signature.")
        if claims.get("iss") != self.args.client_email:
            problems.append(f"iss {claims.get('iss')!r}")
        if SCOPE not in str(claims.get("scope", "")).split():
            problems.append(f"scope {claims.get('scope')!r} lacks {SCOPE}")
        if claims.get("aud") != self.token_uri:
            problems.append(f"aud {claims.get('aud')!r}, not {self.token_uri}")
        iat, exp, now = claims.get("iat"), claims.get("exp"), time.time()
        if not isinstance(iat, int) or not isinstance(exp, int):
            problems.append("iat and exp must be whole numbers of seconds")
        else:
            if iat > now + 60:
                problems.append("iat is in the future")
            if exp <= now:
                problems.append("Invalid JWT: Token must be a short-lived token and in a reasonable timeframe (exp is past)")
            if exp - iat > 3600:
                problems.append("Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe")
        return claims, problems


def message_problems(message, project):
    """(field, description) pairs for what FCM would refuse as INVALID_ARGUMENT."""
    problems = []
    if not isinstance(message, dict):
        return [("message", "must be an object")]
    targets = [key for key in ("token", "topic", "condition") if key in message]
    if len(targets) != 1:
        problems.append(("message", "exactly one of token, topic or condition"))
    data = message.get("data")
    if data is not None:
        if not isinstance(data, dict):
            problems.append(("message.data", "must be a map"))
        else:
            for index, (key, value) in enumerate(data.items()):
                if not isinstance(value, str):
                    problems.append((f"message.data[{index}].value", f"Invalid value at 'message.data[{index}].value' (TYPE_STRING), {json.dumps(value)}"))
                if key in ("from", "notification", "message_type") or key.startswith(("google.", "gcm.")):
                    problems.append((f"message.data[{index}].key", f"reserved key {key!r}"))
    notification = message.get("notification")
    if notification is not None:
        if not isinstance(notification, dict):
            problems.append(("message.notification", "must be an object"))
        else:
            for key, value in notification.items():
                if key not in ("title", "body", "image") or not isinstance(value, str):
                    problems.append((f"message.notification.{key}", "unknown field or not a string"))
    android = message.get("android")
    if android is not None:
        if not isinstance(android, dict):
            problems.append(("message.android", "must be an object"))
        else:
            if "priority" in android and str(android["priority"]).lower() not in ("high", "normal"):
                problems.append(("message.android.priority", f"Invalid value {android['priority']!r}"))
            if "ttl" in android and not re.fullmatch(r"[0-9]+(\.[0-9]{1,9})?s", str(android["ttl"])):
                problems.append(("message.android.ttl", "Invalid duration"))
            if "collapse_key" in android and not isinstance(android["collapse_key"], str):
                problems.append(("message.android.collapse_key", "not a string"))
            if "notification" in android and not isinstance(android["notification"], dict):
                problems.append(("message.android.notification", "must be an object"))
    apns = message.get("apns")
    if apns is not None:
        if not isinstance(apns, dict):
            problems.append(("message.apns", "must be an object"))
        else:
            headers = apns.get("headers", {})
            if not isinstance(headers, dict) or not all(isinstance(value, str) for value in headers.values()):
                problems.append(("message.apns.headers", "values must be strings"))
            elif "apns-priority" in headers and headers["apns-priority"] not in ("10", "5", "1"):
                problems.append(("message.apns.headers", "apns-priority must be 10, 5 or 1"))
            payload = apns.get("payload")
            if payload is not None and not (isinstance(payload, dict) and isinstance(payload.get("aps", {}), dict)):
                problems.append(("message.apns.payload", "must be an object with an aps object"))
    webpush = message.get("webpush")
    if webpush is not None:
        if not isinstance(webpush, dict):
            problems.append(("message.webpush", "must be an object"))
        else:
            headers = webpush.get("headers", {})
            if not isinstance(headers, dict) or not all(isinstance(value, str) for value in headers.values()):
                problems.append(("message.webpush.headers", "values must be strings"))
            elif "Urgency" in headers and headers["Urgency"] not in URGENCIES:
                problems.append(("message.webpush.headers", "Urgency must be very-low, low, normal or high"))
    token = message.get("token")
    if "token" in message and (not isinstance(token, str) or not TOKEN.match(token)):
        problems.append(("message.token", "The registration token is not a valid FCM registration token"))
    return problems


def handler(state):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def reply(self, status, value, headers=()):
            data = json.dumps(value).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=UTF-8")
            self.send_header("Content-Length", str(len(data)))
            for name, header in headers:
                self.send_header(name, header)
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self):
            if self.path == "/_control/counters":
                with state.lock:
                    self.reply(200, json.loads(json.dumps(state.counters)))
            else:
                self.reply(404, google_error(404, "NOT_FOUND", "Not Found"))

        def do_POST(self):
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            path = urllib.parse.urlsplit(self.path).path
            if path.startswith("/_control/"):
                self.control(path, json.loads(body or b"{}"))
            elif path == "/token":
                self.exchange(body)
            elif re.fullmatch(r"/v1/projects/[^/]+/messages:send", path):
                self.send_message(path, body)
            else:
                self.reply(404, google_error(404, "NOT_FOUND", f"The requested URL {path} was not found on this server."))

        def control(self, path, body):
            with state.lock:
                if path == "/_control/fail":
                    state.failures[body["token"]] = {"error": body["error"], "retry_after": body.get("retry_after"), "times": int(body.get("times", -1))}
                elif path == "/_control/expire-tokens":
                    for token in state.access_tokens:
                        state.access_tokens[token] = 0
                elif path == "/_control/clear":
                    state.failures.clear()
                else:
                    self.reply(404, {"error": "no such control"})
                    return
            self.reply(200, {"ok": True})

        def entry(self, kind, body, status, problems, **extra):
            entry = {"kind": kind, "path": self.path, "headers": {name.lower(): value for name, value in self.headers.items()},
                     "body": body.decode("utf-8", "replace"), "status": status, "verified": not problems, "problems": problems}
            entry.update(extra)
            state.record(entry)

        def exchange(self, body):
            problems = []
            if not (self.headers.get("Content-Type") or "").startswith("application/x-www-form-urlencoded"):
                problems.append(f"Content-Type {self.headers.get('Content-Type')!r}")
            form = urllib.parse.parse_qs(body.decode("utf-8", "replace"))
            grant = form.get("grant_type", [None])[0]
            assertion = form.get("assertion", [None])[0]
            claims = None
            if grant != GRANT:
                problems.append(f"grant_type {grant!r}")
            if not assertion:
                problems.append("no assertion")
            else:
                claims, assertion_problems = state.assertion_problems(assertion)
                problems += assertion_problems
            if problems:
                with state.lock:
                    state.counters["refused_exchanges"] += 1
                error = "unsupported_grant_type" if grant != GRANT else "invalid_grant"
                self.entry("token", body, 400, problems, claims=claims)
                self.reply(400, {"error": error, "error_description": "; ".join(problems)})
                return
            token = "ya29.test-" + secrets.token_urlsafe(24)
            with state.lock:
                state.counters["exchanges"] += 1
                state.access_tokens[token] = time.time() + state.args.expires_in
            self.entry("token", body, 200, [], claims=claims, access_token=token)
            self.reply(200, {"access_token": token, "expires_in": state.args.expires_in, "token_type": "Bearer"})

        def send_message(self, path, body):
            authorization = self.headers.get("Authorization") or ""
            access_token = authorization[7:] if authorization.startswith("Bearer ") else None
            with state.lock:
                state.counters["sends"] += 1
                expiry = state.access_tokens.get(access_token)
                valid = expiry is not None and expiry > time.time()
                if not valid:
                    state.counters["unauthenticated"] += 1
            if not valid:
                problems = ["no access token" if access_token is None else "unknown or expired access token"]
                self.entry("send", body, 401, problems, access_token=access_token)
                self.reply(401, google_error(
                    401, "UNAUTHENTICATED", "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or "
                    "other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project."),
                    [("WWW-Authenticate", 'Bearer realm="https://accounts.google.com/", error="invalid_token"')])
                return
            project = path.split("/")[3]
            if project != state.args.project_id:
                self.entry("send", body, 403, [f"project {project!r}"], access_token=access_token)
                self.reply(403, google_error(403, "PERMISSION_DENIED", f"Permission 'cloudmessaging.messages.create' denied on resource '//cloudresourcemanager.googleapis.com/projects/{project}' (or it may not exist)."))
                return
            problems = []
            if not (self.headers.get("Content-Type") or "").startswith("application/json"):
                problems.append(f"Content-Type {self.headers.get('Content-Type')!r}")
            try:
                request = json.loads(body)
            except ValueError as error:
                request = None
                problems.append(f"Invalid JSON payload received. {error}")
            message = request.get("message") if isinstance(request, dict) else None
            if request is not None and message is None:
                problems.append("Invalid JSON payload received. Unknown name or missing field \"message\"")
            token = message.get("token") if isinstance(message, dict) else None
            if message is not None:
                field_problems = message_problems(message, project)
                problems += [f"{field}: {text}" for field, text in field_problems]
            if problems:
                token_only = all("registration token" in problem for problem in problems)
                self.entry("send", body, 400, problems, token=token, access_token=access_token)
                self.reply(400, google_error(400, "INVALID_ARGUMENT", "; ".join(problems), "INVALID_ARGUMENT" if token_only else None))
                return
            failure = None
            with state.lock:
                failure = state.failures.get(token)
                if failure is not None and failure["times"] > 0:
                    failure["times"] -= 1
                    if failure["times"] == 0:
                        del state.failures[token]
                if failure is None:
                    state.counters["accepted"] += 1
            if failure is not None:
                status, rpc_status, text = ERRORS[failure["error"]]
                headers = [("Retry-After", str(failure["retry_after"]))] if failure.get("retry_after") is not None else []
                self.entry("send", body, status, [], token=token, access_token=access_token)
                self.reply(status, google_error(status, rpc_status, text, failure["error"]), headers)
                return
            name = f"projects/{project}/messages/0:{int(time.time() * 1000)}%{secrets.token_hex(8)}"
            self.entry("send", body, 200, [], token=token, access_token=access_token, name=name)
            self.reply(200, {"name": name})

    return Handler


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # read by listen(), in the constructor


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--public-key", required=True, help="PEM file: the public half of the service account's RSA key")
    parser.add_argument("--client-email", required=True, help="the iss every assertion must carry")
    parser.add_argument("--project-id", required=True)
    parser.add_argument("--key-id", help="the kid an assertion may carry (private_key_id)")
    parser.add_argument("--token-uri", help="the aud every assertion must carry (default http://HOST:PORT/token)")
    parser.add_argument("--expires-in", type=int, default=3599, help="seconds an access token lives")
    parser.add_argument("--log", help="append one JSON line per exchange and send here")
    args = parser.parse_args()

    with open(args.public_key, "rb") as file:
        public_key = serialization.load_pem_public_key(file.read())
    if not isinstance(public_key, rsa.RSAPublicKey):
        raise SystemExit("--public-key must be an RSA public key")
    state = State(args, public_key)
    server = Server((args.host, args.port), handler(state))
    if not args.token_uri:
        state.token_uri = f"http://{args.host}:{server.server_address[1]}/token"
    print(f"READY {server.server_address[1]}", flush=True)
    signal.signal(signal.SIGINT, lambda *_: threading.Thread(target=server.shutdown).start())
    server.serve_forever()


if __name__ == "__main__":
    main()
