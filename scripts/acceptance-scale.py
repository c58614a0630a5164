#!/usr/bin/env python3
"""Measures two of Herald's acceptance points at full scale against a real `herald` binary.

  (7) kill -9 of the server while it delivers 100,000 in-app messages, restart on the same database,
      and verify that every message was delivered exactly once.
  (6) a topic of 100,000 subscribers fans out completely: seconds until every in-app message is
      delivered, and the server's resident memory before the trigger and at its peak.

(7) runs first because its 100,000 triggers (100 events x 1,000 inline recipients, sent in one bulk
request so the whole load is queued at once) also create the subscribers that (6) puts in a topic.
(6) then runs on a freshly started server over the same database, so its memory baseline is not
left over from (7).

Usage:
  scripts/acceptance-scale.py [--bin PATH] [--subscribers 100000] [--kill-at 0.3] [--keep]

The binary defaults to .build/release/herald if it exists, else .build/debug/herald. Everything
runs in a temporary directory on a free loopback port; the server processes are always stopped.
Output: a human summary, then one JSON line per measurement (prefixed by nothing, so
`grep '^{'` picks them out). Exit status is 0 only if every check passed.

Standard library only. Reads /proc/PID/status for memory (Linux). The exactly-once check goes
through the HTTP API; in addition, when Python's sqlite3 module is available, it cross-checks the
attempt log in the database file read-only.
"""

import argparse
import datetime
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

ADMIN_KEY = "acceptance-admin-key"
EVENT_TYPE = "announcement_posted"  # low priority; channels in_app and email (email is suppressed: no address)
PER_TRIGGER = 1000                  # the most recipients one trigger may name
TOPIC = "residents"


def log(*parts):
    print(*parts, flush=True)


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def parse_time(text):
    """RFC 3339 with milliseconds and a Z, as Herald writes them; returns seconds since 1970."""
    if text is None:
        return None
    text = text.replace("Z", "+00:00")
    return datetime.datetime.fromisoformat(text).timestamp()


def rss_kb(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return None


class HTTPError(Exception):
    pass


class Server:
    """One `herald serve` child process, with a memory sampler."""

    def __init__(self, binary, config, database, workdir, name):
        self.binary, self.config, self.database, self.workdir, self.name = binary, config, database, workdir, name
        self.proc = None
        self.port = None
        self.log_path = None
        self._sampler = None
        self._sampling = threading.Event()
        self.peak_rss_kb = 0
        self.samples = 0

    # -- lifecycle --

    def start(self, timeout=60):
        for attempt in range(5):
            self.port = free_port()
            self.log_path = os.path.join(self.workdir, "%s-%d.log" % (self.name, self.port))
            env = dict(os.environ)
            env.update({
                "HERALD_ADMIN_KEY": ADMIN_KEY,
                "HERALD_LEASE_SECONDS": env.get("HERALD_LEASE_SECONDS", "2"),
                "HERALD_POLL_INTERVAL_SECONDS": env.get("HERALD_POLL_INTERVAL_SECONDS", "0.05"),
                "HERALD_LOG_LEVEL": env.get("HERALD_LOG_LEVEL", "notice"),
            })
            logfile = open(self.log_path, "wb")
            self.proc = subprocess.Popen(
                [self.binary, "serve", "--config", self.config, "--database", self.database,
                 "--host", "127.0.0.1", "--port", str(self.port)],
                env=env, stdout=logfile, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
            logfile.close()
            self.started_at = time.time()
            deadline = time.time() + timeout
            exited = False
            while time.time() < deadline:
                if self.proc.poll() is not None:
                    exited = True  # most likely the port was taken between free_port() and bind: try another
                    break
                try:
                    status, _ = self.request("GET", "/healthz", timeout=2)
                    if status == 200:
                        return self
                except (OSError, HTTPError):
                    pass
                time.sleep(0.05)
            self.kill()
            if not exited:
                raise RuntimeError("server did not become healthy within %ss; log: %s\n%s" % (timeout, self.log_path, self.log_tail()))
        raise RuntimeError("server kept exiting at start; log: %s\n%s" % (self.log_path, self.log_tail()))

    def kill(self):
        """SIGKILL, then reap."""
        self.stop_sampling()
        if self.proc and self.proc.poll() is None:
            try:
                os.kill(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass

    def stop(self, timeout=20):
        """SIGTERM (graceful), SIGKILL if it does not exit in time."""
        self.stop_sampling()
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.kill()

    def log_tail(self, lines=30):
        try:
            with open(self.log_path, "rb") as f:
                return b"\n".join(f.read().splitlines()[-lines:]).decode("utf-8", "replace")
        except OSError:
            return ""

    def log_text(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    # -- memory --

    def rss_kb(self):
        return rss_kb(self.proc.pid)

    def start_sampling(self, interval=0.1):
        self.peak_rss_kb = self.rss_kb() or 0
        self.samples = 0
        self._sampling.clear()

        def run():
            while not self._sampling.is_set():
                value = rss_kb(self.proc.pid)
                if value is not None:
                    self.samples += 1
                    self.peak_rss_kb = max(self.peak_rss_kb, value)
                self._sampling.wait(interval)

        self._sampler = threading.Thread(target=run, daemon=True)
        self._sampler.start()

    def stop_sampling(self):
        self._sampling.set()
        if self._sampler:
            self._sampler.join(timeout=2)
            self._sampler = None

    # -- HTTP --

    def request(self, method, path, body=None, auth=None, timeout=120):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request("http://127.0.0.1:%d%s" % (self.port, path), data=data, method=method)
        if data is not None:
            req.add_header("Content-Type", "application/json")
        if auth:
            req.add_header("Authorization", "Bearer " + auth)
        try:
            with urllib.request.urlopen(req, timeout=timeout) as resp:
                text = resp.read()
                return resp.status, (json.loads(text) if text else None)
        except urllib.error.HTTPError as error:
            text = error.read().decode("utf-8", "replace")
            if error.code == 503 and path == "/readyz":
                return 503, json.loads(text) if text else None
            raise HTTPError("%s %s -> %d %s" % (method, path, error.code, text[:500]))

    def call(self, method, path, body=None, auth=None, timeout=120):
        return self.request(method, path, body, auth, timeout)[1]

    def queue_remaining(self):
        _, readiness = self.request("GET", "/readyz", timeout=10)
        queue = (readiness or {}).get("queue") or {}
        return sum(queue.get("by_priority", {}).values()), queue.get("fanout_jobs", 0)


# ---------------------------------------------------------------------------------------------------

def wait_until(condition, timeout, interval=0.1, what="condition"):
    deadline = time.time() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.time() >= deadline:
            raise RuntimeError("timed out after %ss waiting for %s" % (timeout, what))
        time.sleep(interval)


def in_app_messages(server, key, event_id):
    """Every in-app message of an event, all statuses, paging by cursor."""
    items, cursor = [], None
    while True:
        path = "/v1/messages?event=%s&channel=in_app&limit=1000" % event_id
        if cursor:
            path += "&cursor=" + urllib.request.quote(cursor)
        page = server.call("GET", path, auth=key)
        items.extend(page["data"] if "data" in page else page["items"])
        cursor = page.get("next_cursor")
        if not cursor:
            return items


def subscriber_ids(count):
    return ["r%06d" % i for i in range(count)]


def mb(kb):
    return round(kb / 1024.0, 1) if kb is not None else None


# ---------------------------------------------------------------------------------------------------
# (7) kill -9 mid-delivery, restart, exactly once

def measure_kill_restart(args, workdir, database, ids, results):
    n = len(ids)
    log("\n== (7) kill -9 while delivering %d in-app messages, restart, verify exactly once ==" % n)
    server = Server(args.bin, args.config, database, workdir, "kill").start()
    restarted = None
    try:
        created = server.call("POST", "/v1/tenants", {"name": "Acceptance scale"}, auth=ADMIN_KEY)
        key = created["api_key"]["key"]
        events = []
        for start in range(0, n, PER_TRIGGER):
            events.append({
                "type": EVENT_TYPE,
                "recipients": [{"id": i} for i in ids[start:start + PER_TRIGGER]],
                "payload": {"title": "Water off on Tuesday", "excerpt": "Maintenance from 9 to 12."},
            })
        log("sending %d triggers of up to %d inline recipients in one bulk request ..." % (len(events), PER_TRIGGER))
        t0 = time.time()
        receipts = server.call("POST", "/v1/events/bulk", {"events": events}, auth=key, timeout=600)["data"]
        event_ids = [r["event_id"] for r in receipts]
        accepted = time.time()
        log("accepted in %.1fs: %d events, %d in-app messages queued" % (
            accepted - t0, len(event_ids), sum(r["messages"].get("queued", 0) for r in receipts)))

        kill_after = int(n * args.kill_at)
        remaining, last_poll = n, None
        while True:
            remaining, _ = server.queue_remaining()
            last_poll = time.time()
            if remaining == 0 or n - remaining >= kill_after:
                break
            if last_poll - accepted > 600:
                raise RuntimeError("delivery made no progress to the kill point in 600s")
            time.sleep(0.01)
        if remaining == 0:
            raise RuntimeError("the queue drained before the kill point; raise --subscribers or lower --kill-at")

        # Kill while a batch is claimed ('sending'), so the crash leaves leases behind. Events are delivered
        # in order, so only the event now being delivered and the next one need looking at.
        def batch_in_flight():
            k = min((n - remaining) // PER_TRIGGER, len(event_ids) - 1)
            for event_id in event_ids[k:k + 2]:
                page = server.call("GET", "/v1/messages?event=%s&channel=in_app&status=sending&limit=1" % event_id, auth=key)
                if page["data"]:
                    return True
            return False
        in_flight = False
        deadline = time.time() + 10
        while time.time() < deadline:
            if batch_in_flight():
                in_flight = True
                break
            remaining, _ = server.queue_remaining()
            if remaining == 0:
                raise RuntimeError("the queue drained before the kill; raise --subscribers or lower --kill-at")
        os.kill(server.proc.pid, signal.SIGKILL)
        killed_at = time.time()
        server.proc.wait(timeout=10)
        log("kill -9 at %.2fs after the bulk was accepted; queue at the last poll before it: %d remaining (%d delivered); "
            "a claimed batch was %s" % (killed_at - accepted, remaining, n - remaining, "seen just before" if in_flight else "not seen"))

        restart_started = time.time()
        restarted = Server(args.bin, args.config, database, workdir, "restart").start()
        healthy = time.time()
        released = None
        for line in restarted.log_text().splitlines():
            if "released leases" in line and "count=" in line:
                try:
                    released = int(line.split("count=")[1].split()[0].strip(",]"))
                except ValueError:
                    pass

        def drained():
            left, _ = restarted.queue_remaining()
            return left == 0
        wait_until(drained, timeout=1800, interval=0.1, what="the queue to drain after the restart")
        finished = time.time()
        log("restarted (healthy after %.2fs), queue drained %.2fs after the restart began" % (healthy - restart_started, finished - restart_started))

        # Verification over the API: every event, every in-app message.
        pairs, duplicates_pairs, not_delivered, multi_attempt = {}, 0, 0, []
        delivered_before_kill = delivered_after_kill = 0
        statuses = {}
        all_ids = []
        for event_id in event_ids:
            for message in in_app_messages(restarted, key, event_id):
                pair = (event_id, message["subscriber_id"])
                if pair in pairs:
                    duplicates_pairs += 1
                pairs[pair] = message["id"]
                statuses[message["status"]] = statuses.get(message["status"], 0) + 1
                all_ids.append(message["id"])
                if message["status"] != "delivered":
                    not_delivered += 1
                    continue
                sent = parse_time(message.get("sent_at"))
                if sent is not None and sent < killed_at:
                    delivered_before_kill += 1
                else:
                    delivered_after_kill += 1
                if message.get("attempts", 1) > 1:
                    multi_attempt.append(message["id"])
        expected = {(e, i) for k, e in enumerate(event_ids) for i in ids[k * PER_TRIGGER:(k + 1) * PER_TRIGGER]}
        missing = len(expected - set(pairs)) + not_delivered
        unexpected = len(set(pairs) - expected)

        # The attempt log of every message that was claimed when the server died, plus a random sample.
        sample = multi_attempt[: args.attempt_checks] + random.sample(all_ids, min(args.attempt_checks, len(all_ids)))
        attempt_problems = 0
        for message_id in sample:
            detail = restarted.call("GET", "/v1/messages/%s" % message_id, auth=key)
            outcomes = [a["outcome"] for a in detail.get("attempt_log", [])]
            if outcomes.count("delivered") != 1:
                attempt_problems += 1
                if attempt_problems <= 5:
                    log("  attempt log of %s: %s" % (message_id, outcomes))

        # Inboxes of a sample of subscribers: exactly one item each.
        inbox_problems = 0
        inbox_sample = random.sample(ids, min(args.inbox_checks, len(ids)))
        for sid in inbox_sample:
            token = restarted.call("POST", "/v1/subscribers/%s/token" % sid, {}, auth=key)["token"]
            total = restarted.call("GET", "/v1/inbox/count", auth=token)["total"]
            if total != 1:
                inbox_problems += 1
                if inbox_problems <= 5:
                    log("  inbox of %s holds %d items, expected 1" % (sid, total))

        # Cross-check the whole attempt log in the database file (read-only), if sqlite3 is available.
        db_duplicates = None
        try:
            import sqlite3
            conn = sqlite3.connect("file:%s?mode=ro" % database, uri=True, timeout=30)
            db_duplicates = conn.execute(
                "SELECT count(*) FROM (SELECT message_id FROM (SELECT message_id, outcome FROM attempts UNION ALL "
                "SELECT id, status FROM messages WHERE sent_duration_ms IS NOT NULL) WHERE outcome = 'delivered' "
                "GROUP BY message_id HAVING count(*) > 1)").fetchone()[0]
            conn.close()
        except Exception as error:  # noqa: BLE001 - optional cross-check
            log("  (sqlite3 cross-check skipped: %s)" % error)

        duplicates = duplicates_pairs + attempt_problems + inbox_problems + (db_duplicates or 0)
        result = {
            "measurement": "kill9_restart_exactly_once",
            "messages": n,
            "events": len(event_ids),
            "binary": args.bin,
            "bulk_accept_seconds": round(accepted - t0, 2),
            "kill_after_accept_seconds": round(killed_at - accepted, 2),
            "killed_at_unix": round(killed_at, 3),
            "batch_seen_in_flight_at_kill": in_flight,
            "delivered_at_kill_polled": n - remaining,
            "delivered_before_kill": delivered_before_kill,
            "delivered_after_restart": delivered_after_kill,
            "leases_released_on_restart": released,
            "restart_to_healthy_seconds": round(healthy - restart_started, 2),
            "restart_to_all_delivered_seconds": round(finished - restart_started, 2),
            "in_app_statuses": statuses,
            "duplicates": duplicates,
            "duplicate_event_subscriber_pairs": duplicates_pairs,
            "attempt_logs_checked": len(sample),
            "attempt_logs_without_exactly_one_delivery": attempt_problems,
            "inboxes_checked": len(inbox_sample),
            "inboxes_wrong": inbox_problems,
            "db_messages_with_multiple_delivered_attempts": db_duplicates,
            "missing": missing,
            "unexpected": unexpected,
            "ok": duplicates == 0 and missing == 0 and unexpected == 0 and delivered_after_kill > 0,
        }
        results.append(result)
        log("delivered before the kill: %d, after the restart: %d" % (delivered_before_kill, delivered_after_kill))
        log("leases released on restart (messages in flight at the kill): %s" % released)
        log("in-app statuses: %s" % statuses)
        log("duplicates: %d   missing: %d   -> %s" % (duplicates, missing, "OK" if result["ok"] else "FAILED"))
        return key
    finally:
        server.kill()
        if restarted:
            restarted.stop()


# ---------------------------------------------------------------------------------------------------
# (6) topic fan-out

def measure_topic_fanout(args, workdir, database, ids, key, results):
    n = len(ids)
    log("\n== (6) a topic of %d subscribers fans out completely ==" % n)
    server = Server(args.bin, args.config, database, workdir, "fanout").start()
    try:
        server.call("PUT", "/v1/topics/%s" % TOPIC, {"name": "Residents"}, auth=key)
        t0 = time.time()
        for start in range(0, n, 5000):
            server.call("POST", "/v1/topics/%s/subscribers" % TOPIC, {"subscribers": ids[start:start + 5000]}, auth=key)
        topic = server.call("GET", "/v1/topics/%s" % TOPIC, auth=key)
        log("topic built in %.1fs: %s" % (time.time() - t0, json.dumps(topic)))
    finally:
        server.stop()

    # A fresh process, so the memory baseline is the server's own, not what building the topic left behind.
    server = Server(args.bin, args.config, database, workdir, "fanout").start()
    try:
        time.sleep(1.0)
        rss_before = server.rss_kb()
        server.start_sampling(0.1)
        t0 = time.time()
        receipt = server.call("POST", "/v1/events", {
            "type": EVENT_TYPE, "recipients": [{"topic": TOPIC}],
            "payload": {"title": "Annual general meeting", "excerpt": "Thursday at 7pm in the hall."},
        }, auth=key)
        event_id = receipt["event_id"]
        planned_at = [None]

        def done():
            details = server.call("GET", "/v1/events/%s?limit=1" % event_id, auth=key)
            if details["status"] == "planned" and planned_at[0] is None:
                planned_at[0] = time.time()
            return details["status"] == "planned" and details["counts"].get("delivered", 0) >= n and \
                details["counts"].get("queued", 0) == 0 and details["counts"].get("sending", 0) == 0
        wait_until(done, timeout=1800, interval=0.1, what="every topic message to be delivered")
        elapsed = time.time() - t0
        server.stop_sampling()
        peak = server.peak_rss_kb
        rss_after = server.rss_kb()

        delivered = [m for m in in_app_messages(server, key, event_id) if m["status"] == "delivered"]
        unique = len({m["subscriber_id"] for m in delivered})
        result = {
            "measurement": "topic_fanout",
            "subscribers": n,
            "binary": args.bin,
            "seconds_to_all_delivered": round(elapsed, 2),
            "seconds_to_fanout_planned": round(planned_at[0] - t0, 2) if planned_at[0] else None,
            "rss_before_mb": mb(rss_before),
            "peak_rss_mb": mb(peak),
            "rss_after_mb": mb(rss_after),
            "rss_samples": server.samples,
            "in_app_delivered": len(delivered),
            "in_app_delivered_unique_subscribers": unique,
            "ok": len(delivered) == n and unique == n,
        }
        results.append(result)
        log("all %d in-app messages delivered %.2fs after the trigger (fan-out planned after %s s)" % (
            len(delivered), elapsed, result["seconds_to_fanout_planned"]))
        log("server RSS: %.1f MB before the trigger, peak %.1f MB (%d samples every 100 ms)" % (
            mb(rss_before), mb(peak), server.samples))
        log("-> %s" % ("OK" if result["ok"] else "FAILED"))
    finally:
        server.stop()


def main():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    default_bin = os.path.join(root, ".build/release/herald")
    if not os.path.exists(default_bin):
        default_bin = os.path.join(root, ".build/debug/herald")
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bin", default=default_bin, help="herald binary (default: %(default)s)")
    parser.add_argument("--config", default=os.path.join(root, "herald.yml"), help="catalog/config file (default: %(default)s)")
    parser.add_argument("--subscribers", type=int, default=100000, help="subscribers and messages per measurement (default: %(default)s)")
    parser.add_argument("--kill-at", type=float, default=0.3, help="fraction delivered when (7) kills the server (default: %(default)s)")
    parser.add_argument("--attempt-checks", type=int, default=200, help="attempt logs to read over HTTP in (7)")
    parser.add_argument("--inbox-checks", type=int, default=200, help="inbox counts to read in (7)")
    parser.add_argument("--only", choices=["6", "7"], help="run one measurement ((6) alone creates its subscribers first)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = parser.parse_args()
    args.bin = os.path.abspath(args.bin)
    if not os.access(args.bin, os.X_OK):
        sys.exit("no executable herald at %s (build it, or pass --bin)" % args.bin)
    if args.subscribers % PER_TRIGGER:
        sys.exit("--subscribers must be a multiple of %d" % PER_TRIGGER)

    workdir = tempfile.mkdtemp(prefix="herald-acceptance-")
    database = os.path.join(workdir, "herald.sqlite")
    ids = subscriber_ids(args.subscribers)
    results = []
    log("herald binary: %s" % args.bin)
    log("work directory: %s" % workdir)
    try:
        if args.only == "6":
            key = create_subscribers_only(args, workdir, database, ids)
        else:
            key = measure_kill_restart(args, workdir, database, ids, results)
        if args.only != "7":
            measure_topic_fanout(args, workdir, database, ids, key, results)
    finally:
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)

    log("\n== summary ==")
    for r in results:
        if r["measurement"] == "topic_fanout":
            log("(6) topic of %d: all in-app delivered in %.2fs; RSS %.1f MB before, peak %.1f MB  [%s]" % (
                r["subscribers"], r["seconds_to_all_delivered"], r["rss_before_mb"], r["peak_rss_mb"], "OK" if r["ok"] else "FAILED"))
        else:
            log("(7) %d in-app: killed %.2fs into delivery with %d delivered (%d by sent_at), restart finished in %.2fs; "
                "duplicates %d, missing %d  [%s]" % (
                    r["messages"], r["kill_after_accept_seconds"], r["delivered_at_kill_polled"], r["delivered_before_kill"],
                    r["restart_to_all_delivered_seconds"], r["duplicates"], r["missing"], "OK" if r["ok"] else "FAILED"))
    for r in results:
        print(json.dumps(r, sort_keys=True), flush=True)
    sys.exit(0 if results and all(r["ok"] for r in results) else 1)


def create_subscribers_only(args, workdir, database, ids):
    """For --only 6: creates the tenant and subscribers without delivering anything (send_at a day ahead, then cancelled)."""
    server = Server(args.bin, args.config, database, workdir, "setup").start()
    try:
        key = server.call("POST", "/v1/tenants", {"name": "Acceptance scale"}, auth=ADMIN_KEY)["api_key"]["key"]
        send_at = (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
        for start in range(0, len(ids), PER_TRIGGER * 10):
            events = [{
                "type": EVENT_TYPE, "send_at": send_at,
                "recipients": [{"id": i} for i in ids[s:s + PER_TRIGGER]],
                "payload": {"title": "Setup", "excerpt": "x"},
            } for s in range(start, min(start + PER_TRIGGER * 10, len(ids)), PER_TRIGGER)]
            for receipt in server.call("POST", "/v1/events/bulk", {"events": events}, auth=key, timeout=600)["data"]:
                server.call("DELETE", "/v1/events/%s" % receipt["event_id"], auth=key)
        return key
    finally:
        server.stop()


if __name__ == "__main__":
    main()
