import Foundation
import PostgresNIO

extension PostgresStore {
    public func claimMessages(owner: String, scope: ClaimScope, limit: Int, now: Date, leaseUntil: Date) async throws -> ClaimedBatch {
        try await write { connection in
            let nowMS = Self.ms(now)
            let scopeFilter = scope == .criticalOnly ? "AND priority = 0" : ""
            // Expired leases first (the small `queue_leases` index), then the queue in (priority, available_at)
            // order: a dead node's claims come due at its lease's end, and would otherwise wait behind every message
            // queued before then. Each inner query walks its index of the queue (MessageQueue), which holds only
            // the backlog; rows another node is claiming right now are skipped, not waited for. The claim leases
            // the queue's row and leaves the history's alone; one statement claims and reads each part.
            func claim(_ leased: Bool, limit: Int) async throws -> [SQLRow] {
                try await connection.rows(
                    """
                    WITH due AS (
                        SELECT message_id, available_at FROM queue
                        WHERE \(unescaped: leased ? "lease_owner IS NOT NULL AND" : "") available_at <= \(nowMS) \(unescaped: scopeFilter)
                        ORDER BY priority, available_at LIMIT \(limit)
                        FOR UPDATE SKIP LOCKED
                    ), claimed AS (
                        UPDATE queue q SET lease_owner = \(owner), available_at = \(Self.ms(leaseUntil)), attempts = q.attempts + 1
                        FROM due WHERE q.message_id = due.message_id
                        RETURNING q.message_id, q.event_pk, q.priority, q.attempts, due.available_at AS due_at
                    )
                    SELECT c.message_id, m.tenant_id, c.event_pk, m.channel, c.priority, c.attempts, m.digest_id, \(unescaped: Self.subscriberColumns)
                    FROM claimed c LEFT JOIN messages m ON m.id = c.message_id AND m.event_pk = c.event_pk
                    LEFT JOIN subscribers s ON s.pk = m.subscriber_pk
                    ORDER BY c.priority, c.due_at, c.message_id
                    """, logger)
            }
            // Rows claimed by the first part now lease past `now`, so the second cannot take them again.
            var rows = try await claim(true, limit: limit)
            if rows.count < limit { rows += try await claim(false, limit: limit - rows.count) }
            guard !rows.isEmpty else { return ClaimedBatch(messages: [], events: [:]) }

            let eventPKs = Array(Set(try rows.map { try $0[2] as Int64 }))
            var eventsByPK: [Int64: EventContext] = [:]
            for row in try await connection.rows(
                """
                SELECT e.pk, e.id, e.tenant_id, t.name, e.type, e.payload, e.created_at FROM events e JOIN tenants t ON t.id = e.tenant_id
                WHERE e.pk = ANY(\(eventPKs))
                """, logger)
            {
                eventsByPK[try row[0]] = EventContext(
                    id: try row[1], tenantID: try row[2], tenantName: try row[3], type: try row[4],
                    payload: Self.decodeJSON([String: JSONValue].self, try row[5]) ?? [:], createdAt: Self.date(try row[6])!)
            }
            var messages: [ClaimedMessage] = []
            messages.reserveCapacity(rows.count)
            // A queue row whose message, subscriber or event is gone is work for nobody: it leaves the queue here
            // rather than be leased again at every lease's end.
            var orphans: [Int64] = []
            for row in rows {
                guard let tenantID = try row[1] as String?, (try row[7] as String?) != nil, let event = eventsByPK[try row[2]] else {
                    orphans.append(try row[0])
                    continue
                }
                guard let channel = ChannelKind(rawValue: try row[3]) else { continue }
                messages.append(
                    ClaimedMessage(
                        rowID: try row[0], tenantID: tenantID, eventID: event.id, channel: channel, priority: Priority(rank: try row[4]) ?? .low,
                        attempt: try row[5], subscriber: try Self.subscriber(from: row, at: 7), digestID: try row[6], partitionKey: try row[2]))
            }
            if !orphans.isEmpty {
                try await connection.run("DELETE FROM queue WHERE message_id = ANY(\(orphans))", logger)
                logger.warning("queue rows without their message were removed", metadata: ["count": "\(orphans.count)"])
            }
            return ClaimedBatch(messages: messages, events: Dictionary(uniqueKeysWithValues: eventsByPK.values.map { ($0.id, $0) }))
        }
    }

    public func renewLeases(owner: String, ids: [Int64], until: Date) async throws -> Int {
        guard !ids.isEmpty else { return 0 }
        return try await write { connection in
            try await connection.rows(
                """
                UPDATE queue SET available_at = \(Self.ms(until)) WHERE lease_owner = \(owner) AND message_id = ANY(\(ids))
                RETURNING message_id
                """, logger
            ).count
        }
    }

    public func complete(_ outcomes: [DeliveryOutcome], owner: String, now: Date) async throws -> [Int64] {
        guard !outcomes.isEmpty else { return [] }
        return try await write { connection in
            let nowMS = Self.ms(now)
            // Each outcome names its message's partition (the claim handed it out); one that does not is looked up.
            var keys: [Int64: Int64] = [:]
            let unknown = outcomes.filter { $0.partitionKey == nil }.map(\.rowID)
            if !unknown.isEmpty {
                for row in try await connection.rows("SELECT id, event_pk FROM messages WHERE id = ANY(\(unknown))", logger) {
                    keys[try row[0]] = try row[1]
                }
            }
            // Message row → its event's key: the partition its attempts go to.
            var updated: [Int64: Int64] = [:]
            let perStatement = SQLValues.rowsPerStatement(columns: 17)
            for start in stride(from: 0, to: outcomes.count, by: perStatement) {
                var shared = PostgresBindings()
                shared.append(nowMS)
                shared.append(owner)
                var values = SQLValues(
                    types: [
                        "bigint", "bigint", "text", "text", "text", "bigint", "bigint", "text", "text", "text", "integer",
                        "integer", "bigint", "double precision", "text", "text", "boolean",
                    ], after: shared)
                for outcome in outcomes[start..<min(start + perStatement, outcomes.count)] {
                    let succeeded = outcome.status == .sent || outcome.status == .delivered
                    let attempt = outcome.attempt
                    values.append { row in
                        row.bind(outcome.rowID)
                        row.bind(outcome.partitionKey ?? keys[outcome.rowID] ?? -1)
                        row.bind(outcome.status.rawValue)
                        row.bind(outcome.reason)
                        row.bind(succeeded ? nil : attempt.detail)
                        row.bind(outcome.retryAt.map(Self.ms) ?? nowMS)
                        row.bind(succeeded ? nowMS : nil)
                        row.bind(outcome.inbox?.title)
                        row.bind(outcome.inbox?.body)
                        row.bind(outcome.inbox?.actionURL)
                        row.bind(outcome.refundsAttempt ? 1 : 0)
                        row.bind(attempt.number)
                        row.bind(Self.ms(attempt.startedAt))
                        row.bind(attempt.durationMs)
                        row.bind(attempt.outcome.rawValue)
                        row.bind(attempt.detail)
                        row.bind(outcome.isHeldByMessage)
                    }
                }
                // Only messages whose queue row is still leased to this owner change; none means the lease was
                // lost (reclaimed or cancelled), and then this attempt's result is not the message's, so no
                // attempt is recorded. A finished message leaves the queue; one to retry goes back to it, due at
                // the retry's time. The history's row is written once, here.
                let rows = try await connection.rows(
                    PostgresQuery(
                        unsafeSQL: """
                            WITH outcome(id, event_pk, status, reason, last_error, available_at, sent_at, title, body, action_url, refund,
                                         number, started_at, duration_ms, result, detail, held) AS (VALUES \(values.sql)),
                            finished AS (
                                DELETE FROM queue q USING outcome o
                                WHERE q.message_id = o.id AND q.lease_owner = $2 AND o.status <> 'queued'
                                RETURNING q.message_id, q.attempts - o.refund AS attempts
                            ),
                            again AS (
                                UPDATE queue q SET lease_owner = NULL, available_at = o.available_at, attempts = q.attempts - o.refund
                                FROM outcome o WHERE q.message_id = o.id AND q.lease_owner = $2 AND o.status = 'queued'
                                RETURNING q.message_id, q.attempts
                            ),
                            updated AS (
                                UPDATE messages m SET status = o.status, reason = o.reason, last_error = o.last_error,
                                    available_at = o.available_at, sent_at = coalesce(o.sent_at, m.sent_at),
                                    title = coalesce(o.title, m.title), body = coalesce(o.body, m.body),
                                    action_url = coalesce(o.action_url, m.action_url), updated_at = $1, attempts = h.attempts,
                                    sent_detail = CASE WHEN o.held THEN o.detail END, sent_started_at = CASE WHEN o.held THEN o.started_at END,
                                    sent_duration_ms = CASE WHEN o.held THEN o.duration_ms END
                                FROM outcome o JOIN (SELECT * FROM finished UNION ALL SELECT * FROM again) h ON h.message_id = o.id
                                WHERE m.id = o.id AND m.event_pk = o.event_pk
                                RETURNING m.id, m.event_pk
                            ),
                            recorded AS (
                                INSERT INTO attempts(message_id, event_pk, number, started_at, duration_ms, outcome, detail)
                                SELECT o.id, u.event_pk, o.number, o.started_at, o.duration_ms, o.result, o.detail
                                FROM outcome o JOIN updated u ON u.id = o.id WHERE NOT o.held
                            )
                            SELECT id, event_pk FROM updated
                            """, binds: values.bindings), logger)
                for row in rows { updated[try row[0]] = try row[1] }
            }
            // A push to several devices: the other devices' entries of the same try, for the messages that changed.
            let more = outcomes.flatMap { outcome in
                updated[outcome.rowID].map { eventPK in outcome.moreAttempts.map { (outcome.rowID, eventPK, $0) } } ?? []
            }
            for start in stride(from: 0, to: more.count, by: SQLValues.rowsPerStatement(columns: 7)) {
                var values = SQLValues(
                    types: ["bigint", "bigint", "integer", "bigint", "double precision", "text", "text"], after: PostgresBindings())
                for (rowID, eventPK, attempt) in more[start..<min(start + SQLValues.rowsPerStatement(columns: 7), more.count)] {
                    values.append { row in
                        row.bind(rowID)
                        row.bind(eventPK)
                        row.bind(attempt.number)
                        row.bind(Self.ms(attempt.startedAt))
                        row.bind(attempt.durationMs)
                        row.bind(attempt.outcome.rawValue)
                        row.bind(attempt.detail)
                    }
                }
                _ = try await connection.rows(
                    PostgresQuery(
                        unsafeSQL:
                            "INSERT INTO attempts(message_id, event_pk, number, started_at, duration_ms, outcome, detail) VALUES \(values.sql)",
                        binds: values.bindings), logger)
            }
            // Workflow runs waiting on these messages' outcomes look again, in this transaction.
            let finished = outcomes.filter { updated[$0.rowID] != nil && $0.status.isFinal }.map(\.rowID)
            for statement in WorkflowWake.finished(rowIDs: finished, now: now, dialect: .postgres) {
                _ = try await Self.run(connection, logger, statement)
            }
            return outcomes.map(\.rowID).filter { updated[$0] != nil }
        }
    }

    // MARK: Activity log

    /// A message as the API shows it, from `messages m` with ``messageJoins``: its status, tries and due time
    /// from its queue row while it has one (MessageQueue).
    static let messageColumns = """
        m.id, e.id, e.type, s.id, m.channel, m.priority, \(MessageQueue.statusColumn), m.reason, \(MessageQueue.attemptsColumn), m.last_error,
        m.created_at, m.updated_at, \(MessageQueue.availableAtColumn), m.sent_at, m.related_id, m.digest_id,
        m.opened_at, m.open_count, m.clicked_at, m.click_count
        """

    /// What ``messageColumns`` reads beside `messages m`.
    static let messageJoins = "JOIN events e ON e.pk = m.event_pk JOIN subscribers s ON s.pk = m.subscriber_pk " + MessageQueue.join

    static func message(from row: SQLRow) throws -> Message {
        var message = Message(
            id: Message.publicID(try row[0]), eventId: try row[1], eventType: try row[2], subscriberId: try row[3],
            channel: ChannelKind(rawValue: try row[4]) ?? .inApp, priority: Priority(rank: try row[5]) ?? .low,
            status: MessageStatus(rawValue: try row[6]) ?? .queued, reason: try row[7], attempts: try row[8], lastError: try row[9],
            createdAt: date(try row[10])!, updatedAt: date(try row[11])!, availableAt: date(try row[12]), sentAt: date(try row[13]))
        message.describeFlow(relatedID: try row[14], inDigest: (try row[15] as Int64?) != nil)
        message.describeEngagement(openedAt: date(try row[16]), openCount: try row[17], clickedAt: date(try row[18]), clickCount: try row[19])
        return message
    }

    public func messages(tenantID: String, _ query: MessageQuery) async throws -> Page<Message> {
        try await read { connection in
            var eventPK: Int64?
            var subscriberPK: Int64?
            if let eventID = query.eventID {
                guard
                    let pk: Int64 = try await connection.rows(
                        "SELECT pk FROM events WHERE tenant_id = \(tenantID) AND id = \(eventID)", logger
                    ).first.map({ try $0[0] })
                else { return Page(items: [], nextCursor: nil) }
                eventPK = pk
            }
            if let subscriberID = query.subscriberID {
                guard let pk = try await Self.tenantSubscriberPK(connection, logger, tenantID: tenantID, id: subscriberID) else {
                    return Page(items: [], nextCursor: nil)
                }
                subscriberPK = pk
            }
            let floor = await liveHistoryFloor(connection)
            let rows = try await connection.rows(
                """
                SELECT \(unescaped: Self.messageColumns) FROM messages m \(unescaped: Self.messageJoins)
                WHERE \(messagesOfTenant: tenantID, alias: "m")
                AND (\(eventPK)::bigint IS NULL OR m.event_pk = \(eventPK))
                AND (\(subscriberPK)::bigint IS NULL OR m.subscriber_pk = \(subscriberPK))
                AND (\(query.channel?.rawValue)::text IS NULL OR m.channel = \(query.channel?.rawValue))
                AND (\(query.status?.rawValue)::text IS NULL OR \(unescaped: MessageQueue.statusColumn) = \(query.status?.rawValue))
                AND (\(query.since.map(Self.ms))::bigint IS NULL OR m.created_at >= \(query.since.map(Self.ms)))
                AND (\(query.until.map(Self.ms))::bigint IS NULL OR m.created_at < \(query.until.map(Self.ms)))
                AND m.id < \(query.cursor ?? Int64.max) AND m.expires_at > \(Self.ms(Date())) AND m.event_pk >= \(floor)
                ORDER BY m.id DESC LIMIT \(query.limit + 1)
                """, logger)
            let items = try rows.prefix(query.limit).map(Self.message(from:))
            return Page(items: items, nextCursor: rows.count > query.limit ? Cursor.encode(try rows[query.limit - 1][0]) : nil)
        }
    }

    public func message(tenantID: String, id: Int64) async throws -> (Message, [DeliveryAttempt])? {
        try await read { connection in
            guard
                let row = try await connection.rows(
                    """
                    SELECT \(unescaped: Self.messageColumns), m.sent_detail, m.sent_started_at, m.sent_duration_ms
                    FROM messages m \(unescaped: Self.messageJoins)
                    WHERE m.id = \(id) AND m.tenant_id = \(tenantID) AND m.expires_at > \(Self.ms(Date()))
                    """, logger
                ).first
            else { return nil }
            let attempts = try await connection.rows(
                "SELECT number, started_at, duration_ms, outcome, detail FROM attempts WHERE message_id = \(id) ORDER BY id", logger
            ).map {
                DeliveryAttempt(
                    number: try $0[0], startedAt: Self.date(try $0[1])!, durationMs: try $0[2],
                    outcome: DeliveryAttempt.Outcome(rawValue: try $0[3]) ?? .permanentFailure, detail: try $0[4])
            }
            let message = try Self.message(from: row)
            let held = try (row[22] as Double?).map {
                Message.HeldTry(detail: try row[20], startedAt: Self.date(try row[21]) ?? Date(timeIntervalSince1970: 0), durationMs: $0)
            }
            return (message, message.attemptLog(attempts, heldTry: held))
        }
    }

    public func retryMessage(tenantID: String, id: Int64, now: Date) async throws -> Message? {
        let found: Bool = try await write { connection in
            guard
                let row = try await connection.rows(
                    "SELECT status, event_pk, priority FROM messages WHERE id = \(id) AND tenant_id = \(tenantID) FOR UPDATE", logger
                ).first
            else { return false }
            let status: String = try row[0]
            let (eventPK, priority): (Int64, Int) = (try row[1], try row[2])
            guard status == MessageStatus.failed.rawValue || status == MessageStatus.deadLettered.rawValue else {
                throw HeraldError.conflict("message \(Message.publicID(id)) is \(status); only failed or dead-lettered messages can be retried")
            }
            try await connection.run(
                """
                UPDATE messages SET status = 'queued', attempts = 0, reason = NULL, available_at = \(Self.ms(now)), updated_at = \(Self.ms(now))
                WHERE id = \(id) AND event_pk = \(eventPK)
                """, logger)
            try await connection.run(
                """
                INSERT INTO queue(message_id, event_pk, priority, available_at) VALUES (\(id), \(eventPK), \(priority), \(Self.ms(now)))
                ON CONFLICT (message_id) DO NOTHING
                """, logger)
            return true
        }
        guard found else { return nil }
        return try await message(tenantID: tenantID, id: id)?.0
    }

    // MARK: Operations

    public func queueDepth(now: Date) async throws -> QueueDepth {
        try await read { connection in
            var byPriority = Dictionary(uniqueKeysWithValues: Priority.allCases.map { ($0.rawValue, 0) })
            for row in try await connection.rows(
                "SELECT priority, count(*) FROM queue GROUP BY priority", logger)
            {
                if let priority = Priority(rank: try row[0]) { byPriority[priority.rawValue] = try row[1] }
            }
            let jobs: Int = try await connection.rows("SELECT count(*) FROM fanout_jobs WHERE status = 'pending'", logger)[0][0]
            return QueueDepth(byPriority: byPriority, fanoutJobs: jobs)
        }
    }

    public func deliveryStats(tenantID: String, since: Date) async throws -> (counts: [StatsCountRow], sortedLatenciesMs: [Double]) {
        try await read { connection in
            let sinceMS = Self.ms(since)
            // Expired rows a day's partition still holds until it is dropped are not counted, as no read shows them.
            let nowMS = Self.ms(Date())
            let floor = await liveHistoryFloor(connection)
            var counts: [StatsCountRow] = []
            for row in try await connection.rows(
                """
                SELECT e.type, m.channel, m.status, count(*) FROM messages m JOIN events e ON e.pk = m.event_pk
                WHERE \(messagesOfTenant: tenantID, alias: "m") AND m.created_at >= \(sinceMS) AND m.expires_at > \(nowMS) AND m.event_pk >= \(floor)
                GROUP BY e.type, m.channel, m.status
                """, logger)
            {
                guard let channel = ChannelKind(rawValue: try row[1]), let status = MessageStatus(rawValue: try row[2]) else { continue }
                counts.append(StatsCountRow(eventType: try row[0], channel: channel, status: status, count: try row[3]))
            }
            let latencies: [Double] = try await connection.rows(
                """
                SELECT (m.sent_at - e.created_at)::double precision AS latency FROM messages m JOIN events e ON e.pk = m.event_pk
                WHERE \(messagesOfTenant: tenantID, alias: "m") AND m.created_at >= \(sinceMS) AND m.expires_at > \(nowMS) AND m.event_pk >= \(floor)
                AND m.status IN ('sent', 'delivered')
                AND m.sent_at IS NOT NULL
                ORDER BY latency
                """, logger
            ).map { try $0[0] }
            return (counts, latencies)
        }
    }
}
