#!/usr/bin/env python3
"""Herald on PostgreSQL at ten million subscribers (issue 23): loads a database of that size on this machine
and measures what docs/scaling.md reports. A measurement tool, not part of CI: at its defaults it needs about
15 GB of disk and half an hour.

    scripts/postgres_test_cluster.sh start     # prints HERALD_TEST_POSTGRES_URL
    scripts/scale_check.py --bin .build-release/release/herald --postgres-url "$HERALD_TEST_POSTGRES_URL"

What it loads (with SQL, into a schema a `herald serve` node has just migrated):
  - --subscribers subscribers in --tenants tenants of Zipf-like sizes; the largest, made through the API
    ("Estate"), holds --topic-members members in topic `everyone` and has an in-app event type `bulletin`;
  - a day of history in yesterday's partitions: --history messages (in-app, delivered, with their events),
    all expired, so retention drops the day whole;
  - --inbox-messages delivered in-app messages today for one member of `everyone`, `reader`, and one message today
    for each of --today-messages other members (a day's traffic, so today's statistics are not the reader's alone).

What it measures, printed as one JSON line:
  1. `bulletin` triggered to `everyone`: the time until every member's message is delivered (each once: the
     recipient key is unique, and the count of messages per member is checked), and the rate;
  2. while that runs, `reader`'s `GET /v1/inbox?limit=20` and `GET /v1/inbox/count` (subscriber token), and the
     tenant's `GET /v1/messages?limit=50`, one after another: p50, p99 and max in milliseconds;
  3. during the fan-out, a second node (`--role worker`) starts: its first retention round drops yesterday's
     partitions while delivery runs; its log line gives how long the drop took, and the rows left show what
     it removed;
  4. then a steady mixed load on both nodes: for --steady-seconds, single triggers at --steady-rate a second from
     two client threads, to members of the largest tenant picked across its 1.2 million (six in ten `bulletin`,
     in-app, to one member; three in ten `notice`, in-app and email, to one member with an address; one in ten
     `bulletin` to ten members), while the reader goes on reading. It reports the rate reached, each trigger's
     request time, each message's time from its trigger to its delivery (in-app) or the SMTP server's acceptance
     (email), p50, p99 and max, and that every message was delivered once.
"""
import argparse
import json
import os
import statistics
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cluster_check as cc  # noqa: E402 - the nodes, schema and psql helpers this reuses

DAY_MS = 86_400_000


def tenant_sizes(total, tenants, largest):
    """The largest tenant's size, then tenants - 1 sizes that fall off as 1/rank and add up to the rest."""
    rest = total - largest
    weights = [1.0 / rank for rank in range(2, tenants + 1)]
    scale = rest / sum(weights)
    sizes = [max(20, int(w * scale)) for w in weights]
    sizes[-1] += rest - sum(sizes)
    return [largest] + sizes


def psql_script(db, sql, timeout=7200):
    """Runs a multi-statement script in one psql session, in the schema."""
    started = time.time()
    db.rows(sql, timeout=timeout)
    return time.time() - started


def load(db, args, tenant_id):
    now = int(time.time() * 1000)
    sizes = tenant_sizes(args.subscribers, args.tenants, args.largest)
    others = ",".join("('tn_scale_%04d', 'Tenant %d', %d)" % (i, i, sizes[i]) for i in range(1, len(sizes)))
    cc.log("loading %d subscribers in %d tenants (largest %d, smallest %d)" % (sum(sizes), len(sizes), sizes[0], min(sizes)))
    seconds = psql_script(db, """
        CREATE TEMP TABLE sizes(tenant_id text, name text, n int);
        INSERT INTO sizes VALUES %(others)s;
        INSERT INTO tenants(id, name, created_at) SELECT tenant_id, name, %(now)d FROM sizes;
        INSERT INTO subscribers(tenant_id, id, name, email, created_at, updated_at)
        SELECT '%(big)s', 'r' || lpad(g::text, 7, '0'), 'Resident ' || g,
               CASE WHEN g %% 5 = 0 THEN 'r' || g || '@example.com' END, %(now)d, %(now)d
        FROM generate_series(1, %(largest)d) g;
        INSERT INTO subscribers(tenant_id, id, name, email, created_at, updated_at)
        SELECT s.tenant_id, 'u' || g, 'User ' || g, CASE WHEN g %% 5 = 0 THEN 'u' || g || '@example.com' END, %(now)d, %(now)d
        FROM sizes s, generate_series(1, s.n) g;
        INSERT INTO topic_members(topic_pk, subscriber_pk)
        SELECT t.pk, s.pk FROM topics t JOIN subscribers s ON s.tenant_id = t.tenant_id
        WHERE t.tenant_id = '%(big)s' AND t.key = 'everyone' AND s.id <= 'r' || lpad('%(members)d', 7, '0');
        ANALYZE subscribers; ANALYZE topic_members;
        """ % {"others": others, "now": now, "big": tenant_id, "largest": sizes[0], "members": args.topic_members})
    cc.log("subscribers and members loaded in %.0f s" % seconds)

    today = db.value("SELECT floor(extract(epoch FROM now()) / 86400)::bigint")
    yesterday = today - 1
    events = max(1, args.history // 100)
    cc.log("loading a day of history: %d messages of %d events, yesterday (day %d), expired" % (args.history, events, yesterday))
    seconds = psql_script(db, """
        SELECT herald_ensure_history_partitions(%(day)d, %(day)d);
        INSERT INTO events(pk, id, tenant_id, type, priority, status, payload, plan, created_at, expires_at)
        SELECT (%(day)d::bigint << 32) + g, 'ev_hist_' || g, 'tn_scale_' || lpad((1 + g %% %(others)d)::text, 4, '0'), 'bulletin', 2,
               'planned', '{"n": 1}', '{}', %(then)d, %(expired)d
        FROM generate_series(1, %(events)d) g;
        INSERT INTO messages(tenant_id, event_pk, subscriber_pk, channel, priority, status, available_at, created_at, updated_at, sent_at,
                             expires_at, title, body, attempts)
        SELECT s.tenant_id, (%(day)d::bigint << 32) + 1 + g / 100, s.pk, 'in_app', 2, 'delivered', %(then)d, %(then)d, %(then)d, %(then)d,
               %(expired)d, 'Bulletin ' || g, 'Bulletin number ' || g || '.', 1
        FROM generate_series(0, %(last)d) g JOIN subscribers s ON s.pk = 1 + (g::bigint * 7919) %% %(subscribers)d;
        """ % {"day": yesterday, "others": args.tenants - 1, "then": now - DAY_MS // 2, "expired": now - 60_000,
               "events": events, "last": args.history - 1, "subscribers": args.subscribers})
    cc.log("history loaded in %.0f s" % seconds)

    cc.log("loading %d inbox messages for reader" % args.inbox_messages)
    seconds = psql_script(db, """
        INSERT INTO events(pk, id, tenant_id, type, priority, status, payload, plan, created_at, expires_at)
        SELECT (%(day)d::bigint << 32) + 3000000000 + g, 'ev_reader_' || g, '%(big)s', 'bulletin', 2, 'planned', '{"n": 1}', '{}',
               %(now)d - 1000000 + g, %(keep)d
        FROM generate_series(1, %(count)d) g;
        INSERT INTO messages(tenant_id, event_pk, subscriber_pk, channel, priority, status, available_at, created_at, updated_at, sent_at,
                             expires_at, title, body, attempts)
        SELECT '%(big)s', e.pk, s.pk, 'in_app', 2, 'delivered', e.created_at, e.created_at, e.created_at, e.created_at, %(keep)d,
               'Reader ' || e.id, 'For the reader.', 1
        FROM events e, subscribers s WHERE e.id LIKE 'ev_reader_%%' AND s.tenant_id = '%(big)s' AND s.id = 'r0000001'
        ORDER BY e.pk;
        ANALYZE events; ANALYZE messages;
        """ % {"day": today, "big": tenant_id, "now": now, "keep": now + 30 * DAY_MS, "count": args.inbox_messages})
    cc.log("inbox messages loaded in %.0f s" % seconds)
    # The rest of today's traffic: one message each for --today-messages other members, so the partition's statistics
    # are a day's, not the reader's alone (with only the reader's rows analyzed, the planner expects every row of
    # the partition to be theirs, and as the fan-out fills it, reads their inbox by scanning the whole partition).
    seconds = psql_script(db, """
        INSERT INTO events(pk, id, tenant_id, type, priority, status, payload, plan, created_at, expires_at)
        SELECT (%(day)d::bigint << 32) + 3100000000 + g, 'ev_today_' || g, '%(big)s', 'bulletin', 2, 'planned', '{"n": 1}', '{}',
               %(now)d - 500000 + g, %(keep)d
        FROM generate_series(1, %(events)d) g;
        INSERT INTO messages(tenant_id, event_pk, subscriber_pk, channel, priority, status, available_at, created_at, updated_at, sent_at,
                             expires_at, title, body, attempts)
        SELECT '%(big)s', (%(day)d::bigint << 32) + 3100000001 + x.rn %% %(events)d, x.pk, 'in_app', 2, 'delivered',
               %(now)d, %(now)d, %(now)d, %(now)d, %(keep)d, 'Today', 'Another member''s message.', 1
        FROM (SELECT pk, row_number() OVER (ORDER BY pk) - 1 AS rn FROM subscribers
              WHERE tenant_id = '%(big)s' AND id <> 'r0000001' ORDER BY pk LIMIT %(count)d) x;
        """ % {"day": today, "big": tenant_id, "now": now, "keep": now + 30 * DAY_MS, "count": args.today_messages,
               "events": max(1, args.today_messages // 100)})
    cc.log("%d other messages of today loaded in %.0f s" % (args.today_messages, seconds))
    # A reader's 10,000 messages came over weeks, and autovacuum has long since marked their pages all-visible,
    # which index-only scans (the inbox count) rely on; here they were written a moment ago, so vacuum once.
    stamp = time.strftime("%Y%m%d", time.gmtime(today * 86400))
    seconds = psql_script(db, "VACUUM (ANALYZE) messages_%s" % stamp)
    psql_script(db, "VACUUM (ANALYZE) events_%s" % stamp)
    cc.log("today's messages vacuumed in %.0f s" % seconds)
    return yesterday


def percentiles(samples):
    ordered = sorted(samples)
    if not ordered:
        return {}

    def at(q):
        return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 2)
    return {"count": len(ordered), "p50_ms": at(0.5), "p99_ms": at(0.99), "max_ms": round(ordered[-1], 2)}


def drop_lines(log_path):
    """The lines of a node's log that report a day of history dropped."""
    with open(log_path, "rb") as handle:
        return [line.decode("utf-8", "replace") for line in handle if b"a day of history" in line]


def timed(node, path, key):
    started = time.perf_counter()
    node.request("GET", path, key=key, timeout=30)
    return (time.perf_counter() - started) * 1000


def steady_load(node, key, args):
    """The steady mixed load (point 4 of the docstring): the triggers' request times, and what went wrong."""
    interval = 1.0 / args.steady_rate
    started = time.time()
    requests, errors, lock = [], [], threading.Lock()
    emailed = max(1, args.largest // 5)  # members r0000005, r0000010, ...: those with an address

    def trigger(n):
        kind = n % 10
        if kind < 6:
            return {"type": "bulletin", "to": [{"id": "r%07d" % (1 + (n * 7919) % args.largest)}], "payload": {"n": n}}
        if kind < 9:
            return {"type": "notice", "to": [{"id": "r%07d" % (5 * (1 + (n * 104729) % emailed))}], "payload": {"n": n}}
        return {"type": "bulletin", "to": [{"id": "r%07d" % (1 + (n * 7919 + k * 100003) % args.largest)} for k in range(10)],
                "payload": {"n": n}}

    def sender(first):
        n = first
        while n * interval < args.steady_seconds:
            delay = started + n * interval - time.time()
            if delay > 0:
                time.sleep(delay)
            begun = time.perf_counter()
            try:
                node.call("POST", "/v1/events", trigger(n), key=key, timeout=30)
                with lock:
                    requests.append((time.perf_counter() - begun) * 1000)
            except Exception as error:  # noqa: BLE001 - a refused trigger is a finding
                with lock:
                    errors.append(str(error)[:200])
            n += 2

    threads = [threading.Thread(target=sender, args=(first,), daemon=True) for first in (0, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return started, time.time() - started, requests, errors


def steady_report(db, tenant_id, args, steady):
    """What the steady load's triggers became, read from the database once every message is final."""
    started, seconds, requests, errors = steady
    since = int(started * 1000) - 1000
    sent = len(requests)
    expected = sum(10 if n % 10 == 9 else 2 if n % 10 in (6, 7, 8) else 1 for n in range(int(args.steady_seconds * args.steady_rate)))
    where = "e.tenant_id = '%s' AND e.created_at >= %d AND e.type IN ('bulletin', 'notice')" % (tenant_id, since)
    cc.wait_until(lambda: db.value(
        "SELECT count(*) FROM messages m JOIN events e ON e.pk = m.event_pk WHERE %s AND m.status IN ('delivered', 'sent')" % where)
        >= expected or errors, 300, "the steady load's deliveries", interval=1.0)
    rows = db.rows("""
        SELECT m.channel, m.status, m.sent_at - e.created_at FROM messages m JOIN events e ON e.pk = m.event_pk WHERE %s""" % where)
    latencies = {}
    statuses = {}
    for channel, status, latency in rows:
        statuses["%s %s" % (channel, status)] = statuses.get("%s %s" % (channel, status), 0) + 1
        if latency is not None:
            latencies.setdefault(channel, []).append(float(latency))
    twice = db.value("""
        SELECT count(*) FROM (SELECT m.event_pk, m.subscriber_pk, m.channel FROM messages m JOIN events e ON e.pk = m.event_pk
        WHERE %s GROUP BY 1, 2, 3 HAVING count(*) > 1) x""" % where)
    return {
        "seconds": round(seconds, 1), "triggers": sent, "per_second": round(sent / seconds, 1), "refused": errors[:5],
        "request": percentiles(requests), "messages": len(rows), "expected_messages": expected, "statuses": statuses,
        "trigger_to_delivered": {channel: percentiles(values) for channel, values in latencies.items()}, "twice": twice,
        "ok": not errors and len(rows) == expected and twice == 0
        and sum(count for name, count in statuses.items() if name.endswith(("delivered", "sent"))) == expected,
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--postgres-url", default=os.environ.get("HERALD_TEST_POSTGRES_URL"))
    parser.add_argument("--bin", default=".build-release/release/herald")
    parser.add_argument("--subscribers", type=int, default=10_000_000)
    parser.add_argument("--tenants", type=int, default=2000)
    parser.add_argument("--largest", type=int, default=1_200_000, help="subscribers of the largest tenant")
    parser.add_argument("--topic-members", type=int, default=1_000_000)
    parser.add_argument("--history", type=int, default=10_000_000, help="messages of yesterday's history")
    parser.add_argument("--inbox-messages", type=int, default=10_000)
    parser.add_argument("--today-messages", type=int, default=200_000, help="today's messages for other members, before the fan-out")
    parser.add_argument("--steady-seconds", type=float, default=60, help="how long the steady mixed load runs")
    parser.add_argument("--steady-rate", type=float, default=100, help="triggers a second of the steady mixed load")
    parser.add_argument("--lease", type=float, default=30)
    parser.add_argument("--timeout", type=float, default=1800)
    parser.add_argument("--keep", action="store_true", help="keep the schema and the nodes' logs")
    args = parser.parse_args()
    if not args.postgres_url:
        raise SystemExit("--postgres-url or HERALD_TEST_POSTGRES_URL is needed")
    args.bin = os.path.abspath(args.bin)
    if args.topic_members > args.largest or args.largest >= args.subscribers:
        raise SystemExit("--topic-members must fit in --largest, and --largest be below --subscribers")

    result = {"scenario": "scale", "binary": args.bin, "subscribers": args.subscribers, "tenants": args.tenants,
              "topic_members": args.topic_members, "history_messages": args.history, "inbox_messages": args.inbox_messages}
    # The reader polls as fast as its answers come (two requests per 50 ms round and more); the per-token limit
    # that protects a real deployment would answer 429 and end the measurement, so the nodes run without it.
    os.environ.setdefault("HERALD_API_SUBSCRIBER_PER_SECOND", "0")
    cluster = cc.Cluster(args, 1, dump_mail=False)
    second = None
    try:
        node = cluster.nodes[0]
        key = node.call("POST", "/v1/tenants", {"name": "Estate"}, key=cc.ADMIN_KEY)["api_key"]["key"]
        tenant_id = cluster.db.rows("SELECT id FROM tenants WHERE name = 'Estate'")[0][0]
        node.call("PUT", "/v1/event-types/bulletin", {
            "priority": "medium", "channels": ["in_app"], "parameters": {"n": {"type": "integer"}},
            "templates": {"in_app": {"en": {"title": "Bulletin {{n}}", "body": "Bulletin number {{n}} for {{subscriber.name}}."}}}}, key=key)
        node.call("PUT", "/v1/event-types/notice", {
            "priority": "medium", "channels": ["in_app", "email"], "parameters": {"n": {"type": "integer"}},
            "templates": {"in_app": {"en": {"title": "Notice {{n}}", "body": "Notice {{n}} for {{subscriber.name}}."}},
                          "email": {"en": {"subject": "Notice {{n}} for {{subscriber.name}}",
                                           "html": "<p>Hello {{subscriber.name}},</p><p>This is notice <b>{{n}}</b>.</p>"}}}}, key=key)
        node.call("PUT", "/v1/topics/everyone", {"name": "Everyone"}, key=key)
        started = time.time()
        yesterday = load(cluster.db, args, tenant_id)
        result["load_seconds"] = round(time.time() - started)
        token = node.call("POST", "/v1/subscribers/r0000001/token", {}, key=key)["token"]
        # Before the load: the inbox of a reader with 10,000 messages on a quiet server.
        quiet = {"inbox": [], "count": []}
        for _ in range(50):
            quiet["inbox"].append(timed(node, "/v1/inbox?limit=20", token))
            quiet["count"].append(timed(node, "/v1/inbox/count", token))
        result["quiet"] = {name: percentiles(samples) for name, samples in quiet.items()}

        samples = {"inbox": [], "count": [], "messages": []}
        # When each round began, from the trigger: the run is cut into its phases below.
        rounds = []
        stop = threading.Event()
        triggered = None

        def read_while_delivering():
            while not stop.is_set():
                try:
                    rounds.append(time.time() - (triggered or time.time()))
                    samples["inbox"].append(timed(node, "/v1/inbox?limit=20", token))
                    samples["count"].append(timed(node, "/v1/inbox/count", token))
                    samples["messages"].append(timed(node, "/v1/messages?limit=50", key))
                except Exception as error:  # noqa: BLE001 - a failed read is a finding, not a crash
                    samples.setdefault("errors", []).append(str(error)[:200])
                time.sleep(0.05)

        reader = threading.Thread(target=read_while_delivering, daemon=True)
        reader.start()
        triggered = time.time()
        event = node.call("POST", "/v1/events", {"type": "bulletin", "to": [{"topic": "everyone"}], "payload": {"n": 1}}, key=key)["event_id"]
        # A second node joins a few seconds in; its first retention round drops yesterday while delivery runs.
        time.sleep(5)
        second_started = time.time() - triggered
        second = cc.Node(args.bin, "B", cluster.db.herald_url, cluster.workdir, cluster.sink.port, args.lease, "worker",
                         extra_env={"HERALD_LOG_LEVEL": "notice"})
        second.wait_healthy()
        cc.wait_until(lambda: drop_lines(second.log_path), 120, "yesterday's drop", interval=0.1)
        dropped = time.time() - triggered
        # The event is `planned` once its last chunk is written; a count of its messages (a read of a million rows)
        # is made only then, so the waiting does not load the database it measures.
        cc.wait_until(lambda: cluster.db.rows("SELECT status FROM events WHERE id = '%s'" % event)[0][0] == "planned", args.timeout,
                      "the fan-out", interval=0.5)
        fanned_out = time.time() - triggered
        cc.wait_until(lambda: cluster.db.value(
            "SELECT count(*) FROM messages m JOIN events e ON e.pk = m.event_pk WHERE e.id = '%s' AND m.status = 'delivered'" % event)
            >= args.topic_members, args.timeout, "the deliveries", interval=2.0)
        steady = None
        if args.steady_seconds > 0:
            steady = steady_load(node, key, args)
        stop.set()
        reader.join(timeout=30)
        seconds = cluster.db.value(
            "SELECT max(m.updated_at) - min(e.created_at) FROM messages m JOIN events e ON e.pk = m.event_pk WHERE e.id = '%s'" % event) / 1000.0
        result["fanout"] = {
            "messages": args.topic_members, "seconds": round(seconds, 1), "per_second": round(args.topic_members / seconds),
            "wall_seconds": round(time.time() - triggered, 1),
            "rows": cluster.db.value("SELECT count(*) FROM messages m JOIN events e ON e.pk = m.event_pk WHERE e.id = '%s'" % event),
            "members_with_two": cluster.db.value(
                "SELECT count(*) FROM (SELECT m.subscriber_pk FROM messages m JOIN events e ON e.pk = m.event_pk WHERE e.id = '%s' "
                "GROUP BY m.subscriber_pk HAVING count(*) > 1) x" % event),
        }
        result["while_delivering"] = {name: percentiles(values) for name, values in samples.items() if name != "errors"}

        # The same reads by phase: before the second node starts, the activity log steps over yesterday's expired rows
        # (loaded expired; in production a day waits for its drop only until its last row expires, `nextDropAt`);
        # then the second node's start and its drop; then the fan-out alone, to its last chunk.
        def phase(start, end):
            picked = {name: [value for at, value in zip(rounds, values) if start <= at < end]
                      for name, values in samples.items() if name != "errors"}
            return {"from_s": round(start, 1), "to_s": round(end, 1), **{name: percentiles(values) for name, values in picked.items()}}
        result["phases"] = {
            "before_second_node": phase(0, second_started),
            "second_node_and_drop": phase(second_started, dropped),
            "after_drop_to_fanned_out": phase(dropped, fanned_out),
        }
        if steady:
            result["phases"]["steady_load"] = phase(steady[0] - triggered, steady[0] - triggered + steady[1])
            result["steady"] = steady_report(cluster.db, tenant_id, args, steady)
        result["read_errors"] = samples.get("errors", [])[:5]
        drops = drop_lines(second.log_path)
        suffix = "%s" % time.strftime("%Y%m%d", time.gmtime(yesterday * 86400))
        result["drop"] = {
            "log": drops[:3],
            "yesterday_gone": cluster.db.value("SELECT count(*) FROM pg_tables WHERE schemaname = current_schema() AND tablename LIKE '%%_%s'"
                                               % suffix) == 0,
        }
        result["storage"] = cc.storage_report(cluster.db)
        checks = [
            result["fanout"]["rows"] == args.topic_members and result["fanout"]["members_with_two"] == 0,
            result["drop"]["yesterday_gone"] and bool(drops),
            not result["read_errors"],
            not steady or result["steady"]["ok"],
        ]
        result["ok"] = all(checks)
    finally:
        if second:
            second.stop()
        cluster.close()
    print(json.dumps(result, sort_keys=True))
    return 0 if result.get("ok") else 1


if __name__ == "__main__":
    sys.exit(main())
