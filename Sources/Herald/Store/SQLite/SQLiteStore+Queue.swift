import Foundation
import GRDB

extension SQLiteStore {
    public func claimMessages(owner: String, scope: ClaimScope, limit: Int, now: Date, leaseUntil: Date) async throws -> ClaimedBatch {
        // The critical lane's claim goes ahead of long writes (``UrgentWrites``).
        try await write(urgent: scope == .criticalOnly) { db in
            let scopeFilter = scope == .criticalOnly ? "AND priority = 0" : ""
            // Expired leases first (the small `messages_leases` index), then the queue in (priority, available_at)
            // order: a dead node's claims come due at its lease's end, and would otherwise wait behind every
            // message queued before then. Each query walks its partial index and stops at the limit.
            // The statements are kept prepared (their texts vary only by status and scope; ids go as one JSON
            // array): an idle lane's claim that finds nothing then costs no parsing, which was a quarter of the
            // CPU of a trigger sent on its own.
            func due(_ status: String, limit: Int) throws -> [Row] {
                try Row.fetchAll(
                    db.cachedStatement(
                        sql: """
                        WITH due AS (
                            SELECT id FROM messages WHERE \(status) AND available_at <= ? \(scopeFilter)
                            ORDER BY priority, available_at, id LIMIT ?
                        )
                        SELECT m.id, m.tenant_id, m.event_pk, m.channel, m.priority, m.attempts, m.digest_id, \(Self.subscriberColumns)
                        FROM due JOIN messages m ON m.id = due.id JOIN subscribers s ON s.pk = m.subscriber_pk
                        ORDER BY m.priority, m.available_at, m.id
                        """), arguments: [Self.ms(now), limit])
            }
            var rows = try due("status = 'sending'", limit: limit)
            if rows.count < limit {
                let taken = Set(rows.map { $0[0] as Int64 })
                rows += try due("status IN ('queued', 'sending')", limit: limit).filter { !taken.contains($0[0]) }.prefix(limit - rows.count)
            }
            guard !rows.isEmpty else { return ClaimedBatch(messages: [], events: [:]) }

            let ids: [Int64] = rows.map { $0[0] }
            try db.cachedStatement(
                sql: """
                    UPDATE messages SET status = 'sending', lease_owner = ?, available_at = ?, attempts = attempts + 1, updated_at = ?
                    WHERE id IN (SELECT value FROM json_each(?))
                    """
            ).execute(arguments: [owner, Self.ms(leaseUntil), Self.ms(now), Self.jsonArray(ids)])

            let eventPKs = Array(Set(rows.map { $0[2] as Int64 }))
            var eventsByPK: [Int64: EventContext] = [:]
            for row in try Row.fetchAll(
                db.cachedStatement(
                    sql: """
                        SELECT e.pk, e.id, e.tenant_id, t.name, e.type, e.payload, e.created_at FROM events e JOIN tenants t ON t.id = e.tenant_id
                        WHERE e.pk IN (SELECT value FROM json_each(?))
                        """), arguments: [Self.jsonArray(eventPKs)])
            {
                eventsByPK[row[0]] = EventContext(
                    id: row[1], tenantID: row[2], tenantName: row[3], type: row[4],
                    payload: Self.decodeJSON([String: JSONValue].self, row[5]) ?? [:], createdAt: Self.date(row[6])!)
            }
            var messages: [ClaimedMessage] = []
            messages.reserveCapacity(rows.count)
            for row in rows {
                guard let event = eventsByPK[row[2]], let channel = ChannelKind(rawValue: row[3]) else { continue }
                messages.append(
                    ClaimedMessage(
                        rowID: row[0], tenantID: row[1], eventID: event.id, channel: channel, priority: Priority(rank: row[4]) ?? .low,
                        attempt: (row[5] as Int) + 1, subscriber: Self.subscriber(from: row, at: 7), digestID: row[6]))
            }
            return ClaimedBatch(messages: messages, events: Dictionary(uniqueKeysWithValues: eventsByPK.values.map { ($0.id, $0) }))
        }
    }

    public func renewLeases(owner: String, ids: [Int64], until: Date) async throws -> Int {
        guard !ids.isEmpty else { return 0 }
        return try await pool.write { db in
            var renewed = 0
            for start in stride(from: 0, to: ids.count, by: 500) {
                let chunk = Array(ids[start..<min(ids.count, start + 500)])
                try db.execute(
                    sql: """
                        UPDATE messages SET available_at = ? WHERE status = 'sending' AND lease_owner = ?
                            AND id IN (\(Self.placeholders(chunk.count)))
                        """,
                    arguments: StatementArguments([Self.ms(until), owner] as [any DatabaseValueConvertible] + chunk))
                renewed += db.changesCount
            }
            return renewed
        }
    }

    public func complete(_ outcomes: [DeliveryOutcome], owner: String, now: Date) async throws -> [Int64] {
        guard !outcomes.isEmpty else { return [] }
        return try await write(urgent: outcomes.contains { $0.priority == .critical }) { db in
            let update = try db.cachedStatement(
                sql: """
                    UPDATE messages SET status = ?, reason = ?, last_error = ?, available_at = ?, lease_owner = NULL,
                        sent_at = coalesce(?, sent_at), title = coalesce(?, title), body = coalesce(?, body),
                        action_url = coalesce(?, action_url), updated_at = ?, attempts = attempts - ?, sent_detail = ?,
                        sent_started_at = ?, sent_duration_ms = ?
                    WHERE id = ? AND status = 'sending' AND lease_owner = ?
                    """)
            let record = try db.cachedStatement(
                sql: "INSERT INTO attempts(message_id, number, started_at, duration_ms, outcome, detail) VALUES (?, ?, ?, ?, ?, ?)")
            let nowMS = Self.ms(now)
            var updated: [Int64] = []
            var finished: [Int64] = []
            updated.reserveCapacity(outcomes.count)
            for outcome in outcomes {
                let succeeded = outcome.status == .sent || outcome.status == .delivered
                try update.execute(arguments: [
                    outcome.status.rawValue, outcome.reason, succeeded ? nil : outcome.attempt.detail,
                    outcome.retryAt.map(Self.ms) ?? nowMS, succeeded ? nowMS : nil, outcome.inbox?.title, outcome.inbox?.body,
                    outcome.inbox?.actionURL, nowMS, outcome.refundsAttempt ? 1 : 0,
                    outcome.isHeldByMessage ? outcome.attempt.detail : nil, outcome.isHeldByMessage ? Self.ms(outcome.attempt.startedAt) : nil,
                    outcome.isHeldByMessage ? outcome.attempt.durationMs : nil,
                    outcome.rowID, owner,
                ])
                // No change means the lease was lost (reclaimed or cancelled): this attempt's result is not the message's.
                guard db.changesCount > 0 else { continue }
                for attempt in outcome.attemptRows {
                    try record.execute(arguments: [
                        outcome.rowID, attempt.number, Self.ms(attempt.startedAt), attempt.durationMs, attempt.outcome.rawValue, attempt.detail,
                    ])
                }
                updated.append(outcome.rowID)
                if outcome.status.isFinal { finished.append(outcome.rowID) }
            }
            // Workflow runs waiting on these messages' outcomes look again, in this transaction.
            for statement in WorkflowWake.finished(rowIDs: finished, now: now, dialect: .sqlite) { _ = try Self.run(db, statement) }
            return updated
        }
    }

    /// Releases every lease at once; only for a process that has proved it is the only dispatcher.
    func releaseAllLeases(now: Date) async throws -> Int {
        try await pool.write { db in
            let nowMS = Self.ms(now)
            try db.execute(
                sql: "UPDATE messages SET status = 'queued', lease_owner = NULL, available_at = ? WHERE status = 'sending'", arguments: [nowMS])
            let released = db.changesCount
            try db.execute(
                sql: "UPDATE fanout_jobs SET lease_owner = NULL, available_at = ? WHERE status = 'pending' AND lease_owner IS NOT NULL",
                arguments: [nowMS])
            let jobs = db.changesCount
            // Runs the dead process held are due at once; one still in its wait goes back to waiting until its end.
            try db.execute(
                sql: "UPDATE workflow_runs SET lease_owner = NULL, available_at = ? WHERE status IN ('active', 'waiting', 'sending') AND lease_owner IS NOT NULL",
                arguments: [nowMS])
            return released + jobs + db.changesCount
        }
    }

    // MARK: Activity log

    static let messageColumns = """
        m.id, e.id, e.type, s.id, m.channel, m.priority, m.status, m.reason, m.attempts, m.last_error,
        m.created_at, m.updated_at, m.available_at, m.sent_at, m.related_id, m.digest_id,
        m.opened_at, m.open_count, m.clicked_at, m.click_count
        """

    static func message(from row: Row) -> Message {
        var message = Message(
            id: Message.publicID(row[0]), eventId: row[1], eventType: row[2], subscriberId: row[3],
            channel: ChannelKind(rawValue: row[4]) ?? .inApp, priority: Priority(rank: row[5]) ?? .low,
            status: MessageStatus(rawValue: row[6]) ?? .queued, reason: row[7], attempts: row[8], lastError: row[9],
            createdAt: date(row[10])!, updatedAt: date(row[11])!, availableAt: date(row[12]), sentAt: date(row[13]))
        message.describeFlow(relatedID: row[14], inDigest: (row[15] as Int64?) != nil)
        message.describeEngagement(openedAt: date(row[16]), openCount: row[17], clickedAt: date(row[18]), clickCount: row[19])
        return message
    }

    public func messages(tenantID: String, _ query: MessageQuery) async throws -> Page<Message> {
        try await pool.read { db in
            var conditions = ["m.tenant_id = ?"]
            var arguments: [any DatabaseValueConvertible] = [tenantID]
            if let eventID = query.eventID {
                guard let pk = try Int64.fetchOne(db, sql: "SELECT pk FROM events WHERE tenant_id = ? AND id = ?", arguments: [tenantID, eventID])
                else { return Page(items: [], nextCursor: nil) }
                conditions.append("m.event_pk = ?")
                arguments.append(pk)
            }
            if let subscriberID = query.subscriberID {
                guard let pk = try Self.tenantSubscriberPK(db, tenantID: tenantID, id: subscriberID) else { return Page(items: [], nextCursor: nil) }
                conditions.append("m.subscriber_pk = ?")
                arguments.append(pk)
            }
            if let channel = query.channel {
                conditions.append("m.channel = ?")
                arguments.append(channel.rawValue)
            }
            if let status = query.status {
                conditions.append("m.status = ?")
                arguments.append(status.rawValue)
            }
            if let since = query.since {
                conditions.append("m.created_at >= ?")
                arguments.append(Self.ms(since))
            }
            if let until = query.until {
                conditions.append("m.created_at < ?")
                arguments.append(Self.ms(until))
            }
            if let cursor = query.cursor {
                conditions.append("m.id < ?")
                arguments.append(cursor)
            }
            arguments.append(query.limit + 1)
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT \(Self.messageColumns) FROM messages m
                    JOIN events e ON e.pk = m.event_pk JOIN subscribers s ON s.pk = m.subscriber_pk
                    WHERE \(conditions.joined(separator: " AND ")) ORDER BY m.id DESC LIMIT ?
                    """, arguments: StatementArguments(arguments))
            let items = rows.prefix(query.limit).map(Self.message(from:))
            return Page(items: Array(items), nextCursor: rows.count > query.limit ? Cursor.encode(rows[query.limit - 1][0]) : nil)
        }
    }

    public func message(tenantID: String, id: Int64) async throws -> (Message, [DeliveryAttempt])? {
        try await pool.read { db in
            guard
                let row = try Row.fetchOne(
                    db,
                    sql: """
                        SELECT \(Self.messageColumns), m.sent_detail, m.sent_started_at, m.sent_duration_ms FROM messages m
                        JOIN events e ON e.pk = m.event_pk JOIN subscribers s ON s.pk = m.subscriber_pk
                        WHERE m.id = ? AND m.tenant_id = ?
                        """, arguments: [id, tenantID])
            else { return nil }
            let attempts = try Row.fetchAll(
                db, sql: "SELECT number, started_at, duration_ms, outcome, detail FROM attempts WHERE message_id = ? ORDER BY id",
                arguments: [id]
            ).map {
                DeliveryAttempt(
                    number: $0[0], startedAt: Self.date($0[1])!, durationMs: $0[2],
                    outcome: DeliveryAttempt.Outcome(rawValue: $0[3]) ?? .permanentFailure, detail: $0[4])
            }
            let message = Self.message(from: row)
            let held = (row[22] as Double?).map { Message.HeldTry(detail: row[20], startedAt: Self.date(row[21]) ?? Date(timeIntervalSince1970: 0), durationMs: $0) }
            return (message, message.attemptLog(attempts, heldTry: held))
        }
    }

    public func retryMessage(tenantID: String, id: Int64, now: Date) async throws -> Message? {
        let found: Bool = try await pool.write { db in
            guard
                let status = try String.fetchOne(
                    db, sql: "SELECT status FROM messages WHERE id = ? AND tenant_id = ?", arguments: [id, tenantID])
            else { return false }
            guard status == MessageStatus.failed.rawValue || status == MessageStatus.deadLettered.rawValue else {
                throw HeraldError.conflict("message \(Message.publicID(id)) is \(status); only failed or dead-lettered messages can be retried")
            }
            try db.execute(
                sql: """
                    UPDATE messages SET status = 'queued', attempts = 0, reason = NULL, available_at = ?, lease_owner = NULL, updated_at = ?
                    WHERE id = ?
                    """, arguments: [Self.ms(now), Self.ms(now), id])
            return true
        }
        guard found else { return nil }
        return try await message(tenantID: tenantID, id: id)?.0
    }

    // MARK: Operations

    public func queueDepth(now: Date) async throws -> QueueDepth {
        try await pool.read { db in
            var byPriority = Dictionary(uniqueKeysWithValues: Priority.allCases.map { ($0.rawValue, 0) })
            for priority in Priority.allCases {
                byPriority[priority.rawValue] =
                    try Int.fetchOne(
                        db, sql: "SELECT count(*) FROM messages WHERE status IN ('queued', 'sending') AND priority = ?",
                        arguments: [priority.rank]) ?? 0
            }
            let jobs = try Int.fetchOne(db, sql: "SELECT count(*) FROM fanout_jobs WHERE status = 'pending'") ?? 0
            return QueueDepth(byPriority: byPriority, fanoutJobs: jobs)
        }
    }

    public func deleteExpired(now: Date, idempotencyCutoff: Date, limit: Int) async throws -> CleanupResult {
        try await pool.write { db in
            let nowMS = Self.ms(now)
            try db.execute(
                sql: "DELETE FROM messages WHERE id IN (SELECT id FROM messages WHERE expires_at < ? LIMIT ?)", arguments: [nowMS, limit])
            let messages = db.changesCount
            try db.execute(
                sql: """
                    DELETE FROM events WHERE pk IN (
                        SELECT pk FROM events e WHERE expires_at < ?
                        AND NOT EXISTS (SELECT 1 FROM messages m WHERE m.event_pk = e.pk) LIMIT ?)
                    """, arguments: [nowMS, limit])
            let events = db.changesCount
            try db.execute(sql: "DELETE FROM idempotency_keys WHERE created_at < ?", arguments: [Self.ms(idempotencyCutoff)])
            let idempotencyKeys = db.changesCount
            try Self.deleteExpiredFlowState(db, now: now, limit: limit)
            return CleanupResult(messages: messages, events: events, idempotencyKeys: idempotencyKeys)
        }
    }
}

extension SQLiteStore {
    public func deliveryStats(tenantID: String, since: Date) async throws -> (counts: [StatsCountRow], sortedLatenciesMs: [Double]) {
        try await pool.read { db in
            let sinceMS = Self.ms(since)
            let counts = try Row.fetchAll(
                db,
                sql: """
                    SELECT e.type, m.channel, m.status, count(*) FROM messages m JOIN events e ON e.pk = m.event_pk
                    WHERE m.tenant_id = ? AND m.created_at >= ? GROUP BY e.type, m.channel, m.status
                    """, arguments: [tenantID, sinceMS]
            ).compactMap { row -> StatsCountRow? in
                guard let channel = ChannelKind(rawValue: row[1]), let status = MessageStatus(rawValue: row[2]) else { return nil }
                return StatsCountRow(eventType: row[0], channel: channel, status: status, count: row[3])
            }
            let latencies = try Double.fetchAll(
                db,
                sql: """
                    SELECT m.sent_at - e.created_at AS latency FROM messages m JOIN events e ON e.pk = m.event_pk
                    WHERE m.tenant_id = ? AND m.created_at >= ? AND m.status IN ('sent', 'delivered') AND m.sent_at IS NOT NULL
                    ORDER BY latency
                    """, arguments: [tenantID, sinceMS])
            return (counts, latencies)
        }
    }
}
