#!/usr/bin/env python3
"""Workflow runs on several real `herald serve` nodes sharing one PostgreSQL database: each step exactly once.

Reuses scripts/cluster_check.py (imported as a module: its nodes, schema, smtp-sink and tenant set-up):

  workflows  three nodes; a topic of MEMBERS subscribers, each with an email address; one trigger of an event
             type whose workflow is `send in_app → wait 2s → send email or in_app (first_success)`, so each run
             makes an in-app message, waits, then emails the subscriber and stands in `sending` until the email
             is sent (the delivery wakes it; any node may advance it). Then, from the database (psql): every run
             completed (outcome finished, the same timeline), exactly one message per (event, subscriber, channel,
             step), the in-app ones delivered by one attempt, the emails sent by one attempt and none of them before
             its wait ended; from the sink: MEMBERS distinct recipients, none twice, none missing; through the API:
             `workflow.counts` and every page of `GET /v1/events/{id}/runs`. While the runs advance, the lease owners
             of claimed runs are sampled, to show more than one node advanced them.

Usage:
  scripts/workflow_check.py --postgres-url URL [--bin PATH] workflows [--members N] [--timeout S]

Prints progress on stderr and one JSON object on stdout (the last line). Exit status 0 only if every check held.
Standard library only; needs smtp-sink (Debian: postfix) and psql (Debian: postgresql-client).
"""

import argparse
import json
import os
import shutil
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.dont_write_bytecode = True  # no __pycache__ beside the scripts
import cluster_check as cc  # noqa: E402 - the folder is put on the path first

WAIT_SECONDS = 2
EVENT_TYPE = "nudge"
# A run's timeline once finished: [status, reason, channels] per step (see WorkflowStepper).
FINISHED_TIMELINE = [["done", None, ["in_app"]], ["done", "waited", None], ["done", "email_sent", ["email"]]]


def define_event_type(node, key):
    node.call("PUT", "/v1/event-types/%s" % EVENT_TYPE, {
        "priority": "medium", "channels": ["in_app", "email"], "parameters": {"n": {"type": "integer"}},
        "templates": {
            "in_app": {"en": {"title": "Nudge {{n}}", "body": "Please look."}},
            "email": {"en": {"subject": "Nudge {{n}} for {{subscriber.name}}", "html": "<p>Hello {{subscriber.name}}, please look.</p>",
                             "text": "Hello {{subscriber.name}}, please look."}},
        },
        "workflow": [
            {"send": "in_app"},
            {"wait": "%ds" % WAIT_SECONDS},
            {"send": ["email", "in_app"], "mode": "first_success"},
        ]}, key=key)


def run_counts(node, key, event):
    return (node.call("GET", "/v1/events/%s?limit=1" % event, key=key).get("workflow") or {}).get("counts") or {}


def api_pages(nodes, key, event, limit=1000):
    """Every run through `GET /v1/events/{id}/runs`, the pages fetched from the nodes in turn."""
    runs, cursor, page = [], None, 0
    while True:
        path = "/v1/events/%s/runs?limit=%d" % (event, limit) + ("&cursor=%s" % cursor if cursor else "")
        reply = nodes[page % len(nodes)].call("GET", path, key=key)
        runs += reply["data"]
        cursor = reply.get("next_cursor")
        page += 1
        if not cursor:
            return runs, page


def database_report(db, event, members):
    pk = db.value("SELECT pk FROM events WHERE id = '%s'" % event)
    report = {}
    report["runs"] = db.value("SELECT count(*) FROM workflow_runs WHERE event_pk = %d" % pk)
    report["run_subscribers"] = db.value("SELECT count(DISTINCT subscriber_pk) FROM workflow_runs WHERE event_pk = %d" % pk)
    report["runs_by_status"] = {("%s.%s" % (s, o) if o else s): int(n) for s, o, n in db.rows(
        "SELECT status, coalesce(outcome, ''), count(*) FROM workflow_runs WHERE event_pk = %d GROUP BY 1, 2" % pk)}
    report["runs_leased"] = db.value("SELECT count(*) FROM workflow_runs WHERE event_pk = %d AND lease_owner IS NOT NULL" % pk)
    timelines = {}
    for step, steps in db.rows("SELECT step, steps FROM workflow_runs WHERE event_pk = %d" % pk):
        shape = json.dumps([int(step)] + [[r.get("status"), r.get("reason"), r.get("channels")] for r in json.loads(steps)])
        timelines[shape] = timelines.get(shape, 0) + 1
    report["run_timelines"] = timelines
    report["messages_by_step"] = {"%s/%s/%s" % (st, ch, s): int(n) for st, ch, s, n in db.rows(
        "SELECT step, channel, status, count(*) FROM messages WHERE event_pk = %d GROUP BY 1, 2, 3 ORDER BY 1, 2, 3" % pk)}
    report["message_keys_twice"] = db.value(
        "SELECT count(*) FROM (SELECT 1 FROM messages WHERE event_pk = %d GROUP BY event_pk, subscriber_pk, channel, step "
        "HAVING count(*) > 1) d" % pk)
    report["runs_without_both_messages"] = db.value(
        "SELECT count(*) FROM workflow_runs r WHERE r.event_pk = %d AND (SELECT count(*) FROM messages m WHERE m.event_pk = r.event_pk "
        "AND m.subscriber_pk = r.subscriber_pk AND ((m.step = 1 AND m.channel = 'in_app') OR (m.step = 3 AND m.channel = 'email'))) != 2" % pk)
    report["messages_without_run"] = db.value(
        "SELECT count(*) FROM messages m WHERE m.event_pk = %d AND NOT EXISTS (SELECT 1 FROM workflow_runs r "
        "WHERE r.event_pk = m.event_pk AND r.subscriber_pk = m.subscriber_pk)" % pk)
    report["attempts_per_message"] = {str(n): int(c) for n, c in db.rows(
        "SELECT n, count(*) FROM (SELECT m.id, (SELECT count(*) FROM attempts a WHERE a.message_id = m.id) "
        "+ CASE WHEN m.sent_duration_ms IS NOT NULL THEN 1 ELSE 0 END AS n "
        "FROM messages m WHERE m.event_pk = %d) x GROUP BY n ORDER BY n" % pk)}
    report["attempt_outcomes"] = {"%s/%s" % (c, o): int(n) for c, o, n in db.rows(
        "SELECT m.channel, a.outcome, count(*) FROM %s a JOIN messages m ON m.id = a.message_id WHERE m.event_pk = %d "
        "GROUP BY 1, 2 ORDER BY 1, 2" % (cc.TRIES, pk))}
    report["messages_succeeding_twice"] = db.value(
        "SELECT count(*) FROM (SELECT a.message_id FROM %s a JOIN messages m ON m.id = a.message_id WHERE m.event_pk = %d "
        "AND a.outcome IN ('delivered', 'sent') GROUP BY a.message_id HAVING count(*) > 1) d" % (cc.TRIES, pk))
    gaps = ("FROM messages a JOIN messages b ON b.event_pk = a.event_pk AND b.subscriber_pk = a.subscriber_pk AND b.step = 3 "
            "WHERE a.event_pk = %d AND a.step = 1" % pk)
    report["second_send_before_wait_ended"] = db.value("SELECT count(*) %s AND b.created_at < a.created_at + %d" % (gaps, WAIT_SECONDS * 1000))
    report["shortest_gap_between_sends_ms"] = db.value("SELECT min(b.created_at - a.created_at) %s" % gaps)
    return report


def scenario_workflows(args):
    os.environ["HERALD_WORKFLOW_MIN_WAIT_SECONDS"] = "1"  # the nodes copy this environment
    os.environ.setdefault("HERALD_POLL_INTERVAL_SECONDS", "0.1")
    cluster = cc.Cluster(args, 3, dump_mail=True)
    a, b, c = cluster.nodes
    members = args.members
    result = {"scenario": "workflows", "nodes": 3, "members": members, "lease_seconds": args.lease}
    checks = []
    try:
        key = cc.set_up_tenant(cluster.nodes, members, members)
        define_event_type(a, key)
        db = cluster.db
        started = time.time()
        reply = a.call("POST", "/v1/events", {"type": EVENT_TYPE, "to": [{"topic": "everyone"}], "payload": {"n": 1}}, key=key)
        event = reply["event_id"]
        pk = db.value("SELECT pk FROM events WHERE id = '%s'" % event)

        # Sample which nodes hold claimed runs (lease owners are "<host>-<pid>-<random>") until every run has finished.
        claims_seen = {node.name: 0 for node in cluster.nodes}
        samples = {"count": 0, "with_two_or_more_nodes": 0}
        progress = {"last": 0}

        def sample_then_check():
            holders = set()
            for owner, count in db.rows("SELECT lease_owner, count(*) FROM workflow_runs WHERE event_pk = %d AND lease_owner IS NOT NULL "
                                        "GROUP BY lease_owner" % pk):
                for node in cluster.nodes:
                    if "-%d-" % node.proc.pid in owner:
                        claims_seen[node.name] += int(count)
                        holders.add(node.name)
            samples["count"] += 1
            samples["with_two_or_more_nodes"] += len(holders) >= 2
            counts = {s: int(n) for s, n in db.rows("SELECT status, count(*) FROM workflow_runs WHERE event_pk = %d GROUP BY status" % pk)}
            if time.time() - progress["last"] >= 10:
                progress["last"] = time.time()
                cc.log("%.0fs: runs %s" % (time.time() - started, counts))
            busy = db.value("SELECT count(*) FROM messages WHERE event_pk = %d AND status IN ('queued', 'sending')" % pk)
            return counts.get("completed", 0) == members and busy == 0

        cc.wait_until(sample_then_check, args.timeout, "every workflow run to finish", interval=0.1)
        elapsed = time.time() - started
        result["runs_finished_seconds"] = round(elapsed, 2)
        result["runs_per_second"] = round(members / elapsed)
        result["claimed_runs_sampled_by_node"] = claims_seen
        result["lease_samples"] = samples
        cc.log("%d runs finished in %.1fs; claimed runs sampled by node %s" % (members, elapsed, claims_seen))

        report = database_report(db, event, members)
        result.update(report)
        expected_timeline = json.dumps([3] + FINISHED_TIMELINE)
        checks.append(("every_run_completed", report["runs"] == members and report["run_subscribers"] == members
                       and report["runs_by_status"] == {"completed.finished": members} and report["runs_leased"] == 0))
        checks.append(("every_timeline_finished", report["run_timelines"] == {expected_timeline: members}))
        checks.append(("one_message_per_step", report["messages_by_step"] == {"1/in_app/delivered": members, "3/email/sent": members}
                       and report["message_keys_twice"] == 0 and report["runs_without_both_messages"] == 0
                       and report["messages_without_run"] == 0))
        checks.append(("one_attempt_per_message", report["attempts_per_message"] == {"1": 2 * members}
                       and report["attempt_outcomes"] == {"email/sent": members, "in_app/delivered": members}
                       and report["messages_succeeding_twice"] == 0))
        checks.append(("no_wait_cut_short", report["second_send_before_wait_ended"] == 0))

        # At the receiver: each subscriber's address once.
        recipients = cluster.sink.recipients()
        per_address = {}
        for address in recipients:
            per_address[address] = per_address.get(address, 0) + 1
        expected = {"user%06d@example.com" % i for i in range(members)}
        result["sink_messages"] = len(recipients)
        result["sink_distinct_recipients"] = len(per_address)
        result["sink_recipients_twice_or_more"] = sum(1 for n in per_address.values() if n > 1)
        result["sink_missing_recipients"] = len(expected - set(per_address))
        result["sink_unexpected_recipients"] = len(set(per_address) - expected)
        checks.append(("sink_each_recipient_once", result["sink_messages"] == members and result["sink_distinct_recipients"] == members
                       and result["sink_recipients_twice_or_more"] == 0 and result["sink_missing_recipients"] == 0
                       and result["sink_unexpected_recipients"] == 0))

        # Through the API, from every node: the counts, and each run's steps and their messages, page by page.
        result["api_counts"] = {node.name: run_counts(node, key, event) for node in cluster.nodes}
        checks.append(("api_counts", all(counts == {"completed": members, "completed.finished": members}
                                          for counts in result["api_counts"].values())))
        runs, pages = api_pages(cluster.nodes, key, event)
        shapes = {}
        for run in runs:
            shape = json.dumps([run["status"], run.get("outcome")] + [
                [step["status"], sorted("%s/%s" % (m["channel"], m["status"]) for m in step["messages"])] for step in run["steps"]])
            shapes[shape] = shapes.get(shape, 0) + 1
        result["api_pages"] = pages
        result["api_run_shapes"] = shapes
        expected_shape = json.dumps(["completed", "finished", ["done", ["in_app/delivered"]], ["done", []], ["done", ["email/sent"]]])
        checks.append(("api_runs", len(runs) == members and len({r["subscriber_id"] for r in runs}) == members
                       and shapes == {expected_shape: members}))

        # More than one node advanced the runs (seen holding claimed runs while they ran).
        result["nodes_seen_advancing_runs"] = sum(1 for n in claims_seen.values() if n > 0)
        checks.append(("runs_advanced_by_several_nodes", result["nodes_seen_advancing_runs"] >= 2))
    finally:
        cluster.close()
    result["checks"] = {name: ok for name, ok in checks}
    result["ok"] = bool(checks) and all(ok for _, ok in checks)
    return result


def main():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("scenario", choices=["workflows"])
    parser.add_argument("--postgres-url", default=os.environ.get("HERALD_TEST_POSTGRES_URL"))
    parser.add_argument("--bin", default=os.environ.get("HERALD_BIN") or os.path.join(root, ".build/debug/herald"))
    parser.add_argument("--members", type=int, default=20000, help="topic members: one workflow run each")
    parser.add_argument("--lease", type=float, default=5, help="HERALD_LEASE_SECONDS of every node")
    parser.add_argument("--timeout", type=float, default=300)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    args.bin = os.path.abspath(args.bin)
    if not args.postgres_url:
        raise SystemExit("no PostgreSQL: pass --postgres-url or set HERALD_TEST_POSTGRES_URL (scripts/postgres_test_cluster.sh start)")
    if not shutil.which("smtp-sink"):
        raise SystemExit("smtp-sink not found (Debian: apt-get install postfix)")
    result = {"workflows": scenario_workflows}[args.scenario](args)
    print(json.dumps(result, sort_keys=True), flush=True)
    sys.exit(0 if result["ok"] else 1)


if __name__ == "__main__":
    main()
