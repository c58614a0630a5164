import Foundation
import PostgresNIO

extension PostgresStore {
    /// Writes planned messages. Without flow control they go as one multi-row statement per few thousand;
    /// with it, each queued message goes through dedup, the digest and the rate limits here, in the planning
    /// transaction, as in ``SQLiteStore``. Nodes plan one tenant's flow-controlled messages one at a time
    /// (a transaction-level advisory lock), so two events planned at once on two nodes cannot both be "the
    /// first" of a dedup window, both open a digest, or both take a bucket's last token.
    /// Returns how many messages went in by status, as flow control left them.
    @discardableResult
    static func insertMessages(
        _ connection: PostgresConnection, _ logger: Logger, _ planned: [PlannedMessage], _ context: PlanningContext, lockHeld: Bool = false
    ) async throws -> [String: Int] {
        guard !planned.isEmpty else { return [:] }
        // A subscriber's own digest preference turns flow control on for their messages alone.
        guard context.plan.hasFlowControl || planned.contains(where: { $0.digestKey != nil }) else {
            try await insertPlainMessages(connection, logger, planned.map { ($0, context) })
            var counts: [String: Int] = [:]
            for message in planned { counts[message.status.rawValue, default: 0] += 1 }
            return counts
        }
        var counts: [String: Int] = [:]
        if !lockHeld { try await lockFlowControl(connection, logger, tenantID: context.tenantID) }
        let nowMS = ms(context.now)
        let fingerprint = context.plan.dedup.map { $0.fingerprint(payload: context.payload) }
        for message in planned {
            var decision = FlowDecision(message: message, dueAt: context.dueAt)
            if message.status == .queued { try await decide(connection, logger, &decision, message, context, fingerprint: fingerprint) }
            let availableAt = decision.status == .queued || decision.status == .merged ? ms(decision.availableAt) : nowMS
            guard
                let messageID: Int64 = try await connection.rows(
                    """
                    INSERT INTO messages(tenant_id, event_pk, subscriber_pk, channel, priority, status, reason, available_at,
                                         created_at, updated_at, expires_at, digest_id, related_id)
                    VALUES (\(context.tenantID), \(context.eventPK), \(message.subscriberRowID), \(message.channel.rawValue),
                            \(context.plan.priority.rank), \(decision.status.rawValue), \(decision.reason), \(availableAt), \(nowMS), \(nowMS),
                            \(ms(context.expiresAt)), \(decision.digestID), \(decision.relatedID))
                    ON CONFLICT (event_pk, subscriber_pk, channel) DO NOTHING
                    RETURNING id
                    """, logger
                ).first.map({ try $0[0] })
            else { continue }
            counts[decision.status.rawValue, default: 0] += 1
            if decision.startsDigest, let digestID = decision.digestID {
                try await connection.run("UPDATE digests SET message_id = \(messageID) WHERE id = \(digestID)", logger)
            }
            if let fingerprint, let window = context.plan.dedup?.windowSeconds, decision.status != .suppressed {
                try await connection.run(
                    """
                    INSERT INTO dedup_keys(subscriber_pk, event_type, channel, fingerprint, message_id, expires_at)
                    VALUES (\(message.subscriberRowID), \(context.plan.key), \(message.channel.rawValue), \(fingerprint), \(messageID),
                            \(ms(context.now.addingTimeInterval(window))))
                    ON CONFLICT (subscriber_pk, event_type, channel, fingerprint) DO UPDATE
                    SET message_id = excluded.message_id, expires_at = excluded.expires_at
                    """, logger)
            }
        }
        return counts
    }

    /// Serializes flow-controlled planning of one tenant across nodes until the transaction ends.
    static func lockFlowControl(_ connection: PostgresConnection, _ logger: Logger, tenantID: String) async throws {
        try await connection.run("SELECT pg_advisory_xact_lock(hashtext(\("flow:" + tenantID)))", logger)
    }

    /// Messages without flow control, of one event or several, a few thousand rows per statement.
    static func insertPlainMessages(_ connection: PostgresConnection, _ logger: Logger, _ messages: [(PlannedMessage, PlanningContext)])
        async throws
    {
        guard let first = messages.first?.1 else { return }
        let nowMS = ms(first.now)
        var shared = PostgresBindings()
        shared.append(first.tenantID)
        shared.append(nowMS)
        let perStatement = SQLValues.rowsPerStatement(columns: 8)
        for start in stride(from: 0, to: messages.count, by: perStatement) {
            var values = SQLValues(types: ["bigint", "bigint", "text", "integer", "text", "text", "bigint", "bigint"], after: shared)
            for (message, context) in messages[start..<min(start + perStatement, messages.count)] {
                values.append { row in
                    row.bind(context.eventPK)
                    row.bind(message.subscriberRowID)
                    row.bind(message.channel.rawValue)
                    row.bind(context.plan.priority.rank)
                    row.bind(message.status.rawValue)
                    row.bind(message.heldUntil == nil ? message.reason?.rawValue : FlowDecision.quietHoursReason)
                    row.bind(message.status == .queued ? (message.heldUntil.map(ms) ?? ms(context.dueAt)) : nowMS)
                    row.bind(ms(context.expiresAt))
                }
            }
            try await connection.run(
                PostgresQuery(
                    unsafeSQL: """
                        INSERT INTO messages(tenant_id, event_pk, subscriber_pk, channel, priority, status, reason, available_at,
                                             created_at, updated_at, expires_at)
                        SELECT $1, v.event_pk, v.subscriber_pk, v.channel, v.priority, v.status, v.reason, v.available_at, $2, $2, v.expires_at
                        FROM (VALUES \(values.sql)) AS v(event_pk, subscriber_pk, channel, priority, status, reason, available_at, expires_at)
                        ON CONFLICT (event_pk, subscriber_pk, channel) DO NOTHING
                        """, binds: values.bindings), logger)
        }
    }

    /// Dedup, then the digest, then the rate limits, for one queued message.
    private static func decide(
        _ connection: PostgresConnection, _ logger: Logger, _ decision: inout FlowDecision, _ message: PlannedMessage, _ context: PlanningContext,
        fingerprint: String?
    ) async throws {
        let plan = context.plan
        if let fingerprint,
            let original: Int64 = try await connection.rows(
                """
                SELECT message_id FROM dedup_keys
                WHERE subscriber_pk = \(message.subscriberRowID) AND event_type = \(plan.key) AND channel = \(message.channel.rawValue)
                AND fingerprint = \(fingerprint) AND expires_at > \(ms(context.now))
                """, logger
            ).first.map({ try $0[0] })
        {
            decision.suppress(.duplicate, relatedTo: original)
            return
        }
        if let key = message.digestKey,
            let open = try await connection.rows(
                """
                SELECT id, message_id, flush_at FROM digests
                WHERE subscriber_pk = \(message.subscriberRowID) AND event_type = \(plan.key) AND channel = \(message.channel.rawValue)
                AND digest_key = \(key) AND status = 'open'
                """, logger
            ).first
        {
            decision.merge(into: try open[0], message: try open[1], flushAt: date(try open[2])!)
            return
        }
        if let flushAt = message.digestFlushAt { decision.availableAt = flushAt }
        try await applyRateLimits(connection, logger, &decision, message, context)
        if decision.status == .queued, let key = message.digestKey {
            let digestID: Int64 = try await connection.rows(
                """
                INSERT INTO digests(tenant_id, subscriber_pk, event_type, channel, digest_key, status, flush_at, created_at)
                VALUES (\(context.tenantID), \(message.subscriberRowID), \(plan.key), \(message.channel.rawValue), \(key), 'open',
                        \(ms(decision.availableAt)), \(ms(context.now)))
                RETURNING id
                """, logger)[0][0]
            decision.startDigest(digestID)
        }
    }

    private static func applyRateLimits(
        _ connection: PostgresConnection, _ logger: Logger, _ decision: inout FlowDecision, _ message: PlannedMessage, _ context: PlanningContext
    ) async throws {
        let plan = context.plan
        let covering = plan.appliedLimits.compactMap { limit in
            limit.bucketKey(tenantID: context.tenantID, subscriberRowID: message.subscriberRowID, eventType: plan.key, channel: message.channel)
                .map { (key: $0, limit: limit.limit) }
        }
        guard !covering.isEmpty else { return }
        var stored: [String: (tokens: Double, updatedAt: Int64)] = [:]
        for row in try await connection.rows(
            "SELECT key, tokens, updated_at FROM rate_buckets WHERE key = ANY(\(covering.map(\.key)))", logger)
        {
            stored[try row[0]] = (try row[1], try row[2])
        }
        var buckets = covering.map { entry in
            RateLimitGate.bucket(
                for: entry.limit, tokens: stored[entry.key]?.tokens, updatedAt: date(stored[entry.key]?.updatedAt), now: context.now)
        }
        switch RateLimitGate.decide(&buckets, action: plan.onLimit ?? .defer, at: decision.availableAt) {
        case .pass: break
        case .deferred(let until): decision.deferForRateLimit(until: until)
        case .suppressed:
            decision.suppress(.rateLimited, relatedTo: nil)
            return
        }
        for (entry, bucket) in zip(covering, buckets) {
            try await connection.run(
                """
                INSERT INTO rate_buckets(key, tokens, updated_at) VALUES (\(entry.key), \(bucket.tokens), \(ms(bucket.updatedAt)))
                ON CONFLICT (key) DO UPDATE SET tokens = excluded.tokens, updated_at = excluded.updated_at
                """, logger)
        }
    }

    /// Flow-control state nothing will read again: dedup keys past their window, buckets idle longer than
    /// any period (a full bucket is the same as none), and digests closed a week ago.
    static func deleteExpiredFlowState(_ connection: PostgresConnection, _ logger: Logger, now: Date, limit: Int) async throws {
        let nowMS = ms(now)
        try await connection.run(
            """
            DELETE FROM dedup_keys WHERE (subscriber_pk, event_type, channel, fingerprint) IN (
                SELECT subscriber_pk, event_type, channel, fingerprint FROM dedup_keys WHERE expires_at < \(nowMS) LIMIT \(limit))
            """, logger)
        try await connection.run(
            """
            DELETE FROM rate_buckets WHERE key IN (
                SELECT key FROM rate_buckets WHERE updated_at < \(ms(now.addingTimeInterval(-32 * 86_400))) LIMIT \(limit))
            """, logger)
        try await connection.run(
            """
            DELETE FROM digests WHERE id IN (
                SELECT id FROM digests WHERE status = 'closed' AND closed_at < \(ms(now.addingTimeInterval(-7 * 86_400))) LIMIT \(limit))
            """, logger)
    }

    // MARK: Digests

    public func digestItems(digestID: Int64, now: Date) async throws -> [DigestItem] {
        try await write { connection in
            try await connection.run(
                "UPDATE digests SET status = 'closed', closed_at = \(Self.ms(now)) WHERE id = \(digestID) AND status = 'open'", logger)
            return try await connection.rows(
                """
                SELECT m.id, e.id, e.tenant_id, t.name, e.type, e.payload, e.created_at
                FROM messages m JOIN events e ON e.pk = m.event_pk JOIN tenants t ON t.id = e.tenant_id
                WHERE m.digest_id = \(digestID) AND e.status != 'cancelled' AND m.status NOT IN ('cancelled', 'suppressed')
                ORDER BY m.id
                """, logger
            ).map { row in
                DigestItem(
                    messageRowID: try row[0],
                    event: EventContext(
                        id: try row[1], tenantID: try row[2], tenantName: try row[3], type: try row[4],
                        payload: Self.decodeJSON([String: JSONValue].self, try row[5]) ?? [:], createdAt: Self.date(try row[6])!))
            }
        }
    }
}
