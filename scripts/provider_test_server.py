#!/usr/bin/env python3
"""Fake chat and SMS providers for Herald's tests, speaking each service's real wire format.

One HTTP/1.1 server on loopback (keep-alive, so a pooling client behaves as it would with the real
services) serves, by path:

  POST /2010-04-01/Accounts/{AccountSid}/Messages.json   Twilio's Messages API
  POST /sms/json[/...]                                   a generic JSON SMS gateway
  POST /services/...                                     Slack incoming webhooks
  POST /workflows/...                                    Microsoft Teams workflow webhooks
  POST /api/webhooks/{id}/{token}                        Discord webhooks

and checks requests the way those services do: Twilio wants HTTP Basic auth for a known account and
form fields To, From or MessagingServiceSid, and Body; Slack, Teams and Discord check their JSON shapes
and size limits. Each answers as the real service does (Twilio's 201 message resource or its error
JSON with code/message/more_info/status; Slack's "ok" or "no_service"; Teams' 202; Discord's 204 or its
429 with retry_after).

Special recipients and paths:
  Twilio To +15005550001 (Twilio's own test number)   400, code 21211 (invalid To)
  Twilio To +15005550009                              400, code 21614 (not a mobile number)
  JSON to  +15005550001                               422 {"error": "invalid recipient"}
  any webhook path ending in /gone                    Slack 404 no_service, Teams 404, Discord 404 Unknown Webhook
  Discord token "ratelimited"                         429 {"retry_after": 0.25, ...}

Control (not recorded):
  POST /_control/fail  {"prefix": "/2010-04-01/Accounts/AC...", "status": 500, "times": -1, "delay": 0}
      the next `times` requests (-1: all) whose path starts with prefix get `status` (with the provider's
      own error body) after `delay` seconds; status 0 with a delay just delays the normal answer.
  POST /_control/clear

Every provider request is appended to --log as one JSON line: seq, method, path, query, headers
(lower-case names), body, status (the answer given), provider, and for SMS the segment count and
encoding this server computed on its own.

Prints "READY <port>" once listening.
"""

import argparse
import base64
import json
import re
import secrets
import signal
import sys
import threading
import time
import urllib.parse
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

GSM_BASIC = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM_EXTENDED = set("^{}\\[~]|€\f")
# A parent that spawned us from a thread with signals blocked (Swift's Foundation.Process called from a
# cooperative thread) leaves them blocked in the child: SIGTERM would never arrive. Unblock them all.
signal.pthread_sigmask(signal.SIG_SETMASK, [])
signal.signal(signal.SIGTERM, signal.SIG_DFL)

E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")


def sms_segments(text):
    """Segments and encoding as a carrier counts them: GSM-7 (160, or 153 per part; extension characters
    take two septets and never straddle parts) when every character is in GSM 03.38, else UCS-2 (70, or
    67 UTF-16 units per part; surrogate pairs never straddle parts)."""
    if all(c in GSM_BASIC or c in GSM_EXTENDED for c in text):
        widths = [2 if c in GSM_EXTENDED else 1 for c in text]
        single, multi, encoding = 160, 153, "GSM-7"
    else:
        widths = [len(c.encode("utf-16-le")) // 2 for c in text]
        single, multi, encoding = 70, 67, "UCS-2"
    if sum(widths) <= single:
        return 1, encoding
    segments, used = 1, 0
    for w in widths:
        if used + w > multi:
            segments += 1
            used = 0
        used += w
    return segments, encoding


def js_length(text):
    """String length as JavaScript (and so Slack and Discord) counts it: UTF-16 units."""
    return len(text.encode("utf-16-le")) // 2


class State:
    def __init__(self, log_path, accounts, json_auth):
        self.lock = threading.Lock()
        self.log_path = log_path
        self.accounts = accounts
        self.json_auth = json_auth
        self.failures = []
        self.seq = 0

    def record(self, entry):
        with self.lock:
            self.seq += 1
            entry["seq"] = self.seq
            with open(self.log_path, "a", encoding="utf-8") as f:
                f.write(json.dumps(entry, ensure_ascii=False) + "\n")

    def failure_for(self, path):
        with self.lock:
            for rule in self.failures:
                if path.startswith(rule["prefix"]) and rule["times"] != 0:
                    if rule["times"] > 0:
                        rule["times"] -= 1
                    return dict(rule)
        return None


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "provider-test-server/1.0"
    state = None

    def log_message(self, format, *args):
        pass

    # -- plumbing ---------------------------------------------------------------------------------

    def answer(self, status, body=b"", content_type="application/json", headers=None):
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode()
        elif isinstance(body, str):
            body = body.encode()
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        if status != 204:
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if status != 204 and body:
            self.wfile.write(body)
        self.answered = status

    def do_GET(self):
        self.answer(405, {"message": "method not allowed"})

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        parsed = urllib.parse.urlsplit(self.path)
        path = parsed.path
        if path.startswith("/_control/"):
            return self.control(path, raw)
        self.answered = None
        self.extra = {}
        provider = self.provider_for(path)
        body = raw.decode("utf-8", errors="replace")
        rule = self.state.failure_for(path)
        if rule and rule.get("delay"):
            time.sleep(rule["delay"])
        if rule and rule.get("status"):
            self.fail(provider, rule["status"])
        elif provider == "twilio":
            self.twilio(path, raw)
        elif provider == "json":
            self.json_sms(raw)
        elif provider == "slack":
            self.slack(path, raw)
        elif provider == "teams":
            self.teams(path, raw)
        elif provider == "discord":
            self.discord(path, parsed.query, raw)
        else:
            self.answer(404, {"message": "no such endpoint"})
        entry = {
            "method": self.command,
            "path": path,
            "query": parsed.query,
            "headers": {k.lower(): v for k, v in self.headers.items()},
            "body": body,
            "status": self.answered,
            "provider": provider,
        }
        entry.update(self.extra)
        self.state.record(entry)

    def control(self, path, raw):
        if path == "/_control/fail":
            rule = json.loads(raw or b"{}")
            rule.setdefault("times", -1)
            rule.setdefault("delay", 0)
            rule.setdefault("status", 0)
            with self.state.lock:
                self.state.failures.append(rule)
        elif path == "/_control/clear":
            with self.state.lock:
                self.state.failures.clear()
        else:
            return self.answer(404, {"message": "unknown control"})
        self.answer(200, {"ok": True})

    @staticmethod
    def provider_for(path):
        if re.match(r"^/2010-04-01/Accounts/[^/]+/Messages\.json$", path):
            return "twilio"
        if path == "/sms/json" or path.startswith("/sms/json/"):
            return "json"
        if path.startswith("/services/"):
            return "slack"
        if path.startswith("/workflows/"):
            return "teams"
        if path.startswith("/api/webhooks/"):
            return "discord"
        return None

    def fail(self, provider, status):
        if provider == "twilio":
            code = {500: 20500, 503: 20503, 429: 20429}.get(status, status)
            self.answer(status, {"code": code, "message": "Service unavailable" if status >= 500 else "Too Many Requests",
                                 "more_info": f"https://www.twilio.com/docs/errors/{code}", "status": status})
        elif provider == "slack":
            text = {400: "invalid_payload", 403: "action_prohibited", 410: "channel_is_archived", 429: "rate_limited"}.get(status, "rollup_error")
            self.answer(status, text, "text/html", {"Retry-After": "1"} if status == 429 else None)
        elif provider == "discord":
            message = {400: "Invalid Form Body", 401: "Invalid Webhook Token", 429: "You are being rate limited."}.get(status, "Internal Server Error")
            self.answer(status, {"message": message, "code": 0})
        else:
            self.answer(status, {"error": "unavailable"})

    # -- Twilio -----------------------------------------------------------------------------------

    def twilio_error(self, status, code, message, headers=None):
        self.answer(status, {"code": code, "message": message, "more_info": f"https://www.twilio.com/docs/errors/{code}",
                             "status": status}, headers=headers)

    def twilio(self, path, raw):
        sid = path.split("/")[3]
        auth = self.headers.get("Authorization", "")
        user = password = None
        if auth.startswith("Basic "):
            try:
                user, _, password = base64.b64decode(auth[6:]).decode().partition(":")
            except Exception:
                pass
        if user != sid or self.state.accounts.get(sid) != password:
            return self.twilio_error(401, 20003, "Authenticate", {"WWW-Authenticate": 'Basic realm="Twilio API"'})
        if self.headers.get("Content-Type", "").split(";")[0].strip() != "application/x-www-form-urlencoded":
            return self.twilio_error(400, 20001, "Content-Type must be application/x-www-form-urlencoded")
        try:
            form = urllib.parse.parse_qs(raw.decode("ascii"), keep_blank_values=True, strict_parsing=True)
        except (ValueError, UnicodeDecodeError):
            return self.twilio_error(400, 20001, "Malformed form body")
        fields = {k: v[0] for k, v in form.items()}
        self.extra["form"] = fields
        to, sender, service, body = fields.get("To"), fields.get("From"), fields.get("MessagingServiceSid"), fields.get("Body")
        if not to:
            return self.twilio_error(400, 21604, "A 'To' phone number is required.")
        if not sender and not service:
            return self.twilio_error(400, 21603, "A 'From' phone number is required.")
        if not body:
            return self.twilio_error(400, 21602, "Message body is required.")
        if len(body) > 1600:
            return self.twilio_error(400, 21617, "The concatenated message body exceeds the 1600 character limit.")
        if not E164.match(to) or to == "+15005550001":
            return self.twilio_error(400, 21211, f"Invalid 'To' Phone Number: {to}")
        if to == "+15005550009":
            return self.twilio_error(400, 21614, f"'To' number {to} is not a valid mobile number")
        segments, encoding = sms_segments(body)
        self.extra["segments"] = segments
        self.extra["encoding"] = encoding
        message_sid = "SM" + secrets.token_hex(16)
        now = formatdate(usegmt=True)
        self.answer(201, {
            "account_sid": sid, "api_version": "2010-04-01", "body": body, "date_created": now, "date_sent": None,
            "date_updated": now, "direction": "outbound-api", "error_code": None, "error_message": None,
            "from": sender, "messaging_service_sid": service, "num_media": "0", "num_segments": str(segments),
            "price": None, "price_unit": "USD", "sid": message_sid, "status": "accepted" if service and not sender else "queued",
            "subresource_uris": {"media": f"/2010-04-01/Accounts/{sid}/Messages/{message_sid}/Media.json"},
            "to": to, "uri": f"/2010-04-01/Accounts/{sid}/Messages/{message_sid}.json",
        })

    # -- generic JSON gateway ---------------------------------------------------------------------

    def json_sms(self, raw):
        if self.state.json_auth:
            name, value = self.state.json_auth
            if self.headers.get(name) != value:
                return self.answer(401, {"error": "unauthorized"})
        if self.headers.get("Content-Type", "").split(";")[0].strip() != "application/json":
            return self.answer(415, {"error": "expected application/json"})
        try:
            message = json.loads(raw)
        except ValueError:
            return self.answer(400, {"error": "malformed JSON"})
        if not isinstance(message, dict) or not isinstance(message.get("to"), str) or not isinstance(message.get("text"), str):
            return self.answer(400, {"error": "to and text are required strings"})
        if not E164.match(message["to"]) or message["to"] == "+15005550001":
            return self.answer(422, {"error": "invalid recipient"})
        segments, encoding = sms_segments(message["text"])
        self.extra["segments"] = segments
        self.extra["encoding"] = encoding
        self.answer(202, {"id": "msg_" + secrets.token_hex(8), "status": "accepted", "segments": segments})

    # -- Slack ------------------------------------------------------------------------------------

    def slack(self, path, raw):
        if path.endswith("/gone"):
            return self.answer(404, "no_service", "text/html")
        if self.headers.get("Content-Type", "").split(";")[0].strip() != "application/json":
            return self.answer(400, "invalid_payload", "text/html")
        try:
            message = json.loads(raw)
        except ValueError:
            return self.answer(400, "invalid_payload", "text/html")
        if not isinstance(message, dict) or (not message.get("text") and not message.get("blocks")):
            return self.answer(400, "no_text", "text/html")
        blocks = message.get("blocks") or []
        if len(blocks) > 50:
            return self.answer(400, "invalid_blocks", "text/html")
        for block in blocks:
            text = (block.get("text") or {}).get("text", "")
            kind = block.get("type")
            if kind == "header" and (block["text"].get("type") != "plain_text" or js_length(text) > 150):
                return self.answer(400, "invalid_blocks", "text/html")
            if kind == "section" and (not text or js_length(text) > 3000):
                return self.answer(400, "invalid_blocks", "text/html")
            if kind not in ("header", "section"):
                return self.answer(400, "invalid_blocks", "text/html")
        self.answer(200, "ok", "text/html")

    # -- Teams ------------------------------------------------------------------------------------

    def teams(self, path, raw):
        if path.endswith("/gone"):
            return self.answer(404, {"error": {"code": "WorkflowNotFound", "message": "The workflow could not be found."}})
        try:
            message = json.loads(raw)
        except ValueError:
            return self.answer(400, {"error": {"code": "InvalidRequestContent", "message": "The input body is not valid JSON."}})
        attachments = message.get("attachments") if isinstance(message, dict) else None
        valid = (message.get("type") == "message" and isinstance(attachments, list) and len(attachments) == 1
                 and attachments[0].get("contentType") == "application/vnd.microsoft.card.adaptive"
                 and (attachments[0].get("content") or {}).get("type") == "AdaptiveCard")
        if not valid:
            return self.answer(400, {"error": {"code": "InvalidRequestContent", "message": "Expected a message with one Adaptive Card."}})
        if len(raw) > 28 * 1024:
            return self.answer(413, {"error": {"code": "MessageTooLarge", "message": "The card is larger than 28 KB."}})
        self.answer(202, b"", "text/plain")

    # -- Discord ----------------------------------------------------------------------------------

    def discord(self, path, query, raw):
        parts = path.split("/")
        token = parts[4] if len(parts) > 4 else ""
        if path.endswith("/gone"):
            return self.answer(404, {"message": "Unknown Webhook", "code": 10015})
        if token == "ratelimited":
            return self.answer(429, {"message": "You are being rate limited.", "retry_after": 0.25, "global": False},
                               headers={"Retry-After": "1", "X-RateLimit-Limit": "5", "X-RateLimit-Remaining": "0",
                                        "X-RateLimit-Reset-After": "0.25", "X-RateLimit-Scope": "shared"})
        try:
            message = json.loads(raw)
        except ValueError:
            return self.answer(400, {"message": "Cannot send an empty message", "code": 50006})
        content = message.get("content") or ""
        embeds = message.get("embeds") or []
        if not content and not embeds:
            return self.answer(400, {"message": "Cannot send an empty message", "code": 50006})
        too_long = js_length(content) > 2000 or any(
            js_length(e.get("title") or "") > 256 or js_length(e.get("description") or "") > 4096 for e in embeds)
        if too_long:
            return self.answer(400, {"code": 50035, "message": "Invalid Form Body", "errors": {"content": {"_errors": [
                {"code": "BASE_TYPE_MAX_LENGTH", "message": "Must be 2000 or fewer in length."}]}}})
        if "wait=true" in query:
            return self.answer(200, {"id": str(secrets.randbits(60)), "content": content, "embeds": embeds})
        self.answer(204)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--log", required=True)
    parser.add_argument("--twilio-account", action="append", default=[], help="SID:TOKEN of an account that may send")
    parser.add_argument("--json-auth", help="'Header: value' the JSON gateway requires")
    args = parser.parse_args()
    accounts = dict(a.split(":", 1) for a in args.twilio_account)
    json_auth = None
    if args.json_auth:
        name, _, value = args.json_auth.partition(":")
        json_auth = (name.strip(), value.strip())
    open(args.log, "a").close()
    Handler.state = State(args.log, accounts, json_auth)
    server = ThreadingHTTPServer((args.host, args.port), Handler)
    server.daemon_threads = True
    print(f"READY {server.server_address[1]}", flush=True)
    try:
        server.serve_forever(poll_interval=0.1)
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    sys.exit(main())
