#!/usr/bin/env python3
"""Measures what one trigger costs when an app sends them one request at a time (issue 21).

A real `herald serve` (release build by default) on SQLite and Postfix's smtp-sink, both on loopback. The
script creates a tenant, an email-only event type and 1,000 subscribers, sends 200 single triggers to warm
up, then COUNT single triggers over one keep-alive HTTP connection, each to one subscriber, and waits until
every email is sent. It reports triggers per second (the client's send loop) and the server's CPU time per
delivered email, read from /proc/<pid>/stat (user + system) over the run, from the first trigger to the
last email sent; the client's own CPU is not in it.

Usage:
  scripts/sequential-triggers.py [--bin PATH] [--count 5000] [--runs 3]

Prints one line per run and a JSON summary line (medians). Standard library only.
"""

import argparse
import http.client
import json
import os
import shutil
import socket
import statistics
import subprocess
import tempfile
import time

ADMIN = "sequential-admin-key"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cpu_seconds(pid):
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


class Client:
    """One keep-alive connection, as a sequential app would hold."""

    def __init__(self, port):
        self.port = port
        self.connection = None

    def request(self, method, path, key=None, body=None):
        if self.connection is None:
            self.connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        headers = {"Content-Type": "application/json"}
        if key:
            headers["Authorization"] = f"Bearer {key}"
        self.connection.request(method, path, body=json.dumps(body) if body is not None else None, headers=headers)
        reply = self.connection.getresponse()
        data = reply.read()
        if reply.status >= 300:
            raise SystemExit(f"{method} {path} answered {reply.status}: {data[:300]!r}")
        return json.loads(data or b"null")


def one_run(binary, count, workdir):
    sink_port, port = free_port(), free_port()
    sink_args = ["smtp-sink", "-c"] + (["-u", "root"] if os.geteuid() == 0 else [])
    sink = subprocess.Popen(sink_args + [f"127.0.0.1:{sink_port}", "256"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    env = dict(os.environ, HERALD_ADMIN_KEY=ADMIN, HERALD_SMTP_URL=f"smtp+plain://127.0.0.1:{sink_port}",
               HERALD_EMAIL_FROM="notices@herald.test", HERALD_LOG_LEVEL="warning")
    log = open(os.path.join(workdir, "herald.log"), "wb")
    server = subprocess.Popen([binary, "serve", "--database", os.path.join(workdir, "herald.sqlite"), "--port", str(port)],
                              env=env, stdout=log, stderr=subprocess.STDOUT, cwd=workdir)
    client = Client(port)
    try:
        deadline = time.time() + 30
        while True:
            try:
                client.request("GET", "/healthz")
                break
            except (OSError, http.client.HTTPException):
                client.connection = None
                if time.time() > deadline:
                    raise SystemExit("herald did not become healthy")
                time.sleep(0.1)
        key = client.request("POST", "/v1/tenants", ADMIN, {"name": "Sequential"})["api_key"]["key"]
        client.request("PUT", "/v1/event-types/notice", key, {
            "priority": "medium", "channels": ["email"], "parameters": {"n": {"type": "integer"}},
            "templates": {"email": {"en": {"subject": "Notice {{n}} for {{subscriber.name}}",
                                           "html": "<p>Hello {{subscriber.name}},</p><p>This is notice <b>{{n}}</b>.</p>"}}}})
        people = [{"id": f"s{i}", "name": f"Resident {i}", "email": f"user{i}@example.com"} for i in range(1000)]
        client.request("POST", "/v1/subscribers/bulk", key, {"subscribers": people})

        def trigger(n):
            client.request("POST", "/v1/events", key, {"type": "notice", "to": [f"s{n % 1000}"], "payload": {"n": n}})

        def drained():
            for status in ("queued", "sending"):
                if client.request("GET", f"/v1/messages?status={status}&limit=1", key).get("data"):
                    return False
            return True

        for n in range(200):
            trigger(n)
        while not drained():
            time.sleep(0.05)
        before = cpu_seconds(server.pid)
        started = time.time()
        for n in range(count):
            trigger(n)
        sent_all = time.time() - started
        while not drained():
            if time.time() - started > 600:
                raise SystemExit("not every email was sent within 600 s")
            time.sleep(0.02)
        cpu = cpu_seconds(server.pid) - before
        failed = client.request("GET", "/v1/messages?status=failed&limit=1", key).get("data")
        if failed:
            raise SystemExit(f"an email failed: {failed}")
        return count / sent_all, cpu / count * 1000, time.time() - started
    finally:
        server.terminate()
        server.wait(timeout=30)
        sink.terminate()
        sink.wait(timeout=10)
        log.close()


def main():
    parser = argparse.ArgumentParser()
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    default = os.path.join(root, ".build/release/herald")
    parser.add_argument("--bin", default=default if os.path.exists(default) else os.path.join(root, ".build/debug/herald"))
    parser.add_argument("--count", type=int, default=5000)
    parser.add_argument("--runs", type=int, default=3)
    options = parser.parse_args()
    if not shutil.which("smtp-sink"):
        raise SystemExit("smtp-sink not found (Debian: apt-get install postfix)")
    rates, costs = [], []
    for run in range(options.runs):
        workdir = tempfile.mkdtemp(prefix="herald-sequential-")
        try:
            rate, cost, seconds = one_run(os.path.abspath(options.bin), options.count, workdir)
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
        rates.append(rate)
        costs.append(cost)
        print(f"run {run + 1}: {options.count} triggers at {rate:.0f}/s over one connection; every email sent after {seconds:.2f} s; "
              f"server CPU {cost:.3f} ms per email")
    print(json.dumps({"binary": options.bin, "count": options.count,
                      "median_triggers_per_second": round(statistics.median(rates)),
                      "median_server_cpu_ms_per_email": round(statistics.median(costs), 3),
                      "runs": [{"triggers_per_second": round(r), "cpu_ms_per_email": round(c, 3)} for r, c in zip(rates, costs)]}))


if __name__ == "__main__":
    main()
