import Foundation

/// Workflow runs, once for both stores (each store reads its planner inputs as its planning does).
extension SQLDatabase where Self: WorkflowStore {
    public func claimWorkflowRuns(owner: String, limit: Int, now: Date, leaseUntil: Date) async throws -> [ClaimedRun] {
        let open = WorkflowRunStatus.allCases.filter(\.isOpen).map { "'\($0.rawValue)'" }.joined(separator: ", ")
        // A read first: an idle runner looks every poll interval, and on SQLite a write would take the one writer
        // from the dispatcher each time, for nothing.
        guard
            try await !readRows(
                "SELECT 1 FROM workflow_runs WHERE status IN (\(sql: open)) AND available_at <= \(now) LIMIT 1"
            ).isEmpty
        else { return [] }
        return try await writeRows(
            """
            UPDATE workflow_runs SET lease_owner = \(owner), available_at = \(leaseUntil)
            WHERE id IN (
                SELECT id FROM workflow_runs WHERE status IN (\(sql: open)) AND available_at <= \(now)
                ORDER BY priority, available_at LIMIT \(limit)\(sql: dialect.skippingLocked))
            RETURNING id, tenant_id, event_pk, subscriber_pk
            """
        ).compactMap { row in
            guard let id = row[0].integer, let tenantID = row[1].text, let eventPK = row[2].integer, let subscriberPK = row[3].integer else { return nil }
            return ClaimedRun(id: id, tenantID: tenantID, eventPK: eventPK, subscriberPK: subscriberPK)
        }
    }

    public func advanceWorkflowRuns(_ runs: [ClaimedRun], owner: String, now: Date) async throws -> [FinishedRun] {
        guard !runs.isEmpty else { return [] }
        var events: [Int64: WorkflowSteps.RunEvent] = [:]
        for batch in SQLQuery.batches(Array(Set(runs.map(\.eventPK))).map { [SQLValue($0)] }, in: dialect) {
            for row in try await readRows(
                """
                SELECT pk, id, type, plan, payload, expires_at, status FROM events
                WHERE pk IN (SELECT column1 FROM (VALUES \(rows: batch)) AS v WHERE true)
                """)
            {
                guard let pk = row[0].integer, let id = row[1].text, let type = row[2].text,
                    let plan = row[3].text.flatMap({ try? JSONCoding.decoder.decode(EventType.self, from: Data($0.utf8)) })
                else { continue }
                events[pk] = WorkflowSteps.RunEvent(
                    id: id, type: type, plan: plan,
                    payload: row[4].text.flatMap { try? JSONCoding.decoder.decode([String: JSONValue].self, from: Data($0.utf8)) } ?? [:],
                    expiresAt: row[5].date ?? now, cancelled: row[6].text == Event.Status.cancelled.rawValue)
            }
        }
        // One transaction per tenant and event type: planning reads that tenant's settings and those rules.
        let groups = Dictionary(grouping: runs) { run in "\(run.tenantID)\u{0}\(events[run.eventPK]?.type ?? "")" }
        var finished: [FinishedRun] = []
        for key in groups.keys.sorted() {
            guard let group = groups[key], let first = group.first, let type = events[first.eventPK]?.type else { continue }
            let inputs = try await plannerInputs(tenantID: first.tenantID, subscriberRowIDs: group.map(\.subscriberPK), eventType: type)
            let steps = try await write(WorkflowSteps(runs: group, events: events, inputs: inputs, owner: owner, now: now, dialect: dialect))
            finished += steps.finished
        }
        return finished
    }

    public func workflowRunCounts(tenantID: String, eventID: String) async throws -> [String: Int] {
        var counts: [String: Int] = [:]
        for row in try await readRows(
            """
            SELECT r.status, r.outcome, count(*) FROM workflow_runs r JOIN events e ON e.pk = r.event_pk
            WHERE e.tenant_id = \(tenantID) AND e.id = \(eventID) GROUP BY r.status, r.outcome
            """)
        {
            guard let status = row[0].text, let count = row[2].integer else { continue }
            counts[status, default: 0] += Int(count)
            if let outcome = row[1].text { counts["\(status).\(outcome)", default: 0] += Int(count) }
        }
        return counts
    }

    public func workflowRuns(tenantID: String, eventID: String, subscriberID: String?, cursor: Int64?, limit: Int) async throws -> Page<WorkflowRun>? {
        guard
            let event = try await readRows("SELECT pk, plan FROM events WHERE tenant_id = \(tenantID) AND id = \(eventID)").first,
            let eventPK = event[0].integer
        else { return nil }
        let workflow = event[1].text.flatMap { try? JSONCoding.decoder.decode(EventType.self, from: Data($0.utf8)) }?.workflow
        let rows = try await readRows(
            """
            SELECT r.id, s.id, r.subscriber_pk, r.status, r.outcome, r.step, r.steps, r.available_at, r.created_at, r.updated_at,
                   CASE WHEN r.lease_owner IS NULL THEN 0 ELSE 1 END
            FROM workflow_runs r JOIN subscribers s ON s.pk = r.subscriber_pk
            WHERE r.event_pk = \(eventPK) AND r.id > \(cursor ?? 0) AND (CAST(\(subscriberID) AS TEXT) IS NULL OR s.id = \(subscriberID))
            ORDER BY r.id LIMIT \(limit + 1)
            """)
        let page = Array(rows.prefix(limit))
        var messages: [Int64: [Int: [WorkflowRun.MessageSummary]]] = [:]
        for batch in SQLQuery.batches(page.compactMap { $0[2].integer }.map { [SQLValue($0)] }, in: dialect) {
            for row in try await readRows(
                """
                SELECT subscriber_pk, step, id, channel, status, reason FROM messages
                WHERE event_pk = \(eventPK) AND step > 0 AND subscriber_pk IN (SELECT column1 FROM (VALUES \(rows: batch)) AS v WHERE true)
                ORDER BY id
                """)
            {
                guard let subscriber = row[0].integer, let step = row[1].integer, let id = row[2].integer,
                    let channel = row[3].text.flatMap(ChannelKind.init(rawValue:)), let status = row[4].text.flatMap(MessageStatus.init(rawValue:))
                else { continue }
                messages[subscriber, default: [:]][Int(clamping: step) - 1, default: []].append(
                    WorkflowRun.MessageSummary(id: Message.publicID(id), channel: channel, status: status, reason: row[5].text))
            }
        }
        let runs = page.compactMap { row -> WorkflowRun? in
            guard let subscriberID = row[1].text, let subscriberPK = row[2].integer, let status = row[3].text.flatMap(WorkflowRunStatus.init(rawValue:))
            else { return nil }
            let records = row[6].text.flatMap { try? JSONCoding.decoder.decode([WorkflowStepRecord].self, from: Data($0.utf8)) } ?? []
            let steps = (workflow?.steps ?? []).enumerated().map { index, step in
                var record = index < records.count ? records[index] : nil
                if !status.isOpen, record == nil || record?.status == .waiting || record?.status == .sending {
                    // Stopped (cancelled) before this step ended.
                    record = WorkflowStepRecord(status: .skipped, reason: row[4].text, at: row[9].date ?? Date(timeIntervalSince1970: 0))
                }
                return WorkflowRun.Step(
                    index: index, summary: step.summary, status: record?.status.rawValue ?? "pending", reason: record?.reason, at: record?.at,
                    until: record?.until, messages: messages[subscriberPK]?[index] ?? [])
            }
            return WorkflowRun(
                subscriberId: subscriberID, status: status, outcome: row[4].text,
                dueAt: status == .waiting && row[10].integer == 0 ? row[7].date : nil, steps: steps,
                createdAt: row[8].date ?? Date(timeIntervalSince1970: 0), updatedAt: row[9].date ?? Date(timeIntervalSince1970: 0))
        }
        return Page(items: runs, nextCursor: rows.count > limit ? page.last?[0].integer.map(Cursor.encode) : nil)
    }
}

/// The statements that wake waiting runs when what they wait for happens, run in the transaction that
/// records it, so a read that commits has already woken the run it ends.
enum WorkflowWake {
    /// Runs of `subscriber` (a subquery for its row) waiting `until` any of `kinds`, whose event now has a
    /// message with `column` set (`read_at`, `seen_at`, `clicked_at`, `opened_at`): due now. An inbox change
    /// runs it, and so does an email open or click (``SQLDatabase/recordEmailClick(messageRow:now:)``). Found through the partial
    /// index of waiting runs by subscriber, whose condition the statement repeats word for word (SQLite uses a
    /// partial index only for a query that states its condition).
    static func inbox(subscriber: SQLQuery, kinds: [WaitSpec.Until], now: Date) -> [SQLQuery] {
        let columns: [WaitSpec.Until: String] = [.read: "read_at", .seen: "seen_at", .clicked: "clicked_at", .opened: "opened_at"]
        return kinds.compactMap { kind in
            columns[kind].map { column in
                """
                UPDATE workflow_runs SET available_at = \(now)
                WHERE subscriber_pk = (\(subscriber)) AND status IN ('waiting', 'sending')
                AND status = \(literal: WorkflowRunStatus.waiting.rawValue) AND wake_on = \(literal: kind.rawValue)
                AND EXISTS (SELECT 1 FROM messages m WHERE m.event_pk = workflow_runs.event_pk AND m.subscriber_pk = workflow_runs.subscriber_pk
                            AND m.\(sql: column) IS NOT NULL)
                """
            }
        }
    }

    /// Runs with a message among `rowIDs` that just finished: a `first_success` step waiting for its
    /// outcome, or a wait `until: delivered`. Due now; the runner reads what happened. Driven from the
    /// messages (by id) to their runs (by the unique key), so a batch costs lookups, not a scan of the runs.
    static func finished(rowIDs: [Int64], now: Date, dialect: SQLDialect) -> [SQLStatement] {
        SQLQuery.batches(rowIDs.map { [SQLValue($0)] }, in: dialect).map { batch in
            SQLQuery(
                """
                UPDATE workflow_runs SET available_at = \(now)
                WHERE id IN (
                    SELECT r.id FROM messages m JOIN workflow_runs r ON r.event_pk = m.event_pk AND r.subscriber_pk = m.subscriber_pk
                    WHERE m.id IN (SELECT column1 FROM (VALUES \(rows: batch)) AS v WHERE true) AND m.step > 0)
                AND (status = \(literal: WorkflowRunStatus.sending.rawValue)
                     OR (status = \(literal: WorkflowRunStatus.waiting.rawValue) AND wake_on = \(literal: WaitSpec.Until.delivered.rawValue)))
                AND available_at > \(now)
                """
            ).statement(in: dialect)
        }
    }

    /// Stops the open runs of the events `events` selects (cancellation): first in the cancelling
    /// transaction, so on PostgreSQL it waits for a runner holding one of them, and the messages that
    /// runner planned are then cancelled with the rest.
    static func cancel(events: SQLQuery, now: Date) -> SQLQuery {
        let open = WorkflowRunStatus.allCases.filter(\.isOpen).map { "'\($0.rawValue)'" }.joined(separator: ", ")
        return """
            UPDATE workflow_runs SET status = \(literal: WorkflowRunStatus.cancelled.rawValue), outcome = 'event_cancelled', wake_on = NULL,
                updated_at = \(now)
            WHERE event_pk IN (\(events)) AND status IN (\(sql: open))
            """
    }
}
