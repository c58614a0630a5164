#!/usr/bin/env python3
"""Hostile-HTTP check against a running `herald serve` on loopback.

Starts nothing itself. Given the server's base URL (and the limits it runs with), it checks:

  1. malformed or oversized request heads (NUL and control bytes, obs-fold, two Content-Lengths,
     Content-Length with Transfer-Encoding, a bad method, a TLS ClientHello, the HTTP/2 preface, a 1 MiB
     header, 10,000 headers) are answered 400 or 431 and the connection is closed at once;
  2. a partial head, and a connection that sends nothing, are closed when the head deadline passes;
  3. with N partial heads held open (default 5,000; the script raises its own RLIMIT_NOFILE), a fresh
     GET /healthz answers within 1 s, and the server closes the N at the head deadline;
  4. (with --max-connections) a flood past the cap is refused at once rather than queued, the server
     answers /healthz again within the head deadline after the flood stops, and (with --log) the flood
     was logged once, with a line when it ended.

Python 3 standard library only; every wait is bounded and the whole run stops at --time-limit.
Exits 0 when every check passes, 1 with a message per failure otherwise, 2 on bad usage.

    python3 scripts/hostile_http_check.py http://127.0.0.1:8080 --head-timeout 10 --max-connections 6000 --log herald.log
"""

import argparse
import ipaddress
import resource
import selectors
import signal
import socket
import sys
import time
import urllib.parse

HOST_HEADER = b"Host: herald\r\n"

# (name, bytes sent, statuses accepted)
MALFORMED_HEADS = [
    ("NUL in a header value", b"GET /healthz HTTP/1.1\r\n" + HOST_HEADER + b"X-A: a\x00b\r\n\r\n", (400,)),
    ("control byte in a header value", b"GET /healthz HTTP/1.1\r\n" + HOST_HEADER + b"X-A: a\x01b\r\n\r\n", (400,)),
    ("control byte in a header name", b"GET /healthz HTTP/1.1\r\n" + HOST_HEADER + b"X\x01A: ab\r\n\r\n", (400,)),
    ("obs-fold", b"GET /healthz HTTP/1.1\r\n" + HOST_HEADER + b"X-A: a\r\n folded\r\n\r\n", (400,)),
    (
        "two Content-Lengths",
        b"POST /healthz HTTP/1.1\r\n" + HOST_HEADER + b"Content-Length: 1\r\nContent-Length: 2\r\n\r\nxy",
        (400,),
    ),
    (
        "Content-Length with Transfer-Encoding",
        b"POST /healthz HTTP/1.1\r\n" + HOST_HEADER + b"Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        (400,),
    ),
    ("bad method", b"G@T /healthz HTTP/1.1\r\n" + HOST_HEADER + b"\r\n", (400,)),
    ("TLS ClientHello", bytes.fromhex("16030100c4010000c00303") + bytes(range(32)) + b"\x00\x00\x02\x13\x01\x01\x00", (400,)),
    ("HTTP/2 preface", b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", (400,)),
    ("1 MiB header", b"GET /healthz HTTP/1.1\r\n" + HOST_HEADER + b"X-Big: " + b"a" * (1 << 20) + b"\r\n\r\n", (431,)),
    (
        "10,000 headers",
        b"GET /healthz HTTP/1.1\r\n" + HOST_HEADER + b"".join(b"X-H%d: v\r\n" % i for i in range(10_000)) + b"\r\n",
        (431,),
    ),
]

PARTIAL_HEAD = b"GET /healthz HTTP/1.1\r\n" + HOST_HEADER + b"X-Slow: "


class Check:
    def __init__(self):
        self.failures = []

    def fail(self, message):
        self.failures.append(message)
        print(f"FAIL {message}", flush=True)

    def ok(self, message):
        print(f"ok   {message}", flush=True)

    def expect(self, condition, message):
        (self.ok if condition else self.fail)(message)
        return condition


def connect(address, timeout=2.0):
    sock = socket.create_connection(address, timeout=timeout)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def read_until_closed(sock, timeout):
    """Reads until the peer closes or `timeout` passes: (bytes, closed, seconds until closed)."""
    started = time.monotonic()
    received = b""
    while True:
        left = timeout - (time.monotonic() - started)
        if left <= 0:
            return received, False, None
        sock.settimeout(left)
        try:
            chunk = sock.recv(65536)
        except socket.timeout:
            return received, False, None
        except (ConnectionResetError, BrokenPipeError):
            return received, True, time.monotonic() - started
        if not chunk:
            return received, True, time.monotonic() - started
        received += chunk


def status_of(response):
    try:
        line = response.split(b"\r\n", 1)[0].decode("latin-1")
        version, code = line.split(" ")[:2]
        return int(code) if version.startswith("HTTP/1.") else None
    except ValueError:
        return None


def healthz(address, timeout):
    """GET /healthz on a fresh connection: (status or None, seconds taken)."""
    started = time.monotonic()
    try:
        sock = connect(address, timeout)
        sock.sendall(b"GET /healthz HTTP/1.1\r\n" + HOST_HEADER + b"Connection: close\r\n\r\n")
        response, _, _ = read_until_closed(sock, timeout - (time.monotonic() - started))
        sock.close()
    except OSError:
        return None, time.monotonic() - started
    return status_of(response), time.monotonic() - started


def check_malformed_heads(check, address):
    for name, payload, statuses in MALFORMED_HEADS:
        try:
            sock = connect(address)
        except OSError as error:
            check.fail(f"{name}: could not connect: {error}")
            continue
        try:
            sock.sendall(payload)
        except (ConnectionResetError, BrokenPipeError):
            pass  # the server may answer and close before the whole head is sent
        except socket.timeout:
            pass
        response, closed, after = read_until_closed(sock, 3.0)
        sock.close()
        status = status_of(response)
        check.expect(
            status in statuses and closed and after is not None and after < 2.0,
            f"{name}: answered {status} (expected {'/'.join(map(str, statuses))}) and "
            + (f"closed after {after:.2f}s" if closed else "never closed"),
        )


def check_partial_head(check, address, head_timeout):
    limit = head_timeout + 3.0
    for name, payload in [("partial head", PARTIAL_HEAD), ("connection that sends nothing", b"")]:
        sock = connect(address)
        if payload:
            sock.sendall(payload)
        _, closed, after = read_until_closed(sock, limit)
        sock.close()
        check.expect(
            closed and after is not None and head_timeout * 0.8 <= after <= limit,
            f"{name}: closed by the server after "
            + (f"{after:.2f}s" if closed else f"more than {limit:.0f}s")
            + f" (head deadline {head_timeout:g}s)",
        )


def open_partial_heads(address, count, deadline):
    """Opens up to `count` connections, each with a partial head; returns (sockets, connect failures)."""
    sockets, failures = [], 0
    for _ in range(count):
        if time.monotonic() > deadline:
            break
        try:
            sock = socket.create_connection(address, timeout=2.0)
            sock.sendall(PARTIAL_HEAD)
            sock.setblocking(False)
            sockets.append(sock)
        except OSError:
            failures += 1
    return sockets, failures


def closed_within(sockets, timeout):
    """Waits up to `timeout` for the server to close each socket; returns the set of those it closed."""
    closed = set()
    selector = selectors.DefaultSelector()
    for sock in sockets:
        selector.register(sock, selectors.EVENT_READ)
    ends = time.monotonic() + timeout
    while len(closed) < len(sockets):
        left = ends - time.monotonic()
        if left <= 0:
            break
        for key, _ in selector.select(min(left, 0.2)):
            sock = key.fileobj
            try:
                data = sock.recv(65536)
            except BlockingIOError:
                continue
            except OSError:
                data = b""
            if not data:
                closed.add(sock)
                selector.unregister(sock)
    selector.close()
    return closed


def check_many_partial_heads(check, address, count, head_timeout):
    sockets, failures = open_partial_heads(address, count, time.monotonic() + 60)
    try:
        check.expect(
            len(sockets) == count and failures == 0,
            f"{len(sockets)} of {count} connections with a partial head opened ({failures} failed to connect)",
        )
        status, took = healthz(address, 5.0)
        check.expect(
            status == 200 and took < 1.0,
            f"GET /healthz with {len(sockets)} partial heads held open: {status} in {took:.2f}s (must answer 200 within 1 s)",
        )
        closed = closed_within(sockets, head_timeout + 10.0)
        check.expect(
            len(closed) == len(sockets),
            f"the server closed {len(closed)} of {len(sockets)} partial heads within the head deadline + 10 s",
        )
    finally:
        for sock in sockets:
            sock.close()


def log_count(path, text):
    if not path:
        return 0
    with open(path, "r", encoding="utf-8", errors="replace") as log:
        return sum(1 for line in log if text in line)


def check_flood(check, address, cap, extra, head_timeout, log_path):
    saturated_before = log_count(log_path, "Connection limit reached")
    recovered_before = log_count(log_path, "accepting new connections again")
    held, failures = open_partial_heads(address, cap, time.monotonic() + 60)
    flood, flood_failures = [], 0
    try:
        check.expect(
            len(held) == cap and failures == 0, f"{len(held)} of {cap} connections (the cap) opened with a partial head"
        )
        # Of the cap's worth, none is refused; each one past it must be closed at once, not queued. (The
        # held heads must outlive the flood: pick a head deadline well above the time both take to open.)
        flood, flood_failures = open_partial_heads(address, extra, time.monotonic() + 30)
        refused = closed_within(flood, 1.5)
        check.expect(
            len(refused) + flood_failures == extra,
            f"{len(refused) + flood_failures} of {extra} connections past the cap refused at once "
            f"({len(refused)} closed within 1.5 s, {flood_failures} refused on connect)",
        )
        early = closed_within(held, 0.2)
        check.expect(not early, f"{len(early)} of the {len(held)} connections within the cap were closed early")
    finally:
        for sock in flood:
            sock.close()
    # The flood has stopped: the held heads reach their deadline and the server takes requests again.
    started = time.monotonic()
    status = None
    while time.monotonic() - started < head_timeout + 3.0:
        status, _ = healthz(address, 1.0)
        if status == 200:
            break
        time.sleep(0.2)
    recovered_after = time.monotonic() - started
    for sock in held:
        sock.close()
    check.expect(
        status == 200 and recovered_after <= head_timeout + 3.0,
        f"after the flood GET /healthz answered {status} {recovered_after:.2f}s later (head deadline {head_timeout:g}s)",
    )
    if log_path:
        time.sleep(0.5)
        saturated = log_count(log_path, "Connection limit reached") - saturated_before
        recovered = log_count(log_path, "accepting new connections again") - recovered_before
        check.expect(saturated == 1, f"the flood was logged {saturated} times (expected once)")
        check.expect(recovered >= 1, f"the end of the flood was logged {recovered} times (expected at least once)")


def raise_descriptor_limit(needed):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < needed:
        target = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        soft = target
    return soft


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("base_url", help="the running herald, e.g. http://127.0.0.1:8080 (loopback only)")
    parser.add_argument("--head-timeout", type=float, default=10.0, help="the server's head deadline in seconds (default 10)")
    parser.add_argument("--partial", type=int, default=5000, help="partial heads held open at once (default 5000)")
    parser.add_argument("--max-connections", type=int, help="the server's connection cap; enables the flood check")
    parser.add_argument("--flood", type=int, default=200, help="connections past the cap in the flood (default 200)")
    parser.add_argument("--log", help="the server's log file, to check the flood is logged once")
    parser.add_argument("--time-limit", type=float, default=300.0, help="stop with a failure after this many seconds")
    args = parser.parse_args()

    url = urllib.parse.urlsplit(args.base_url)
    try:
        loopback = url.scheme == "http" and ipaddress.ip_address(url.hostname or "").is_loopback
    except ValueError:
        loopback = url.hostname == "localhost"
    if not loopback or url.port is None:
        print("the base URL must be http://<loopback address>:<port>", file=sys.stderr)
        return 2
    if not (0 < args.head_timeout <= 120 and 0 <= args.partial <= 20_000 and 0 <= args.flood <= 20_000):
        print("--head-timeout must be in (0, 120], --partial and --flood in [0, 20000]", file=sys.stderr)
        return 2
    if args.max_connections is not None and not (0 < args.max_connections <= 20_000):
        print("--max-connections must be in [1, 20000]", file=sys.stderr)
        return 2
    if args.max_connections is not None and args.partial >= args.max_connections:
        print("--partial must be below --max-connections (or /healthz would be refused)", file=sys.stderr)
        return 2
    address = (url.hostname, url.port)

    def out_of_time(*_):
        print(f"FAIL the check did not finish within {args.time_limit:g}s", flush=True)
        sys.exit(1)

    signal.signal(signal.SIGALRM, out_of_time)
    signal.alarm(max(1, int(args.time_limit)))

    needed = max(args.partial, (args.max_connections or 0) + args.flood) + 64
    available = raise_descriptor_limit(needed)
    if available < needed:
        print(f"FAIL this process may open {available} descriptors; the check needs {needed} (raise ulimit -n)", flush=True)
        return 1

    check = Check()
    status, took = healthz(address, 5.0)
    if not check.expect(status == 200, f"GET /healthz before the checks: {status} in {took:.2f}s"):
        return 1
    check_malformed_heads(check, address)
    check_partial_head(check, address, args.head_timeout)
    if args.partial:
        check_many_partial_heads(check, address, args.partial, args.head_timeout)
    if args.max_connections:
        check_flood(check, address, args.max_connections, args.flood, args.head_timeout, args.log)
    status, took = healthz(address, 5.0)
    check.expect(status == 200, f"GET /healthz after the checks: {status} in {took:.2f}s")

    if check.failures:
        print(f"{len(check.failures)} check(s) failed", flush=True)
        return 1
    print("every hostile-HTTP check passed", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
