#!/usr/bin/env python3
"""Bounce and complaint webhooks of four email providers, in their real formats and signed as they sign them,
for Herald's tests of `/hooks/email/{provider}` (Tests/HeraldTests/Email/ProviderFeedbackTests.swift).

  keys DIR
      Makes (once) and prints the keys: an RSA key with a self-signed certificate standing in for Amazon SNS's
      signing certificate (DIR/sns-key.pem, DIR/sns-cert.pem), and an ECDSA P-256 key pair for SendGrid's
      Event Webhook (DIR/sendgrid-key.pem). Prints {"sns_certificate_pem": …, "sendgrid_verification_key": …},
      the latter as SendGrid's settings page shows it: base64 of the DER SubjectPublicKeyInfo.

  sign DIR SPECS
      Reads a JSON list of payload specs from the file SPECS (- for standard input) and prints a JSON list of
      {"headers": {...}, "body": "..."}, each the exact request the provider would send. Spec fields by provider:
        ses       type (Notification | SubscriptionConfirmation | UnsubscribeConfirmation), event (bounce |
                  soft_bounce | complaint | delivery), style (notification | event_publishing), address,
                  message (Herald's id, sent as the `herald_message` tag and the X-Herald-Message header),
                  tenant (the `herald_tenant` tag),
                  topic_arn, cert_url, subscribe_url, signature_version (1 | 2), subject (optional)
        sendgrid  events: [{event (bounce | dropped | spamreport | delivered), type (bounce | blocked),
                  reason, address, message, tenant}], timestamp (optional), raw_body (signed as it is)
        postmark  record (Bounce | SpamComplaint), type (HardBounce, SoftBounce, …), address, message,
                  tenant, username, password, raw_body (sent as it is)
        mailgun   event (failed | complained | delivered), severity (permanent | temporary), address,
                  message, tenant, key, timestamp (optional), token (optional)

  serve DIR --port 0 --log FILE
      A loopback HTTP server standing in for SNS: GET /SimpleNotificationService-test.pem answers the
      certificate, GET /confirm?Action=ConfirmSubscription&TopicArn=…&Token=… answers SNS's
      ConfirmSubscriptionResponse and appends {"path", "query"} to FILE. Prints "READY <port>".

Payload shapes follow the providers' documentation: SES's notification contents and event publishing
examples, SNS's HTTP/S message and signature format (SignatureVersion 1 = SHA1withRSA, 2 = SHA256withRSA over
the documented canonical string), SendGrid's Event Webhook event examples with its ECDSA signature over
timestamp + body, Postmark's bounce and spam complaint webhook examples (HTTP Basic credentials in the URL),
and Mailgun's webhook example with its HMAC-SHA256 over timestamp + token.
"""

import argparse
import base64
import datetime
import hashlib
import hmac
import json
import os
import secrets
import signal
import sys
import threading
import time
import urllib.parse
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509.oid import NameOID

# A parent that spawned us from a thread with signals blocked (Swift's Foundation.Process called from a
# cooperative thread) leaves them blocked in the child: SIGTERM would never arrive. Unblock them all.
signal.pthread_sigmask(signal.SIG_SETMASK, [])
signal.signal(signal.SIGTERM, signal.SIG_DFL)

CERT_PATH = "/SimpleNotificationService-test.pem"


# MARK: Keys


def load_or_make_keys(directory):
    os.makedirs(directory, exist_ok=True)
    sns_key_path = os.path.join(directory, "sns-key.pem")
    sns_cert_path = os.path.join(directory, "sns-cert.pem")
    sendgrid_path = os.path.join(directory, "sendgrid-key.pem")
    if not os.path.exists(sns_cert_path):
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "sns.us-east-1.amazonaws.com")])
        now = datetime.datetime.now(datetime.timezone.utc)
        certificate = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=3650))
            .sign(key, hashes.SHA256())
        )
        write(sns_key_path, key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
        write(sns_cert_path, certificate.public_bytes(serialization.Encoding.PEM))
    if not os.path.exists(sendgrid_path):
        key = ec.generate_private_key(ec.SECP256R1())
        write(sendgrid_path, key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    sns_key = serialization.load_pem_private_key(read(sns_key_path), password=None)
    sendgrid_key = serialization.load_pem_private_key(read(sendgrid_path), password=None)
    return sns_key, read(sns_cert_path).decode(), sendgrid_key


def write(path, data):
    # Written whole, then renamed: two test processes making keys at once never read half a file.
    temporary = f"{path}.{os.getpid()}.{secrets.token_hex(4)}"
    with open(temporary, "wb") as handle:
        handle.write(data)
    os.replace(temporary, path)


def read(path):
    with open(path, "rb") as handle:
        return handle.read()


def sendgrid_verification_key(sendgrid_key):
    der = sendgrid_key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return base64.b64encode(der).decode()


# MARK: Amazon SES through SNS


def iso_now():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def ses_mail(spec, timestamp):
    """SES's `mail` object: the original message, with Herald's tag and header."""
    address = spec.get("address", "recipient@example.com")
    headers = [
        {"name": "From", "value": "Maple Court <notices@maplecourt.example>"},
        {"name": "To", "value": address},
        {"name": "Subject", "value": "Notice 1"},
        {"name": "MIME-Version", "value": "1.0"},
        {"name": "Content-Type", "value": "multipart/alternative; boundary=\"----=_Part_7307378_1629847660.1516840721503\""},
    ]
    tags = {
        "ses:operation": ["SendRawEmail"],
        "ses:configuration-set": ["herald"],
        "ses:source-ip": ["192.0.2.0"],
        "ses:from-domain": ["maplecourt.example"],
        "ses:caller-identity": ["herald"],
    }
    if spec.get("message"):
        headers.append({"name": "X-Herald-Message", "value": spec["message"]})
        tags["herald_message"] = [spec["message"]]
    if spec.get("tenant"):
        tags["herald_tenant"] = [spec["tenant"]]
    mail = {
        "timestamp": timestamp,
        "source": "notices@maplecourt.example",
        "sourceArn": "arn:aws:ses:us-east-1:123456789012:identity/maplecourt.example",
        "sendingAccountId": "123456789012",
        "messageId": "010001712ea2ec1c-4bc8c1a8-5a41-4e4e-b4d4-5e6e0b8a1c74-000000",
        "destination": [address],
        "headersTruncated": False,
        "headers": headers,
        "commonHeaders": {
            "from": ["Maple Court <notices@maplecourt.example>"],
            "to": [address],
            "messageId": "010001712ea2ec1c-4bc8c1a8-5a41-4e4e-b4d4-5e6e0b8a1c74-000000",
            "subject": "Notice 1",
        },
    }
    if spec.get("style") == "event_publishing":
        mail["tags"] = tags
    else:
        mail["sourceIp"] = "192.0.2.0"
        mail["callerIdentity"] = "herald"
    return mail


def ses_message(spec):
    """The SES notification (or event publishing record) that SNS carries as its `Message`."""
    timestamp = iso_now()
    event = spec.get("event", "bounce")
    address = spec.get("address", "recipient@example.com")
    key = "eventType" if spec.get("style") == "event_publishing" else "notificationType"
    if event in ("bounce", "soft_bounce"):
        permanent = event == "bounce"
        body = {
            key: "Bounce",
            "bounce": {
                "feedbackId": "010001712ea2f5c9-3d7a5b2c-1b6a-4a7e-9a41-7d0f3b1e9c55-000000",
                "bounceType": "Permanent" if permanent else "Transient",
                "bounceSubType": "General" if permanent else "MailboxFull",
                "bouncedRecipients": [
                    {
                        "emailAddress": address,
                        "action": "failed",
                        "status": "5.1.1" if permanent else "4.2.2",
                        "diagnosticCode": "smtp; 550 5.1.1 user unknown" if permanent else "smtp; 452 4.2.2 mailbox full",
                    }
                ],
                "timestamp": timestamp,
                "remoteMtaIp": "192.0.2.1",
                "reportingMTA": "dsn; a8-70.smtp-out.amazonses.com",
            },
        }
    elif event == "complaint":
        body = {
            key: "Complaint",
            "complaint": {
                "feedbackId": "010001712ea30b27-8e4d9f2a-6c1b-4f0e-8f6a-2b7d4c9e1a33-000000",
                "complaintSubType": None,
                "complainedRecipients": [{"emailAddress": address}],
                "timestamp": timestamp,
                "userAgent": "AnyCompany Feedback Loop (V0.01)",
                "complaintFeedbackType": "abuse",
                "arrivalDate": timestamp,
            },
        }
    else:
        body = {
            key: "Delivery",
            "delivery": {
                "timestamp": timestamp,
                "processingTimeMillis": 546,
                "recipients": [address],
                "smtpResponse": "250 ok:  Message 64111812 accepted",
                "reportingMTA": "a8-70.smtp-out.amazonses.com",
                "remoteMtaIp": "192.0.2.1",
            },
        }
    body["mail"] = ses_mail(spec, timestamp)
    return json.dumps(body)


def sns_canonical(fields):
    """The string SNS signs: the documented keys in this order, each followed by its value, one per line."""
    if fields["Type"] == "Notification":
        keys = ["Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"]
    else:
        keys = ["Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"]
    return "".join(f"{key}\n{fields[key]}\n" for key in keys if key in fields)


def ses(spec, sns_key):
    kind = spec.get("type", "Notification")
    topic = spec.get("topic_arn", "arn:aws:sns:us-east-1:123456789012:herald-ses-feedback")
    message_id = str(uuid.uuid4())
    fields = {"Type": kind, "MessageId": message_id}
    if kind == "Notification":
        fields["TopicArn"] = topic
        if spec.get("subject") is not None:
            fields["Subject"] = spec["subject"]
        fields["Message"] = ses_message(spec)
        fields["Timestamp"] = iso_now()
    else:
        token = secrets.token_hex(64)
        fields["Token"] = token
        fields["TopicArn"] = topic
        verb = "You have chosen to subscribe to" if kind == "SubscriptionConfirmation" else "You have chosen to deactivate subscription"
        fields["Message"] = f"{verb} the topic {topic}.\nTo confirm the subscription, visit the SubscribeURL included in this message."
        base = spec.get("subscribe_url", "https://sns.us-east-1.amazonaws.com/")
        fields["SubscribeURL"] = base + "?" + urllib.parse.urlencode({"Action": "ConfirmSubscription", "TopicArn": topic, "Token": token})
        fields["Timestamp"] = iso_now()
    version = str(spec.get("signature_version", 1))
    digest = hashes.SHA1() if version == "1" else hashes.SHA256()
    signature = sns_key.sign(sns_canonical(fields).encode(), padding.PKCS1v15(), digest)
    fields["SignatureVersion"] = version
    fields["Signature"] = base64.b64encode(signature).decode()
    fields["SigningCertURL"] = spec.get("cert_url", "https://sns.us-east-1.amazonaws.com" + CERT_PATH)
    if kind == "Notification":
        fields["UnsubscribeURL"] = (
            "https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe&SubscriptionArn=" + urllib.parse.quote(topic + ":" + str(uuid.uuid4()))
        )
    # SNS's own order and indentation.
    order = ["Type", "MessageId", "Token", "TopicArn", "Subject", "Message", "SubscribeURL", "Timestamp", "SignatureVersion", "Signature",
             "SigningCertURL", "UnsubscribeURL"]
    body = json.dumps({key: fields[key] for key in order if key in fields}, indent=2)
    headers = {
        "Content-Type": "text/plain; charset=UTF-8",
        "User-Agent": "Amazon Simple Notification Service Agent",
        "x-amz-sns-message-type": kind,
        "x-amz-sns-message-id": message_id,
        "x-amz-sns-topic-arn": topic,
    }
    if kind == "Notification":
        headers["x-amz-sns-subscription-arn"] = topic + ":c9135db0-26c4-47ec-8998-413945fb5a96"
    return {"headers": headers, "body": body}


# MARK: SendGrid


def sendgrid(spec, sendgrid_key):
    events = []
    for index, event in enumerate(spec.get("events", [])):
        kind = event.get("event", "bounce")
        record = {
            "email": event.get("address", "recipient@example.com"),
            "timestamp": int(time.time()),
            "smtp-id": f"<14c5d75ce93.dfd.64b469.{index}@ismtpd-555>",
            "event": kind,
            "category": ["notice"],
            "sg_event_id": base64.b64encode(secrets.token_bytes(16)).decode(),
            "sg_message_id": f"14c5d75ce93.dfd.64b469.filter0001.16648.5515E0B88.{index}",
        }
        if kind == "bounce":
            blocked = event.get("type") == "blocked"
            record["reason"] = event.get("reason", "550 5.7.1 blocked by policy" if blocked else "550 5.1.1 The email account that you tried to reach does not exist")
            record["status"] = "5.7.1" if blocked else "5.1.1"
            record["type"] = "blocked" if blocked else "bounce"
            record["bounce_classification"] = "Reputation" if blocked else "Invalid Address"
            record["tls"] = 1
        elif kind == "dropped":
            record["reason"] = event.get("reason", "Bounced Address")
            record["status"] = "5.0.0"
        elif kind == "delivered":
            record["response"] = "250 OK"
            record["ip"] = "168.1.1.1"
            record["tls"] = 1
        if event.get("message"):
            record["herald_message"] = event["message"]
        if event.get("tenant"):
            record["herald_tenant"] = event["tenant"]
        events.append(record)
    body = spec["raw_body"] if "raw_body" in spec else json.dumps(events, separators=(",", ":")) + "\r\n"
    timestamp = str(spec.get("timestamp", int(time.time())))
    signature = sendgrid_key.sign((timestamp + body).encode(), ec.ECDSA(hashes.SHA256()))
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "SendGrid Event API",
        "X-Twilio-Email-Event-Webhook-Signature": base64.b64encode(signature).decode(),
        "X-Twilio-Email-Event-Webhook-Timestamp": timestamp,
    }
    return {"headers": headers, "body": body}


# MARK: Postmark


POSTMARK_TYPES = {
    "HardBounce": (1, "Hard bounce", "The server was unable to deliver your message (ex: unknown user, mailbox not found)."),
    "Transient": (2, "Message delayed", "The server could not temporarily deliver your message (ex: Message is delayed due to network troubles)."),
    "DnsError": (256, "DNS error", "The server could not temporarily deliver your message (ex: Unable to resolve domain)."),
    "SpamNotification": (512, "Spam notification", "The message was delivered, but was either blocked by the user, or classified as spam."),
    "SoftBounce": (4096, "Soft bounce", "Unable to temporarily deliver message (i.e. mailbox full, account disabled, exceeds quota)."),
    "AutoResponder": (64, "Auto responder", "Automatic email responder (ex: \"Out of Office\" or \"On Vacation\")."),
    "BadEmailAddress": (100000, "Invalid email address", "The address is not a valid email address."),
    "SpamComplaint": (100001, "Spam complaint", "The subscriber explicitly marked this message as spam."),
    "ManuallyDeactivated": (100002, "Manually deactivated", "The email was manually deactivated."),
    "Blocked": (100006, "ISP block", "Blocked from this ISP due to content or blacklisting."),
}


def postmark(spec):
    record = spec.get("record", "Bounce")
    kind = "SpamComplaint" if record == "SpamComplaint" else spec.get("type", "HardBounce")
    code, name, description = POSTMARK_TYPES.get(kind, (2048, "Unknown", "Unknown"))
    metadata = {}
    if spec.get("message"):
        metadata["herald_message"] = spec["message"]
    if spec.get("tenant"):
        metadata["herald_tenant"] = spec["tenant"]
    hard = kind in ("HardBounce", "BadEmailAddress", "ManuallyDeactivated", "SpamComplaint")
    payload = {
        "RecordType": record,
        "MessageStream": "outbound",
        "ID": secrets.randbelow(1 << 62),
        "Type": kind,
        "TypeCode": code,
        "Name": name,
        "Tag": "notice",
        "MessageID": str(uuid.uuid4()),
        "Metadata": metadata,
        "ServerID": 23,
        "Description": description,
        "Details": spec.get("details", "smtp;550 5.1.1 The email account that you tried to reach does not exist" if kind == "HardBounce" else "Test details"),
        "Email": spec.get("address", "recipient@example.com"),
        "From": "notices@maplecourt.example",
        "BouncedAt": datetime.datetime.now(datetime.timezone.utc).isoformat().replace("+00:00", "Z"),
        "DumpAvailable": True,
        "Inactive": hard,
        "CanActivate": kind != "SpamComplaint",
        "Subject": "Notice 1",
        "Content": "Return-Path: <>\r\nReceived: …",
    }
    credentials = f"{spec.get('username', '')}:{spec.get('password', '')}"
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "Postmark",
        "Authorization": "Basic " + base64.b64encode(credentials.encode()).decode(),
    }
    return {"headers": headers, "body": spec["raw_body"] if "raw_body" in spec else json.dumps(payload, indent=2)}


# MARK: Mailgun


def mailgun(spec):
    event = spec.get("event", "failed")
    address = spec.get("address", "recipient@example.com")
    timestamp = str(spec.get("timestamp", int(time.time())))
    token = spec.get("token") or secrets.token_hex(25)
    signature = hmac.new(spec.get("key", "").encode(), (timestamp + token).encode(), hashlib.sha256).hexdigest()
    variables = {}
    if spec.get("message"):
        variables["herald_message"] = spec["message"]
    if spec.get("tenant"):
        variables["herald_tenant"] = spec["tenant"]
    data = {
        "id": base64.urlsafe_b64encode(secrets.token_bytes(16)).decode().rstrip("="),
        "timestamp": time.time(),
        "event": event,
        "recipient": address,
        "recipient-domain": address.split("@")[-1],
        "envelope": {"sender": "bounces@mg.maplecourt.example", "transport": "smtp", "targets": address},
        "flags": {"is-routed": False, "is-authenticated": True, "is-system-test": False, "is-test-mode": False},
        "message": {
            "headers": {
                "to": address,
                "message-id": "20240503192659.13651.20287@mg.maplecourt.example",
                "from": "Maple Court <notices@maplecourt.example>",
                "subject": "Notice 1",
            },
            "attachments": [],
            "size": 111,
        },
        "tags": ["notice"],
        "campaigns": [],
        "user-variables": variables,
    }
    if event == "failed":
        permanent = spec.get("severity", "permanent") == "permanent"
        data["log-level"] = "error" if permanent else "warn"
        data["severity"] = "permanent" if permanent else "temporary"
        data["reason"] = "bounce" if permanent else "generic"
        data["delivery-status"] = {
            "attempt-no": 1,
            "code": 550 if permanent else 452,
            "enhanced-code": "5.1.1" if permanent else "4.2.2",
            "message": "5.1.1 The email account that you tried to reach does not exist" if permanent else "4.2.2 The email account that you tried to reach is over quota",
            "description": "",
            "session-seconds": 0.5,
            "mx-host": "mx.example.com",
        }
        if not permanent:
            data["delivery-status"]["retry-seconds"] = 600
    elif event == "complained":
        data["log-level"] = "warn"
    else:
        data["log-level"] = "info"
        data["delivery-status"] = {"code": 250, "message": "OK", "attempt-no": 1, "description": "", "session-seconds": 0.4}
    payload = {"signature": {"timestamp": timestamp, "token": token, "signature": signature}, "event-data": data}
    headers = {"Content-Type": "application/json", "User-Agent": "mailgun/treq-16.12.0"}
    return {"headers": headers, "body": json.dumps(payload, indent=2)}


# MARK: The stand-in SNS server


def serve(directory, host, port, log):
    _, certificate, _ = load_or_make_keys(directory)
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self):
            parsed = urllib.parse.urlsplit(self.path)
            if parsed.path == CERT_PATH:
                self.answer(200, "application/x-pem-file", certificate.encode())
            elif parsed.path == "/confirm":
                query = dict(urllib.parse.parse_qsl(parsed.query))
                if query.get("Action") != "ConfirmSubscription" or not query.get("Token") or not query.get("TopicArn"):
                    self.answer(400, "text/xml", b"<ErrorResponse><Error><Code>InvalidParameter</Code></Error></ErrorResponse>")
                    return
                with lock, open(log, "a") as handle:
                    handle.write(json.dumps({"path": parsed.path, "query": query}) + "\n")
                arn = query["TopicArn"] + ":" + str(uuid.uuid4())
                body = (
                    '<ConfirmSubscriptionResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/">'
                    f"<ConfirmSubscriptionResult><SubscriptionArn>{arn}</SubscriptionArn></ConfirmSubscriptionResult>"
                    f"<ResponseMetadata><RequestId>{uuid.uuid4()}</RequestId></ResponseMetadata></ConfirmSubscriptionResponse>"
                )
                self.answer(200, "text/xml", body.encode())
            else:
                self.answer(404, "text/plain", b"not found")

        def answer(self, status, content_type, body):
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer((host, port), Handler)
    server.daemon_threads = True
    print(f"READY {server.server_address[1]}", flush=True)
    server.serve_forever()


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    keys = commands.add_parser("keys")
    keys.add_argument("directory")
    sign = commands.add_parser("sign")
    sign.add_argument("directory")
    sign.add_argument("specs")
    server = commands.add_parser("serve")
    server.add_argument("directory")
    server.add_argument("--host", default="127.0.0.1")
    server.add_argument("--port", type=int, default=0)
    server.add_argument("--log", required=True)
    arguments = parser.parse_args()

    if arguments.command == "serve":
        serve(arguments.directory, arguments.host, arguments.port, arguments.log)
        return
    sns_key, certificate, sendgrid_key = load_or_make_keys(arguments.directory)
    if arguments.command == "keys":
        print(json.dumps({"sns_certificate_pem": certificate, "sendgrid_verification_key": sendgrid_verification_key(sendgrid_key)}))
        return
    results = []
    if arguments.specs == "-":
        specs = json.load(sys.stdin)
    else:
        with open(arguments.specs) as handle:
            specs = json.load(handle)
    for spec in specs:
        provider = spec.get("provider")
        if provider == "ses":
            results.append(ses(spec, sns_key))
        elif provider == "sendgrid":
            results.append(sendgrid(spec, sendgrid_key))
        elif provider == "postmark":
            results.append(postmark(spec))
        elif provider == "mailgun":
            results.append(mailgun(spec))
        else:
            sys.exit(f"unknown provider {provider!r}")
    print(json.dumps(results))


if __name__ == "__main__":
    main()
