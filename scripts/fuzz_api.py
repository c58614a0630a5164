#!/usr/bin/env python3
"""Schema-driven fuzz of Herald's HTTP API with schemathesis: every operation of /openapi.json, a fixed seed,
a bounded number of cases, and the checks that matter for hostile input:

  not_a_server_error           no 5xx, whatever the input
  status_code_conformance      every status the server answers is in the document
  content_type_conformance     every answer has the content type the document says
  response_schema_conformance  every body (and each event of an event stream) matches its schema
  response_headers_conformance documented response headers are present and well formed
  unsupported_method           a method a documented path does not serve is a 405 ...
  allow_header_conformance     ... whose Allow header lists the methods it does

It also checks the server is still up when the run ends (a crash is a failure even if schemathesis saw none).
Exits 0 when all pass; otherwise non-zero, with schemathesis's report of each failure (a curl command that
reproduces it, with the real credentials: the server is a throwaway).

Two ways to run it:

  # start a herald binary on a free loopback port, with a temporary SQLite file and the repository's catalog,
  # and create a tenant, a subscriber and its token through the operator key:
  python3 scripts/fuzz_api.py --herald .build/debug/herald

  # or aim it at a running server (its tenant key; the operator key and a subscriber token are optional and
  # widen what is reached):
  python3 scripts/fuzz_api.py --url http://127.0.0.1:8080 --tenant-key hk_... [--admin-key K] [--subscriber-token T]

Needs `pip install schemathesis==4.32.5` (the version this was written against; others may word things differently).
"""

import argparse
import json
import os
import pathlib
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

SCHEMATHESIS_VERSION = "4.32.5"
CHECKS = [
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
    "response_headers_conformance",
    "unsupported_method",
    "allow_header_conformance",
]
REPOSITORY = pathlib.Path(__file__).resolve().parent.parent


def call(base, method, path, key=None, body=None, timeout=30):
    """One JSON request; returns (status, decoded body or text)."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(base + path, data=data, method=method)
    if key:
        request.add_header("Authorization", "Bearer " + key)
    if data is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            status, text = response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        status, text = error.code, error.read().decode()
    try:
        return status, json.loads(text) if text else None
    except ValueError:
        return status, text


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def healthy(base, timeout=2):
    try:
        return call(base, "GET", "/healthz", timeout=timeout)[0] == 200
    except OSError:
        return False


class Server:
    """`herald serve` on a free loopback port over a SQLite file in `folder`; dies with this script."""

    def __init__(self, binary, folder, admin_key, config):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log_path = folder / "herald.log"
        environment = dict(os.environ)
        environment.update({
            "HERALD_ADMIN_KEY": admin_key,
            "HERALD_LOG_LEVEL": "notice",
            # The fuzz is many requests a second from one subscriber token: lift its request limit so the cases
            # reach the handlers (429 is still documented and checked where it comes).
            "HERALD_API_SUBSCRIBER_PER_SECOND": "1000000",
            "HERALD_API_SUBSCRIBER_BURST": "1000000",
            "HERALD_API_TENANT_PER_SECOND": "1000000",
            "HERALD_API_TENANT_BURST": "1000000",
            # Deliveries to the addresses the fuzzer invents give up quickly.
            "HERALD_OUTBOUND_TIMEOUT_SECONDS": "2",
        })
        arguments = [str(binary), "serve", "--database", str(folder / "herald.sqlite"), "--host", "127.0.0.1", "--port", str(self.port)]
        if config:
            arguments += ["--config", str(config)]
        self.log = open(self.log_path, "wb")
        self.process = subprocess.Popen(arguments, cwd=folder, env=environment, stdout=self.log, stderr=subprocess.STDOUT,
                                        stdin=subprocess.DEVNULL, preexec_fn=die_with_parent)
        deadline = time.monotonic() + 60
        while not healthy(self.base):
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"herald did not start (exit {self.process.poll()}):\n{self.log_text()}")
            time.sleep(0.1)

    def log_text(self):
        return self.log_path.read_text(errors="replace")[-4000:]

    def stop(self):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()


def die_with_parent():
    """Linux: the server gets SIGKILL if this script dies first (PR_SET_PDEATHSIG)."""
    try:
        import ctypes
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)
    except (OSError, AttributeError):
        pass


def provision(base, admin_key):
    """A tenant (through the operator key), a subscriber of it and that subscriber's token."""
    status, body = call(base, "POST", "/v1/tenants", admin_key, {"name": "Fuzz"})
    if status != 201:
        raise SystemExit(f"POST /v1/tenants answered {status}: {body}")
    tenant_key = body["api_key"]["key"]
    status, body = call(base, "PUT", "/v1/subscribers/fuzz-subscriber", tenant_key, {"name": "Fuzz", "email": "fuzz@example.com"})
    if status not in (200, 201):
        raise SystemExit(f"PUT /v1/subscribers/fuzz-subscriber answered {status}: {body}")
    status, body = call(base, "POST", "/v1/subscribers/fuzz-subscriber/token", tenant_key, {"ttl_seconds": 86400})
    if status != 201:
        raise SystemExit(f"POST /v1/subscribers/fuzz-subscriber/token answered {status}: {body}")
    return tenant_key, body["token"]


def toml_string(value):
    return json.dumps(value)  # a JSON string is a valid TOML basic string


# An event stream never ends by itself: schemathesis reads it until its request timeout, then checks each event it
# got. The stream operation runs apart with a short timeout (its first event comes at once), the rest with a long one.
STREAMS = "^/v1/inbox/stream$"


def run_schemathesis(base, tenant_key, admin_key, subscriber_token, folder, seed, examples, request_timeout):
    """Runs schemathesis (two passes: the event stream, then every other operation) and returns the worst exit status;
    its report goes to this script's output."""
    config = folder / "schemathesis.toml"
    lines = ["[auth.openapi.tenantKey]", f"bearer = {toml_string(tenant_key)}"]
    if admin_key:
        lines += ["[auth.openapi.adminKey]", f"bearer = {toml_string(admin_key)}"]
    if subscriber_token:
        lines += ["[auth.openapi.subscriberToken]", f"bearer = {toml_string(subscriber_token)}"]
    config.write_text("\n".join(lines) + "\n")
    status = 0
    for name, selection, timeout in [("streams", ["--include-path-regex", STREAMS], 1),
                                     ("operations", ["--exclude-path-regex", STREAMS], request_timeout)]:
        arguments = [
            sys.executable, "-c", "from schemathesis.cli import schemathesis; schemathesis()",
            "--config-file", str(config), "--no-color",
            "run", base + "/openapi.json", "--url", base, *selection,
            "--seed", str(seed), "--max-examples", str(examples),
            "--phases", "examples,coverage,fuzzing", "--checks", ",".join(CHECKS),
            # One worker: schemathesis's generator is not reliably thread-safe (Hypothesis's lambda-source cache
            # failed with "AST constructor recursion depth mismatch" under two), and the server has two cores anyway.
            "--workers", "1", "--request-timeout", str(timeout),
            # Hypothesis's health checks judge how fast examples are generated, which on a loaded CI machine says
            # nothing about the server; they failed a run whose every case passed. The server checks stay.
            "--suppress-health-check", "all",
            "--output-sanitize", "false", "--generation-database", "none", "--warnings", "off",
            "--report", "ndjson", "--report-ndjson-path", str(folder / f"{name}.ndjson"),
        ]
        status = max(status, subprocess.run(arguments, cwd=folder).returncode)
    return status


def count_cases(folder):
    """How many cases schemathesis ran, from its event log (best effort: 0 when the format is not understood)."""
    total = 0
    try:
        for report in folder.glob("*.ndjson"):
            for line in report.read_text().splitlines():
                event = json.loads(line)
                finished = event.get("ScenarioFinished") or {}
                recorder = finished.get("recorder") or {}
                total += len(recorder.get("cases") or {})
    except (OSError, ValueError, AttributeError):
        return 0
    return total


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    target = parser.add_mutually_exclusive_group(required=True)
    target.add_argument("--herald", type=pathlib.Path, help="a herald binary to start on a free loopback port")
    target.add_argument("--url", help="the base URL of a running server, e.g. http://127.0.0.1:8080")
    parser.add_argument("--tenant-key", help="with --url: a tenant API key of that server")
    parser.add_argument("--admin-key", help="with --url: the server's operator key (optional)")
    parser.add_argument("--subscriber-token", help="with --url: a subscriber token (optional)")
    parser.add_argument("--config", type=pathlib.Path, default=REPOSITORY / "herald.yml",
                        help="with --herald: the configuration and catalog to serve (default: the repository's herald.yml)")
    parser.add_argument("--seed", type=int, default=20260)
    parser.add_argument("--examples", type=int, default=12, help="cases per operation in the fuzzing phase (default 12)")
    parser.add_argument("--request-timeout", type=float, default=30)
    parser.add_argument("--keep-reports", type=pathlib.Path, help="a folder to keep schemathesis's NDJSON event logs in")
    arguments = parser.parse_args()
    # Started from a test runner's worker thread, this process may have nearly every signal blocked, and the server
    # would inherit that (and never see SIGTERM).
    signal.pthread_sigmask(signal.SIG_SETMASK, [])

    try:
        import schemathesis
    except ImportError:
        raise SystemExit(f"schemathesis is not installed: python3 -m pip install schemathesis=={SCHEMATHESIS_VERSION}")
    if schemathesis.__version__ != SCHEMATHESIS_VERSION:
        print(f"note: schemathesis {schemathesis.__version__}, written against {SCHEMATHESIS_VERSION}", file=sys.stderr)

    folder = pathlib.Path(tempfile.mkdtemp(prefix="herald-fuzz-"))
    server = None
    started = time.monotonic()
    try:
        if arguments.herald:
            admin_key = "fuzz-" + secrets.token_hex(8)
            server = Server(arguments.herald.resolve(), folder, admin_key, arguments.config if arguments.config.exists() else None)
            base = server.base
            tenant_key, subscriber_token = provision(base, admin_key)
        else:
            if not arguments.tenant_key:
                parser.error("--url needs --tenant-key")
            base = arguments.url.rstrip("/")
            tenant_key, admin_key, subscriber_token = arguments.tenant_key, arguments.admin_key, arguments.subscriber_token
        status = run_schemathesis(base, tenant_key, admin_key, subscriber_token, folder, arguments.seed, arguments.examples,
                                  arguments.request_timeout)
        alive = healthy(base, timeout=10) and (server is None or server.process.poll() is None)
        cases = count_cases(folder)
        elapsed = time.monotonic() - started
        print(f"fuzz: {cases or 'unknown number of'} cases, seed {arguments.seed}, {arguments.examples} per operation, "
              f"{elapsed:.0f} s; schemathesis exit {status}; server {'up' if alive else 'DOWN'}")
        if not alive:
            print("the server is not answering /healthz after the run (crashed?)", file=sys.stderr)
            if server:
                print(server.log_text(), file=sys.stderr)
            return 1
        return 0 if status == 0 else 1
    finally:
        if server:
            server.stop()
        if arguments.keep_reports:
            arguments.keep_reports.mkdir(parents=True, exist_ok=True)
            for report in folder.glob("*.ndjson"):
                shutil.copy(report, arguments.keep_reports / report.name)
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
