#!/usr/bin/env python3
"""Fake email provider APIs for Herald's tests, speaking each service's real wire format.

One HTTP/1.1 server on loopback (keep-alive, so a pooling client behaves as it would with the real
services) serves, by path:

  POST /v2/email/outbound-emails     Amazon SES API v2 SendEmail (Content.Raw only), AWS Signature Version 4
  POST /v3/mail/send                 Twilio SendGrid v3 mail/send, Authorization: Bearer <key>
  POST /email                        Postmark's single-message API, X-Postmark-Server-Token
  POST /v3/{domain}/messages.mime    Mailgun's MIME API, HTTP Basic api:<key>, multipart/form-data

and checks requests the way those services do. SES: the SigV4 signature is recomputed with botocore's own
signer (`pip install botocore`) from the received method, the Host header as sent (so the client signs host
exactly as it sends it, with :port when the port is not the scheme's default), the path and query, the
headers named in SignedHeaders (all of them; host and x-amz-date must be among them, and x-amz-content-sha256
when it is sent, which must then be the hex SHA-256 of the body) and the body; X-Amz-Date may be at most 5
minutes off; the credential scope must be <date of X-Amz-Date>/<--ses-region>/ses/aws4_request.
Content.Raw.Data is strict base64 of the whole MIME message, which is stored exactly as decoded; recipients
are Destination's To/Cc/Bcc addresses, or without Destination the message's To, Cc and Bcc headers.
SendGrid: the JSON shape (from, personalizations[].to/cc/bcc, subject, content with text/plain before
text/html, reply_to, headers without the names SendGrid reserves, custom_args, attachments), every problem
listed at once as SendGrid does. Postmark: From, To/Cc/Bcc (50 recipients at most), TextBody or HtmlBody,
Headers [{Name, Value}], Metadata, MessageStream, Attachments [{Name, Content, ContentType}]. Mailgun:
fields `to` (repeatable, comma-separated) and the file field `message` (a part with a filename), plus
optional v:NAME variables and o:/h:/t: options.

Each answers as the real service does:
  SES       200 {"MessageId": ...}; errors with the HTTP status, header x-amzn-ErrorType: <Code> and body
            {"message": ...}: 403 MissingAuthenticationTokenException, IncompleteSignatureException,
            InvalidClientTokenId (unknown access key), SignatureDoesNotMatch (the message carries the canonical
            request and string to sign this server computed, as AWS's does), InvalidSignatureException
            (X-Amz-Date more than 5 minutes off); 400 BadRequestException (malformed), MessageRejected;
            404 NotFoundException (unknown configuration set, when --ses-configuration-set is given);
            429 TooManyRequestsException; 500 InternalFailure; 503 ServiceUnavailable.
  SendGrid  202, empty body, X-Message-Id; errors {"errors": [{"message", "field", "help": null}]}: 400, 401
            (missing or wrong key), 403, 413 (over 30 MB), 429 (with X-RateLimit-* headers), 500, 503.
  Postmark  200 {"To", "SubmittedAt", "MessageID", "ErrorCode": 0, "Message": "OK"}; errors {"ErrorCode",
            "Message"}: 401/10 (missing or wrong token), 422/300 (invalid email request), 422/402 (invalid
            JSON), 422/403 (incompatible JSON: a field of the wrong type), 422/406 (inactive recipient),
            422/409 (JSON required), 422/1235 (unknown message stream, when --postmark-stream is given),
            429/429, 500/1 (not a documented code: go by the HTTP status), 503/100 (maintenance).
  Mailgun   200 {"id": "<message-id>", "message": "Queued. Thank you."} (the message's own Message-ID when it
            has one); 401 plain-text "Forbidden"; 404 {"message": "Domain not found: ..."}; 400, 413, 429,
            500, 503 {"message": ...}.

Special recipients (the local part before any +tag, any domain), for errors without failure injection:
  reject@     SES 400 MessageRejected; SendGrid 400 (not a valid address); Postmark 422/300; Mailgun 400
  inactive@   Postmark 422/406 (the others accept it: they suppress later, not when sending)
  ratelimit@  429 from every provider
  error@      500 from every provider

Control (not recorded, never delayed):
  POST /_control/fail  {"prefix": "/v3/mail/send", "status": 503, "times": -1, "delay": 0}
      the next `times` requests (-1: all) whose path starts with prefix get `status` (with that provider's
      own error body; optional "code" sets SES's error type or Postmark's ErrorCode, optional "message" the
      text) after `delay` seconds, before any other check; status 0 with a delay just delays the answer.
  POST /_control/clear          drops every failure rule
  POST /_control/delay {"ms": 50}   changes --delay-ms
  POST /_control/reset_stats    zeroes the counters
  GET  /_control/stats  {"accepted": {provider: n}, "refused": {provider: n}, "statuses": {provider:
      {"202": n}}, "seq": last log seq}; refused counts every answer that was not a success.

Every accepted message is appended to --log as one JSON line, written before the answer is sent (so a client
that got its answer finds its message logged): seq, time, provider, method, path, headers (lower-case names,
repeated ones joined with ", "), status, message_id (what was answered), from, recipients (bare addresses),
custom (SES EmailTags, SendGrid custom_args with the personalizations' merged in, Postmark Metadata, Mailgun
v: variables, each as a name -> value object), and then
  ses       raw_mime, configuration_set, tags ([{Name, Value}] as sent)
  mailgun   raw_mime, domain, options (o:, h:, t: fields, name -> list of values)
  sendgrid  structured (the request body), custom_args
  postmark  structured (the request body), metadata, message_stream
raw_mime is the message text exactly as received; when it is not valid UTF-8 raw_mime_base64 holds the
exact bytes as well (and raw_mime has replacement characters). --refused-log, when given, gets the same kind
of line for every refused request, with status and error.

--delay-ms (and /_control/delay) delays every provider answer, not control answers.

Prints "READY <port>" once listening.
"""

import argparse
import base64
import binascii
import datetime
import hashlib
import hmac
import json
import os
import re
import secrets
import signal
import sys
import threading
import time
import traceback
import urllib.parse
import uuid
from email.parser import BytesHeaderParser
from email.policy import compat32
from email.utils import getaddresses, parseaddr
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest, HTTPHeaders
from botocore.credentials import Credentials

# A parent that spawned us from a thread with signals blocked (Swift's Foundation.Process called from a
# cooperative thread) leaves them blocked in the child: SIGTERM would never arrive. Unblock them all.
signal.pthread_sigmask(signal.SIG_SETMASK, [])
signal.signal(signal.SIGTERM, signal.SIG_DFL)

PROVIDERS = ("ses", "sendgrid", "postmark", "mailgun")
SES_PATH = "/v2/email/outbound-emails"
SENDGRID_PATH = "/v3/mail/send"
POSTMARK_PATH = "/email"
MAILGUN_PATH = re.compile(r"^/v3/([^/]+)/messages\.mime$")

# Each service's own limit on one request.
MAX_BYTES = {"ses": 40 * 1024 * 1024, "sendgrid": 30 * 1024 * 1024, "postmark": 10 * 1024 * 1024,
             "mailgun": 25 * 1024 * 1024}
HARD_LIMIT = 128 * 1024 * 1024

ADDRESS = re.compile(
    r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$")
SES_TAG = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
AMZ_DATE = "%Y%m%dT%H%M%SZ"
SENDGRID_RESERVED = ["x-sg-id", "x-sg-eid", "received", "dkim-signature", "Content-Type", "Content-Transfer-Encoding",
                     "To", "From", "Subject", "Reply-To", "CC", "BCC"]


def valid_address(address):
    return isinstance(address, str) and len(address) <= 320 and bool(ADDRESS.match(address))


def special(address):
    """The special behaviour a recipient asks for: its local part before any +tag, lower-cased."""
    return address.split("@", 1)[0].split("+", 1)[0].lower() if isinstance(address, str) else ""


def type_name(value):
    return {dict: "object", list: "array", str: "string", bool: "boolean", type(None): "null",
            int: "integer", float: "number"}.get(type(value), "unknown")


def mime_text(raw):
    """raw_mime (and raw_mime_base64 when the bytes are not UTF-8) for a log entry."""
    try:
        return {"raw_mime": raw.decode("utf-8")}
    except UnicodeDecodeError:
        return {"raw_mime": raw.decode("utf-8", errors="replace"), "raw_mime_base64": base64.b64encode(raw).decode()}


def strict_b64decode(text):
    if not isinstance(text, str):
        raise ValueError("not a string")
    return base64.b64decode(text.encode("ascii"), validate=True)


def write_line(fd, entry):
    """One JSON line, in one write() where the kernel allows, so a reader rarely sees part of one (a reader should
    still leave a last line without its newline for later)."""
    data = (json.dumps(entry, ensure_ascii=False) + "\n").encode("utf-8")
    while data:
        data = data[os.write(fd, data):]


class Refused(Exception):
    """A refusal: the provider's HTTP status and its own error details (formatted by Handler.error)."""

    def __init__(self, status, message=None, code=None, field=None, errors=None, headers=None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code
        self.field = field
        self.errors = errors
        self.headers = headers


class SignedHeadersSigV4(SigV4Auth):
    """botocore's SigV4 signer over exactly the headers the client named in SignedHeaders (botocore itself
    would leave out user-agent and a few others, which AWS accepts being signed)."""

    def __init__(self, credentials, service_name, region_name, signed):
        super().__init__(credentials, service_name, region_name)
        self.signed = signed

    def headers_to_sign(self, request):
        header_map = HTTPHeaders()
        for name in self.signed:
            for value in request.headers.get_all(name) or []:
                header_map[name] = value
        return header_map


class State:
    def __init__(self, args):
        self.lock = threading.Lock()
        flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT
        self.log = os.open(args.log, flags, 0o644)
        self.refused_log = os.open(args.refused_log, flags, 0o644) if args.refused_log else None
        self.args = args
        self.delay = args.delay_ms / 1000.0
        self.failures = []
        self.seq = 0
        self.reset_stats()

    def reset_stats(self):
        self.accepted = {p: 0 for p in PROVIDERS}
        self.refused = {p: 0 for p in PROVIDERS}
        self.statuses = {p: {} for p in PROVIDERS}

    def count(self, provider, status, entry=None, refused_entry=None):
        with self.lock:
            key = str(status)
            self.statuses[provider][key] = self.statuses[provider].get(key, 0) + 1
            if entry is not None:
                self.accepted[provider] += 1
                self.seq += 1
                write_line(self.log, {"seq": self.seq, **entry})
            else:
                self.refused[provider] += 1
                if self.refused_log is not None and refused_entry is not None:
                    write_line(self.refused_log, refused_entry)

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
    server_version = "email-api-test-server/1.0"
    disable_nagle_algorithm = True
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
        if content_type and (body or status != 202):
            self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if body:
            self.wfile.write(body)

    def read_body(self):
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks, total = [], 0
            while True:
                line = self.rfile.readline(65537)
                size = int(line.split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                total += size
                if total > HARD_LIMIT:
                    raise ValueError("body too large")
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        if length < 0 or length > HARD_LIMIT:
            raise ValueError("body too large")
        return self.rfile.read(length) if length else b""

    def lower_headers(self):
        headers = {}
        for name, value in self.headers.items():
            name = name.lower()
            headers[name] = headers[name] + ", " + value if name in headers else value
        return headers

    @staticmethod
    def provider_for(path):
        if path == SES_PATH:
            return "ses"
        if path == SENDGRID_PATH:
            return "sendgrid"
        if path == POSTMARK_PATH:
            return "postmark"
        if MAILGUN_PATH.match(path):
            return "mailgun"
        return None

    def do_GET(self):
        path = urllib.parse.urlsplit(self.path).path
        if path == "/_control/stats":
            with self.state.lock:
                stats = {"accepted": dict(self.state.accepted), "refused": dict(self.state.refused),
                         "statuses": {p: dict(s) for p, s in self.state.statuses.items()}, "seq": self.state.seq}
            return self.answer(200, stats)
        self.answer(404 if self.provider_for(path) is None else 405, {"message": "method not allowed"})

    def do_POST(self):
        try:
            raw = self.read_body()
        except ValueError:
            self.close_connection = True
            return self.answer(413, {"message": "request too large"})
        parsed = urllib.parse.urlsplit(self.path)
        path = parsed.path
        if path.startswith("/_control/"):
            return self.control(path, raw)
        provider = self.provider_for(path)
        if provider is None:
            return self.answer(404, {"message": "no such endpoint"})
        if self.state.delay:
            time.sleep(self.state.delay)
        entry = {"time": round(time.time(), 6), "provider": provider, "method": self.command, "path": path,
                 "headers": self.lower_headers()}
        try:
            rule = self.state.failure_for(path)
            if rule and rule.get("delay"):
                time.sleep(rule["delay"])
            if rule and rule.get("status"):
                raise Refused(int(rule["status"]), message=rule.get("message"), code=rule.get("code"))
            if len(raw) > self.state.args.max_message_bytes.get(provider, MAX_BYTES[provider]):
                raise self.too_large(provider)
            status, body, headers, content_type, details = getattr(self, provider)(path, raw)
        except Refused as refusal:
            status, body, headers, content_type = self.error(provider, refusal)
            refused_entry = None
            if self.state.refused_log is not None:
                refused_entry = {**entry, "status": status, "error": body if isinstance(body, (dict, str)) else None}
            self.state.count(provider, status, refused_entry=refused_entry)
            return self.answer(status, body, content_type, headers)
        except Exception:
            traceback.print_exc(file=sys.stderr)
            status, body, headers, content_type = self.error(provider, Refused(500))
            self.state.count(provider, status)
            return self.answer(status, body, content_type, headers)
        # Logged before the answer, so a client that got its answer finds its message in the log.
        entry["status"] = status
        entry.update(details)
        self.state.count(provider, status, entry=entry)
        self.answer(status, body, content_type, headers)

    def control(self, path, raw):
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            return self.answer(400, {"message": "malformed JSON"})
        if path == "/_control/fail":
            rule = dict(body)
            rule.setdefault("prefix", "/")
            rule.setdefault("times", -1)
            rule.setdefault("delay", 0)
            rule.setdefault("status", 0)
            with self.state.lock:
                self.state.failures.append(rule)
        elif path == "/_control/clear":
            with self.state.lock:
                self.state.failures.clear()
        elif path == "/_control/delay":
            self.state.delay = float(body.get("ms", 0)) / 1000.0
        elif path == "/_control/reset_stats":
            with self.state.lock:
                self.state.reset_stats()
        else:
            return self.answer(404, {"message": "unknown control"})
        self.answer(200, {"ok": True})

    # -- error bodies, each provider's own ------------------------------------------------------

    def error(self, provider, refusal):
        """(status, body, headers, content type) for a refusal, as `provider` words it."""
        status = refusal.status
        headers = dict(refusal.headers or {})
        if provider == "ses":
            code, message = {
                400: ("BadRequestException", "Bad Request"),
                403: ("AccessDeniedException", "User is not authorized to perform this action."),
                404: ("NotFoundException", "Not Found"),
                413: ("BadRequestException", "Request entity too large"),
                429: ("TooManyRequestsException", "Too Many Requests"),
                500: ("InternalFailure", "The request processing has failed because of an unknown error, exception or failure."),
                503: ("ServiceUnavailable", "Service is unavailable. Please try again later."),
            }.get(status, ("InternalFailure" if status >= 500 else "BadRequestException", "Error"))
            code = refusal.code or code
            headers["x-amzn-ErrorType"] = str(code)
            headers["x-amzn-RequestId"] = str(uuid.uuid4())
            return status, {"message": refusal.message or message}, headers, "application/json"
        if provider == "sendgrid":
            message = {
                400: "Bad Request", 401: "The provided authorization grant is invalid, expired, or revoked",
                403: "access forbidden", 404: "not found", 413: "The total size of your email must be less than 30MB.",
                429: "too many requests", 500: "internal error", 503: "service unavailable",
            }.get(status, "error")
            if status == 429:
                headers.setdefault("X-RateLimit-Limit", "600")
                headers.setdefault("X-RateLimit-Remaining", "0")
                headers.setdefault("X-RateLimit-Reset", str(int(time.time()) + 1))
            errors = refusal.errors or [{"message": refusal.message or message, "field": refusal.field, "help": None}]
            return status, {"errors": errors}, headers, "application/json"
        if provider == "postmark":
            code, message = {
                401: (10, "The Server Token you provided in the X-Postmark-Server-Token request header was invalid. "
                          "Please verify that you are using a valid token."),
                422: (300, "Invalid email request"),
                429: (429, "Rate Limit Exceeded"),
                500: (1, "Internal Server Error"),
                503: (100, "Maintenance"),
            }.get(status, (1, "Error"))
            code = refusal.code if refusal.code is not None else code
            return status, {"ErrorCode": int(code), "Message": refusal.message or message}, headers, "application/json"
        # mailgun
        if status == 401:
            return 401, refusal.message or "Forbidden", headers, "text/plain; charset=utf-8"
        message = {400: "Bad Request", 404: "Not Found", 413: "Request Entity Too Large", 429: "Too many requests",
                   500: "Internal Server Error", 503: "Service Unavailable"}.get(status, "Error")
        return status, {"message": refusal.message or message}, headers, "application/json"

    def too_large(self, provider):
        limit = self.state.args.max_message_bytes.get(provider, MAX_BYTES[provider])
        if provider == "ses":
            return Refused(400, f"Message length is more than {limit} bytes long.", code="MessageRejected")
        if provider == "sendgrid":
            size = "30MB" if limit == MAX_BYTES["sendgrid"] else f"{limit} bytes"
            return Refused(413, f"The total size of your email must be less than {size}.")
        if provider == "postmark":
            return Refused(422, f"The message size exceeds the limit of {limit} bytes.", code=300)
        return Refused(413, f"Message size exceeds the limit of {limit} bytes")

    @staticmethod
    def special_refusal(provider, recipients):
        """The refusal a special recipient asks for, if any."""
        for address in recipients:
            kind = special(address)
            if kind == "ratelimit":
                return Refused(429, "Maximum sending rate exceeded." if provider == "ses" else None)
            if kind == "error":
                return Refused(500)
        return None

    # -- Amazon SES v2 ------------------------------------------------------------------------------

    def ses_refuse(self, status, code, message):
        return Refused(status, message, code=code)

    def ses_check_signature(self, raw):
        args = self.state.args
        auth = self.headers.get("Authorization")
        if not auth:
            raise self.ses_refuse(403, "MissingAuthenticationTokenException", "Missing Authentication Token")
        algorithm, _, rest = auth.strip().partition(" ")
        if algorithm != "AWS4-HMAC-SHA256":
            raise self.ses_refuse(403, "IncompleteSignatureException",
                                  f"Unsupported AWS 'algorithm': '{algorithm}' (only AWS4-HMAC-SHA256).")
        fields = {}
        for part in rest.split(","):
            name, eq, value = part.strip().partition("=")
            if eq:
                fields[name.strip()] = value.strip()
        missing = [n for n in ("Credential", "SignedHeaders", "Signature") if n not in fields]
        if missing:
            raise self.ses_refuse(403, "IncompleteSignatureException",
                                  f"Authorization header requires '{missing[0]}' parameter. Authorization={auth}")
        scope = fields["Credential"].split("/")
        if len(scope) != 5:
            raise self.ses_refuse(403, "IncompleteSignatureException",
                                  f"Authorization header requires a Credential of the form "
                                  f"AKID/yyyymmdd/region/service/aws4_request, not '{fields['Credential']}'.")
        access_key, scope_date, region, service, terminator = scope
        if not hmac.compare_digest(access_key.encode(), args.ses_access_key.encode()):
            raise self.ses_refuse(403, "InvalidClientTokenId", "The security token included in the request is invalid.")
        amz_date = self.headers.get("X-Amz-Date")
        if not amz_date:
            raise self.ses_refuse(403, "IncompleteSignatureException",
                                  "Authorization header requires existence of a 'X-Amz-Date' header.")
        try:
            when = datetime.datetime.strptime(amz_date, AMZ_DATE).replace(tzinfo=datetime.timezone.utc)
        except ValueError:
            raise self.ses_refuse(403, "IncompleteSignatureException",
                                  f"X-Amz-Date must be in the ISO8601 basic format yyyyMMdd'T'HHmmss'Z', not '{amz_date}'.")
        now = datetime.datetime.now(datetime.timezone.utc)
        skew = datetime.timedelta(seconds=args.ses_max_skew)
        fmt = lambda d: d.strftime(AMZ_DATE)
        if when < now - skew:
            raise self.ses_refuse(403, "InvalidSignatureException",
                                  f"Signature expired: {amz_date} is now earlier than {fmt(now - skew)} "
                                  f"({fmt(now)} - {args.ses_max_skew // 60} min.)")
        if when > now + skew:
            raise self.ses_refuse(403, "InvalidSignatureException",
                                  f"Signature not yet current: {amz_date} is still later than {fmt(now + skew)} "
                                  f"({fmt(now)} + {args.ses_max_skew // 60} min.)")
        if scope_date != amz_date[:8]:
            raise self.ses_refuse(403, "SignatureDoesNotMatch",
                                  f"Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date "
                                  f"from HTTP: '{scope_date}' != '{amz_date[:8]}', from '{amz_date}'.")
        if region != args.ses_region:
            raise self.ses_refuse(403, "SignatureDoesNotMatch",
                                  f"Credential should be scoped to a valid region, not '{region}'. ")
        if service != "ses":
            raise self.ses_refuse(403, "SignatureDoesNotMatch",
                                  f"Credential should be scoped to correct service: 'ses'. ")
        if terminator != "aws4_request":
            raise self.ses_refuse(403, "SignatureDoesNotMatch",
                                  f"Credential should be scoped with a valid terminator: 'aws4_request', not '{terminator}'. ")
        signed = fields["SignedHeaders"].split(";")
        for required in ("host", "x-amz-date"):
            if required not in signed:
                raise self.ses_refuse(403, "SignatureDoesNotMatch" if required != "host" else "IncompleteSignatureException",
                                      f"'{required if required != 'host' else 'Host'}' must be a 'SignedHeader' in the AWS Authorization.")
        sent_hash = self.headers.get("X-Amz-Content-Sha256")
        if sent_hash is not None:
            if "x-amz-content-sha256" not in signed:
                raise self.ses_refuse(403, "SignatureDoesNotMatch",
                                      "'x-amz-content-sha256' must be a 'SignedHeader' in the AWS Authorization when it is sent.")
            if sent_hash.strip() != hashlib.sha256(raw).hexdigest():
                raise self.ses_refuse(403, "SignatureDoesNotMatch",
                                      "The provided 'x-amz-content-sha256' header does not match what was computed "
                                      f"(the hex SHA-256 of the body is {hashlib.sha256(raw).hexdigest()}).")
        host = self.headers.get("Host")
        if not host:
            raise self.ses_refuse(400, "BadRequestException", "A Host header is required.")
        for name in signed:
            if name != name.lower() or not name or self.headers.get(name) is None:
                raise self.ses_refuse(403, "SignatureDoesNotMatch",
                                      f"The signed header '{name}' is not in the request (SignedHeaders must name "
                                      f"headers sent, lower-case, separated by ';').")
        headers = HTTPHeaders()
        for name in signed:
            for value in self.headers.get_all(name):
                headers[name] = value
        request = AWSRequest(method=self.command, url=f"http://{host}{self.path}", data=raw)
        request.headers = headers
        request.context["timestamp"] = amz_date
        signer = SignedHeadersSigV4(Credentials(args.ses_access_key, args.ses_secret_key), "ses", args.ses_region, signed)
        canonical = signer.canonical_request(request)
        string_to_sign = signer.string_to_sign(request, canonical)
        expected = signer.signature(string_to_sign, request)
        signed_list = signer.signed_headers(signer.headers_to_sign(request))
        if signed_list != fields["SignedHeaders"]:
            raise self.ses_refuse(403, "SignatureDoesNotMatch",
                                  f"SignedHeaders must be lower-case, sorted and without duplicates: "
                                  f"'{signed_list}', not '{fields['SignedHeaders']}'.")
        if not hmac.compare_digest(expected, fields["Signature"]):
            raise self.ses_refuse(403, "SignatureDoesNotMatch",
                                  "The request signature we calculated does not match the signature you provided. Check "
                                  "your AWS Secret Access Key and signing method. Consult the service documentation for "
                                  f"details.\n\nThe Canonical String for this request should have been\n'{canonical}'\n\n"
                                  f"The String-to-Sign should have been\n'{string_to_sign}'\n")

    def ses(self, path, raw):
        self.ses_check_signature(raw)
        bad = lambda message: self.ses_refuse(400, "BadRequestException", message)
        try:
            request = json.loads(raw)
        except ValueError:
            raise bad("Could not parse the request body as JSON.")
        if not isinstance(request, dict):
            raise bad("The request body must be a JSON object.")
        content = request.get("Content")
        if not isinstance(content, dict):
            raise bad("Content is required.")
        kinds = [k for k in ("Simple", "Raw", "Template") if content.get(k) is not None]
        if len(kinds) != 1:
            raise bad("Exactly one of Content.Simple, Content.Raw and Content.Template must be given.")
        if kinds[0] != "Raw":
            raise bad(f"This test server takes Content.Raw only, not Content.{kinds[0]}.")
        raw_content = content["Raw"]
        if not isinstance(raw_content, dict) or not isinstance(raw_content.get("Data"), str) or not raw_content["Data"]:
            raise bad("Content.Raw.Data is required: the base64 of the whole MIME message.")
        try:
            mime = strict_b64decode(raw_content["Data"])
        except (ValueError, binascii.Error):
            raise bad("Content.Raw.Data is not valid base64.")
        if len(mime) > self.state.args.max_message_bytes.get("ses", MAX_BYTES["ses"]):
            raise self.too_large("ses")
        headers = BytesHeaderParser(policy=compat32).parsebytes(mime)
        if b"\n\n" not in mime.replace(b"\r\n", b"\n") and not len(headers):
            raise self.ses_refuse(400, "MessageRejected", "The message has no header section.")
        sender = request.get("FromEmailAddress")
        if sender is not None and not isinstance(sender, str):
            raise bad("FromEmailAddress must be a string.")
        if not sender:
            sender = headers.get("From")
            if not sender:
                raise self.ses_refuse(400, "MessageRejected", "Missing required header 'From'.")
        if not valid_address(parseaddr(sender)[1]):
            raise bad(f"Illegal address: {sender}")
        destination = request.get("Destination")
        recipients = []
        if destination is not None:
            if not isinstance(destination, dict):
                raise bad("Destination must be an object.")
            for kind in ("ToAddresses", "CcAddresses", "BccAddresses"):
                addresses = destination.get(kind, [])
                if not isinstance(addresses, list) or not all(isinstance(a, str) for a in addresses):
                    raise bad(f"Destination.{kind} must be a list of strings.")
                recipients += addresses
        else:
            recipients = [f"{name} <{address}>" if name else address for name, address in getaddresses(
                headers.get_all("To", []) + headers.get_all("Cc", []) + headers.get_all("Bcc", []))]
        if not recipients:
            raise bad("No recipients: give Destination or To, Cc or Bcc headers.")
        if len(recipients) > 50:
            raise bad("Recipient count exceeds 50.")
        addresses = []
        for recipient in recipients:
            address = parseaddr(recipient)[1]
            if not valid_address(address):
                raise bad(f"Illegal address: {recipient}")
            addresses.append(address)
        tags = request.get("EmailTags", [])
        if not isinstance(tags, list):
            raise bad("EmailTags must be a list.")
        custom = {}
        for tag in tags:
            if not isinstance(tag, dict) or not isinstance(tag.get("Name"), str) or not isinstance(tag.get("Value"), str):
                raise bad("Each of EmailTags must be an object with a string Name and Value.")
            for part in ("Name", "Value"):
                if not SES_TAG.match(tag[part]):
                    raise bad(f"Invalid tag {part.lower()} <{tag[part]}>: only alphanumeric ASCII characters, '_', "
                              "and '-' are allowed, at most 256 of them.")
            custom[tag["Name"]] = tag["Value"]
        configuration_set = request.get("ConfigurationSetName")
        if configuration_set is not None:
            if not isinstance(configuration_set, str) or not configuration_set:
                raise bad("ConfigurationSetName must be a non-empty string.")
            known = self.state.args.ses_configuration_set
            if known and configuration_set not in known:
                raise self.ses_refuse(404, "NotFoundException", f"Configuration set <{configuration_set}> does not exist.")
        for address in addresses:
            if special(address) == "reject":
                raise self.ses_refuse(400, "MessageRejected",
                                      f"Email address is not verified. The following identities failed the check in "
                                      f"region {self.state.args.ses_region.upper()}: {address}")
        refusal = self.special_refusal("ses", addresses)
        if refusal:
            raise refusal
        message_id = f"0100{int(time.time() * 1000):012x}-{uuid.uuid4()}-000000"
        details = {"message_id": message_id, "from": sender, "recipients": addresses, "custom": custom,
                   **mime_text(mime), "configuration_set": configuration_set, "tags": tags}
        return 200, {"MessageId": message_id}, {"x-amzn-RequestId": str(uuid.uuid4())}, "application/json", details

    # -- SendGrid -----------------------------------------------------------------------------------

    def sendgrid(self, path, raw):
        auth = self.headers.get("Authorization")
        if not auth:
            raise Refused(401, "authorization required")
        scheme, _, token = auth.partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(token.strip().encode(), self.state.args.sendgrid_key.encode()):
            raise Refused(401)
        if self.headers.get("Content-Type", "").split(";")[0].strip().lower() != "application/json":
            raise Refused(400, "Content-Type should be application/json.")
        try:
            mail = json.loads(raw)
        except ValueError:
            raise Refused(400, "Bad Request")
        if not isinstance(mail, dict):
            raise Refused(400, "Bad Request")
        errors = []

        def problem(message, field):
            errors.append({"message": message, "field": field, "help": None})

        def check_strings(value, field):
            if value is None:
                return {}
            if not isinstance(value, dict):
                problem(f"Invalid type. Expected: object, given: {type_name(value)}.", field)
                return {}
            for name, item in value.items():
                if not isinstance(item, str):
                    problem(f"Invalid type. Expected: string, given: {type_name(item)}.", f"{field}.{name}")
            return value

        def check_headers(value, field):
            headers = check_strings(value, field)
            reserved = {n.lower() for n in SENDGRID_RESERVED}
            if any(name.lower() in reserved for name in headers):
                problem("The following header names are reserved and cannot be used: " + ", ".join(SENDGRID_RESERVED), field)

        sender = mail.get("from")
        if not isinstance(sender, dict) or "email" not in sender:
            problem("The from object must be provided for every email send. It is an object that requires the email "
                    "parameter, but may also contain a name parameter.", "from")
        elif not valid_address(sender.get("email")):
            problem("The from email does not contain a valid address.", "from.email")
        reply_to = mail.get("reply_to")
        if reply_to is not None and (not isinstance(reply_to, dict) or not valid_address(reply_to.get("email"))):
            problem("The reply_to email does not contain a valid address.", "reply_to.email")
        personalizations = mail.get("personalizations")
        addresses, fields, custom = [], [], {}
        custom.update(check_strings(mail.get("custom_args"), "custom_args"))
        if not isinstance(personalizations, list) or not personalizations:
            problem("The personalizations field is required and must have at least one personalization.", "personalizations")
            personalizations = []
        elif len(personalizations) > 1000:
            problem("The personalizations field must have no more than 1000 personalizations.", "personalizations")
        every_subject = bool(personalizations)
        for i, personalization in enumerate(personalizations):
            if not isinstance(personalization, dict):
                problem(f"Invalid type. Expected: object, given: {type_name(personalization)}.", f"personalizations.{i}")
                every_subject = False
                continue
            if not isinstance(personalization.get("subject"), str) or not personalization["subject"]:
                every_subject = False
            seen = set()
            to = personalization.get("to")
            if not isinstance(to, list) or not to:
                problem("The to array is required for all personalization objects, and must have at least one email "
                        "object with a valid email address.", f"personalizations.{i}.to")
            for kind in ("to", "cc", "bcc"):
                entries = personalization.get(kind)
                if entries is None:
                    continue
                if not isinstance(entries, list):
                    problem(f"Invalid type. Expected: array, given: {type_name(entries)}.", f"personalizations.{i}.{kind}")
                    continue
                for j, item in enumerate(entries):
                    email = item.get("email") if isinstance(item, dict) else None
                    if not valid_address(email):
                        problem("Does not contain a valid address.", f"personalizations.{i}.{kind}.{j}.email")
                        continue
                    if email.lower() in seen:
                        problem("Each email address in the personalization block should be unique between to, cc, and "
                                f"bcc. We found the first duplicate instance of [{email}] in the "
                                f"personalizations.{i}.{kind} field.", f"personalizations.{i}.{kind}")
                    seen.add(email.lower())
                    addresses.append(email)
                    fields.append(f"personalizations.{i}.{kind}.{j}.email")
            check_headers(personalization.get("headers"), f"personalizations.{i}.headers")
            custom.update(check_strings(personalization.get("custom_args"), f"personalizations.{i}.custom_args"))
        if len(addresses) > 1000:
            problem("The total number of recipients must be less than 1000. This includes all recipients defined within "
                    "the to, cc, and bcc parameters, across each object that you include in the personalizations array.",
                    "personalizations")
        template = mail.get("template_id")
        subject = mail.get("subject")
        if subject is not None and not isinstance(subject, str):
            problem(f"Invalid type. Expected: string, given: {type_name(subject)}.", "subject")
        elif not subject and not every_subject and not template:
            problem("The subject is required. You can get around this requirement if you use a template with a subject "
                    "defined or if every personalization has a subject defined.", "subject")
        content = mail.get("content")
        if content is None and template:
            content = []
        if not isinstance(content, list) or (not content and not template):
            problem("Unless a valid template_id is provided, the content parameter is required. There must be at least "
                    "one defined content block. We typically suggest both text/plain and text/html blocks are included, "
                    "but only one block is required.", "content")
            content = []
        types = []
        for i, block in enumerate(content):
            if not isinstance(block, dict):
                problem(f"Invalid type. Expected: object, given: {type_name(block)}.", f"content.{i}")
                continue
            kind, value = block.get("type"), block.get("value")
            if not isinstance(kind, str) or not kind:
                problem("The content type must be provided, for example text/plain or text/html.", f"content.{i}.type")
            elif re.search(r"[;\r\n]", kind):
                problem("The content type cannot contain ';', or CRLF characters.", f"content.{i}.type")
            else:
                types.append(kind.lower())
            if not isinstance(value, str) or not value:
                problem("The content value must be a string at least one character in length.", f"content.{i}.value")
        if len(set(types)) != len(types):
            problem("Each content type must be unique.", "content")
        expected_order = [t for t in ("text/plain", "text/html") if t in types]
        if types[:len(expected_order)] != expected_order:
            problem("If present, text/plain and text/html may only be provided in this order: text/plain, text/html.",
                    "content")
        check_headers(mail.get("headers"), "headers")
        if len(json.dumps(custom).encode()) > 10000:
            problem("The custom_args must be less than 10,000 bytes in total.", "custom_args")
        attachments = mail.get("attachments", [])
        if not isinstance(attachments, list):
            problem(f"Invalid type. Expected: array, given: {type_name(attachments)}.", "attachments")
            attachments = []
        for i, attachment in enumerate(attachments):
            if not isinstance(attachment, dict):
                problem(f"Invalid type. Expected: object, given: {type_name(attachment)}.", f"attachments.{i}")
                continue
            data = attachment.get("content")
            if not isinstance(data, str) or not data:
                problem("The attachment content is required.", f"attachments.{i}.content")
            else:
                try:
                    strict_b64decode(data)
                except (ValueError, binascii.Error):
                    problem("The attachment content must be base64 encoded.", f"attachments.{i}.content")
            if not isinstance(attachment.get("filename"), str) or not attachment["filename"]:
                problem("The attachment filename parameter is required.", f"attachments.{i}.filename")
            kind = attachment.get("type")
            if kind is not None and (not isinstance(kind, str) or re.search(r"[;\r\n]", kind)):
                problem("The attachment type cannot contain ';', or CRLF characters.", f"attachments.{i}.type")
            disposition = attachment.get("disposition", "attachment")
            if disposition not in ("inline", "attachment"):
                problem('The disposition of your attachment can be either "inline" or "attachment".',
                        f"attachments.{i}.disposition")
            elif disposition == "inline" and not attachment.get("content_id"):
                problem("The content_id parameter is required if your attachment has an inline disposition.",
                        f"attachments.{i}.content_id")
        if errors:
            raise Refused(400, errors=errors)
        for address, field in zip(addresses, fields):
            if special(address) == "reject":
                raise Refused(400, "Does not contain a valid address.", field=field)
        refusal = self.special_refusal("sendgrid", addresses)
        if refusal:
            raise refusal
        message_id = base64.urlsafe_b64encode(secrets.token_bytes(16)).decode().rstrip("=")[:22]
        details = {"message_id": message_id, "from": sender.get("email"), "recipients": addresses, "custom": custom,
                   "structured": mail, "custom_args": mail.get("custom_args") or {}}
        return 202, b"", {"X-Message-Id": message_id}, None, details

    # -- Postmark -----------------------------------------------------------------------------------

    def postmark(self, path, raw):
        token = self.headers.get("X-Postmark-Server-Token")
        if token is None:
            raise Refused(401, "No Account or Server API tokens were supplied in the HTTP headers. Please add a header "
                               "for either X-Postmark-Server-Token or X-Postmark-Account-Token.", code=10)
        if not hmac.compare_digest(token.strip().encode(), self.state.args.postmark_token.encode()):
            raise Refused(401, code=10)
        invalid = lambda message, code=300: Refused(422, message, code=code)
        if self.headers.get("Content-Type", "").split(";")[0].strip().lower() != "application/json":
            raise invalid("JSON required", 409)
        try:
            mail = json.loads(raw)
        except ValueError:
            raise invalid("Invalid JSON", 402)
        if not isinstance(mail, dict):
            raise invalid("Invalid JSON", 402)
        for field in ("From", "To", "Cc", "Bcc", "Subject", "HtmlBody", "TextBody", "ReplyTo", "MessageStream", "Tag"):
            if mail.get(field) is not None and not isinstance(mail[field], str):
                raise invalid(f"Incompatible JSON: {field} must be a string, not {type_name(mail[field])}.", 403)
        for field, kind in (("Headers", list), ("Attachments", list), ("Metadata", dict)):
            if mail.get(field) is not None and not isinstance(mail[field], kind):
                raise invalid(f"Incompatible JSON: {field} must be {'an array' if kind is list else 'an object'}.", 403)
        sender = mail.get("From") or ""
        if not valid_address(parseaddr(sender)[1]):
            raise invalid(f"Invalid 'From' address: '{sender}'.")
        addresses = []
        for field in ("To", "Cc", "Bcc"):
            for name, address in getaddresses([mail[field]] if mail.get(field) else []):
                if not valid_address(address):
                    raise invalid(f"Invalid '{field}' address: '{address or name}'.")
                addresses.append(address)
        if not addresses:
            raise invalid("Zero recipients specified")
        if len(addresses) > 50:
            raise invalid("Maximum of 50 recipients allowed per email message")
        if not mail.get("TextBody") and not mail.get("HtmlBody"):
            raise invalid("Provide either email TextBody or HtmlBody or both.")
        if mail.get("ReplyTo"):
            for name, address in getaddresses([mail["ReplyTo"]]):
                if not valid_address(address):
                    raise invalid(f"Invalid 'ReplyTo' address: '{address or name}'.")
        for i, header in enumerate(mail.get("Headers") or []):
            if not isinstance(header, dict) or not isinstance(header.get("Name"), str) or not header["Name"] \
                    or not isinstance(header.get("Value"), str):
                raise invalid(f"Incompatible JSON: Headers[{i}] must be an object with a string Name and Value.", 403)
        metadata = mail.get("Metadata") or {}
        if len(metadata) > 10:
            raise invalid("Metadata may have at most 10 fields.")
        for name, value in metadata.items():
            if not isinstance(value, str):
                raise invalid(f"Incompatible JSON: Metadata value of '{name}' must be a string.", 403)
            if len(name) > 20 or len(value) > 80:
                raise invalid(f"Metadata field '{name}': the name may have 20 characters at most, the value 80.")
        for i, attachment in enumerate(mail.get("Attachments") or []):
            if not isinstance(attachment, dict) or not attachment.get("Name") or not attachment.get("Content") \
                    or not attachment.get("ContentType"):
                raise invalid(f"Attachments[{i}] needs Name, Content and ContentType.")
            try:
                strict_b64decode(attachment["Content"])
            except (ValueError, binascii.Error):
                raise invalid(f"Attachments[{i}].Content is not valid base64.")
        stream = mail.get("MessageStream") or "outbound"
        if self.state.args.postmark_stream and stream not in self.state.args.postmark_stream:
            raise invalid(f"The message stream for the provided 'ID' ({stream}) was not found.", 1235)
        inactive = [a for a in addresses if special(a) == "inactive"]
        if inactive:
            raise invalid("You tried to send to recipient(s) that have been marked as inactive. Found inactive "
                          f"addresses: {', '.join(inactive)}. Inactive recipients are ones that have generated a hard "
                          "bounce, a spam complaint, or a manual suppression.", 406)
        for address in addresses:
            if special(address) == "reject":
                raise invalid(f"Invalid 'To' address: '{address}'.")
        refusal = self.special_refusal("postmark", addresses)
        if refusal:
            raise refusal
        message_id = str(uuid.uuid4())
        submitted = datetime.datetime.now(datetime.timezone.utc).isoformat()
        details = {"message_id": message_id, "from": sender, "recipients": addresses, "custom": dict(metadata),
                   "structured": mail, "metadata": dict(metadata), "message_stream": stream}
        return 200, {"To": mail.get("To"), "SubmittedAt": submitted, "MessageID": message_id, "ErrorCode": 0,
                     "Message": "OK"}, None, "application/json", details

    # -- Mailgun ------------------------------------------------------------------------------------

    def form_fields(self, raw):
        """[(name, value bytes, filename or None)] of a multipart/form-data or urlencoded body."""
        content_type = self.headers.get("Content-Type", "")
        if content_type.split(";")[0].strip().lower() == "application/x-www-form-urlencoded":
            pairs = urllib.parse.parse_qsl(raw.decode("utf-8", errors="replace"), keep_blank_values=True)
            return [(name, value.encode("utf-8"), None) for name, value in pairs]
        if content_type.split(";")[0].strip().lower() != "multipart/form-data":
            raise Refused(400, "Content-Type must be multipart/form-data")
        header = BytesHeaderParser(policy=compat32).parsebytes(b"Content-Type: " + content_type.encode("latin-1") + b"\r\n\r\n")
        boundary = header.get_param("boundary")
        if not boundary:
            raise Refused(400, "multipart/form-data without a boundary")
        return parse_multipart(raw, boundary.encode("latin-1"))

    def mailgun(self, path, raw):
        domain = MAILGUN_PATH.match(path).group(1)
        auth = self.headers.get("Authorization", "")
        user = password = None
        if auth[:6].lower() == "basic ":
            try:
                user, _, password = base64.b64decode(auth[6:].strip()).decode("utf-8").partition(":")
            except (ValueError, UnicodeDecodeError, binascii.Error):
                pass
        if user != "api" or password is None or not hmac.compare_digest(password.encode(), self.state.args.mailgun_key.encode()):
            raise Refused(401, headers={"WWW-Authenticate": 'Basic realm="MG API"'})
        if domain not in self.state.args.mailgun_domain:
            raise Refused(404, f"Domain not found: {domain}")
        try:
            fields = self.form_fields(raw)
        except ValueError as problem:
            raise Refused(400, f"Invalid multipart/form-data: {problem}")
        to_values, message, variables, options = [], None, {}, {}
        for name, value, filename in fields:
            if name == "to":
                to_values.append(value.decode("utf-8", errors="replace"))
            elif name == "message":
                if filename is None:
                    raise Refused(400, "'message' parameter is not a file")
                message = value
            elif name.startswith("v:"):
                variables[name[2:]] = value.decode("utf-8", errors="replace")
            elif name[:2] in ("o:", "h:", "t:"):
                options.setdefault(name, []).append(value.decode("utf-8", errors="replace"))
        if not to_values:
            raise Refused(400, "'to' parameter is missing")
        if message is None:
            raise Refused(400, "'message' parameter is missing")
        addresses = []
        for name, address in getaddresses(to_values):
            if not valid_address(address):
                raise Refused(400, "to parameter is not a valid address. please check documentation")
            addresses.append(address)
        if not addresses:
            raise Refused(400, "to parameter is not a valid address. please check documentation")
        if len(addresses) > 1000:
            raise Refused(400, "Too many recipients: 1000 at most")
        headers = BytesHeaderParser(policy=compat32).parsebytes(message)
        if not headers.get("From"):
            raise Refused(400, "Missing required header 'From' in the MIME message")
        for address in addresses:
            if special(address) == "reject":
                raise Refused(400, "to parameter is not a valid address. please check documentation")
        refusal = self.special_refusal("mailgun", addresses)
        if refusal:
            raise refusal
        own_id = (headers.get("Message-ID") or "").strip()
        message_id = own_id if own_id.startswith("<") else f"<{time.strftime('%Y%m%d%H%M%S')}.{secrets.token_hex(8)}@{domain}>"
        details = {"message_id": message_id, "from": headers.get("From"), "recipients": addresses, "custom": variables,
                   **mime_text(message), "domain": domain, "options": options}
        return 200, {"id": message_id, "message": "Queued. Thank you."}, None, "application/json", details


def parse_multipart(body, boundary):
    """Byte-exact multipart/form-data parts (RFC 7578): [(name, content, filename or None)]. Part content is
    kept exactly, so a MIME message sent as a file keeps every byte its DKIM signature covers."""
    delimiter = b"--" + boundary
    start = body.find(delimiter)
    if start < 0 or (start > 0 and body[start - 2:start] != b"\r\n"):
        raise ValueError("no opening boundary")
    position = start + len(delimiter)
    parts = []
    while True:
        if body[position:position + 2] == b"--":
            return parts
        line_end = body.find(b"\r\n", position)
        if line_end < 0 or body[position:line_end].strip(b" \t"):
            raise ValueError("malformed boundary line")
        position = line_end + 2
        end = body.find(b"\r\n" + delimiter, position)
        if end < 0:
            raise ValueError("no closing boundary")
        part = body[position:end]
        if part.startswith(b"\r\n"):
            head, content = b"", part[2:]
        else:
            split = part.find(b"\r\n\r\n")
            if split < 0:
                raise ValueError("a part without a blank line after its headers")
            head, content = part[:split], part[split + 4:]
        headers = BytesHeaderParser(policy=compat32).parsebytes(head + b"\r\n\r\n")
        name = headers.get_param("name", header="content-disposition")
        filename = headers.get_param("filename", header="content-disposition")
        if isinstance(name, tuple):
            name = name[2] if len(name) == 3 else str(name)
        if isinstance(filename, tuple):
            filename = filename[2]
        if name is None:
            raise ValueError("a part without Content-Disposition: form-data; name=...")
        parts.append((name, content, filename))
        position = end + 2 + len(delimiter)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port (printed as READY <port>)")
    parser.add_argument("--log", required=True, help="JSON lines, one per accepted message")
    parser.add_argument("--refused-log", help="JSON lines, one per refused request")
    parser.add_argument("--delay-ms", type=float, default=0, help="delay before every provider answer")
    parser.add_argument("--ses-access-key", default="AKIDEXAMPLE")
    parser.add_argument("--ses-secret-key", default="wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
    parser.add_argument("--ses-region", default="us-east-1")
    parser.add_argument("--ses-max-skew", type=int, default=300, help="seconds X-Amz-Date may be off")
    parser.add_argument("--ses-configuration-set", action="append", default=[],
                        help="a configuration set that exists (when any is given, others get 404 NotFoundException)")
    parser.add_argument("--sendgrid-key", default="SG.test-key")
    parser.add_argument("--postmark-token", default="postmark-server-token")
    parser.add_argument("--postmark-stream", action="append", default=[],
                        help="a message stream that exists (when any is given, others get 422/1235)")
    parser.add_argument("--mailgun-key", default="mailgun-key")
    parser.add_argument("--mailgun-domain", action="append", default=[], help="a sending domain (repeatable)")
    parser.add_argument("--max-message-bytes", type=int,
                        help="one request size limit for every provider instead of each one's own")
    args = parser.parse_args()
    if not args.mailgun_domain:
        args.mailgun_domain = ["mg.example.com"]
    args.max_message_bytes = {p: args.max_message_bytes for p in PROVIDERS} if args.max_message_bytes else {}
    Handler.state = State(args)
    ThreadingHTTPServer.request_queue_size = 256
    server = ThreadingHTTPServer((args.host, args.port), Handler)
    server.daemon_threads = True
    print(f"READY {server.server_address[1]}", flush=True)
    try:
        server.serve_forever(poll_interval=0.1)
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    sys.exit(main())
