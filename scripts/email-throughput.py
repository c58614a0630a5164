#!/usr/bin/env python3
"""Measures how fast Herald sends email into Postfix's smtp-sink, and over how many connections.

A real `herald serve` (release build by default) and a real smtp-sink, both on loopback. The script
creates a tenant with an email-only event type and COUNT subscribers in one topic, triggers the event
once, and times the run from the trigger until every message is `sent`. smtp-sink's own counters
(`-c`) give the number of SMTP sessions (connections) Herald opened.

Usage:
  scripts/email-throughput.py [--bin PATH] [--count 10000] [--connections 4] [--runs 3]

Prints one line per run and a JSON summary line (median emails/s). Standard library only.
"""

import argparse
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

ADMIN = "throughput-admin-key"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def request(port, method, path, key=None, body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=data, method=method)
    req.add_header("Content-Type", "application/json")
    if key:
        req.add_header("Authorization", f"Bearer {key}")
    with urllib.request.urlopen(req, timeout=60) as reply:
        return json.loads(reply.read() or b"null")


def wait_healthy(port, deadline=30):
    end = time.time() + deadline
    while time.time() < end:
        try:
            request(port, "GET", "/healthz")
            return
        except Exception:
            time.sleep(0.1)
    raise SystemExit("herald did not become healthy")


def one_run(binary, count, connections, workdir):
    sink_port, port = free_port(), free_port()
    sink_args = ["smtp-sink", "-c"]
    if os.geteuid() == 0:
        sink_args += ["-u", "root"]
    sink_out = open(os.path.join(workdir, "sink.out"), "wb")
    sink = subprocess.Popen(sink_args + [f"127.0.0.1:{sink_port}", "256"], stdout=sink_out, stderr=subprocess.STDOUT)
    env = dict(os.environ, HERALD_ADMIN_KEY=ADMIN, HERALD_SMTP_URL=f"smtp+plain://127.0.0.1:{sink_port}",
               HERALD_SMTP_MAX_CONNECTIONS=str(connections), HERALD_EMAIL_FROM="notices@herald.test", HERALD_LOG_LEVEL="warning")
    log = open(os.path.join(workdir, "herald.log"), "wb")
    server = subprocess.Popen([binary, "serve", "--database", os.path.join(workdir, "herald.sqlite"), "--port", str(port)],
                              env=env, stdout=log, stderr=subprocess.STDOUT, cwd=workdir)
    try:
        wait_healthy(port)
        key = request(port, "POST", "/v1/tenants", ADMIN, {"name": "Throughput"})["api_key"]["key"]
        request(port, "PUT", "/v1/event-types/notice", key, {
            "priority": "medium", "channels": ["email"], "parameters": {"n": {"type": "integer"}},
            "templates": {"email": {"en": {"subject": "Notice {{n}} for {{subscriber.name}}",
                                           "html": "<p>Hello {{subscriber.name}},</p><p>This is notice <b>{{n}}</b>.</p>"}}}})
        request(port, "PUT", "/v1/topics/all", key, {"name": "Everyone"})
        for start in range(0, count, 5000):
            people = [{"id": f"s{i}", "name": f"Resident {i}", "email": f"user{i}@example.com"} for i in range(start, min(count, start + 5000))]
            request(port, "POST", "/v1/subscribers/bulk", key, {"subscribers": people})
            request(port, "POST", "/v1/topics/all/subscribers", key, {"subscribers": [p["id"] for p in people]})
        started = time.time()
        event = request(port, "POST", "/v1/events", key, {"type": "notice", "to": [{"topic": "all"}], "payload": {"n": 1}})["event_id"]
        while True:
            messages = request(port, "GET", f"/v1/events/{event}?limit=1", key).get("counts", {})
            if messages.get("sent", 0) >= count:
                break
            if time.time() - started > 600:
                raise SystemExit(f"not all sent after 600 s: {messages}")
            time.sleep(0.05)
        seconds = time.time() - started
    finally:
        server.terminate()
        server.wait(timeout=30)
        sink.terminate()
        sink.wait(timeout=10)
        sink_out.close()
        log.close()
    counters = open(os.path.join(workdir, "sink.out"), "rb").read().decode(errors="replace")
    sessions = re.findall(r"sess=(\d+)", counters)
    mesg = re.findall(r"mesg=(\d+)", counters)
    return seconds, int(sessions[-1]) if sessions else -1, int(mesg[-1]) if mesg else -1


def main():
    parser = argparse.ArgumentParser()
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    default = os.path.join(root, ".build/release/herald")
    parser.add_argument("--bin", default=default if os.path.exists(default) else os.path.join(root, ".build/debug/herald"))
    parser.add_argument("--count", type=int, default=10000)
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--runs", type=int, default=3)
    options = parser.parse_args()
    if not shutil.which("smtp-sink"):
        raise SystemExit("smtp-sink not found (Debian: apt-get install postfix)")
    rates = []
    for run in range(options.runs):
        workdir = tempfile.mkdtemp(prefix="herald-email-throughput-")
        try:
            seconds, sessions, received = one_run(options.bin, options.count, options.connections, workdir)
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
        rate = options.count / seconds
        rates.append(rate)
        print(f"run {run + 1}: {options.count} emails sent in {seconds:.2f} s = {rate:.0f}/s; smtp-sink saw {sessions} connections, {received} messages")
    print(json.dumps({"binary": options.bin, "count": options.count, "max_connections": options.connections,
                      "median_emails_per_second": round(statistics.median(rates)), "runs": [round(r) for r in rates]}))


if __name__ == "__main__":
    main()
