import Foundation
import GRDB

/// One event's planning inputs, as the store writes its messages.
struct PlanningContext {
    var tenantID: String
    var eventPK: Int64
    var plan: EventType
    var payload: [String: JSONValue]
    var dueAt: Date
    var now: Date
    var expiresAt: Date
}

extension SQLiteStore {
    /// Writes planned messages. Without flow control a message is inserted as planned; with it, each
    /// queued message goes through dedup, the digest and the rate limits here, in the planning
    /// transaction, so two events planned at once cannot both be "the first" or both take the last token.
    /// Returns how many messages went in by status, as flow control left them.
    @discardableResult
    static func insertMessages(_ db: Database, _ planned: [PlannedMessage], _ context: PlanningContext) throws -> [String: Int] {
        var counts: [String: Int] = [:]
        let statement = try db.cachedStatement(
            sql: """
                INSERT INTO messages(tenant_id, event_pk, subscriber_pk, channel, priority, status, reason, available_at,
                                     created_at, updated_at, expires_at, digest_id, related_id)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT(event_pk, subscriber_pk, channel) DO NOTHING
                """)
        let nowMS = ms(context.now)
        let dueMS = ms(context.dueAt)
        let expiresMS = ms(context.expiresAt)
        let priority = context.plan.priority.rank
        // A subscriber's own digest preference turns flow control on for their messages alone.
        guard context.plan.hasFlowControl || planned.contains(where: { $0.digestKey != nil }) else {
            for message in planned {
                try statement.execute(arguments: [
                    context.tenantID, context.eventPK, message.subscriberRowID, message.channel.rawValue, priority, message.status.rawValue,
                    message.heldUntil == nil ? message.reason?.rawValue : FlowDecision.quietHoursReason,
                    message.status == .queued ? (message.heldUntil.map(ms) ?? dueMS) : nowMS, nowMS, nowMS, expiresMS, nil, nil,
                ])
                counts[message.status.rawValue, default: 0] += 1
            }
            return counts
        }
        let fingerprint = context.plan.dedup.map { $0.fingerprint(payload: context.payload) }
        for message in planned {
            var decision = FlowDecision(message: message, dueAt: context.dueAt)
            if message.status == .queued { try decide(db, &decision, message, context, fingerprint: fingerprint) }
            try statement.execute(arguments: [
                context.tenantID, context.eventPK, message.subscriberRowID, message.channel.rawValue, priority, decision.status.rawValue,
                decision.reason, decision.status == .queued || decision.status == .merged ? ms(decision.availableAt) : nowMS, nowMS, nowMS,
                expiresMS, decision.digestID, decision.relatedID,
            ])
            guard db.changesCount > 0 else { continue }
            counts[decision.status.rawValue, default: 0] += 1
            let messageID = db.lastInsertedRowID
            if decision.startsDigest, let digestID = decision.digestID {
                try db.execute(sql: "UPDATE digests SET message_id = ? WHERE id = ?", arguments: [messageID, digestID])
            }
            if let fingerprint, let window = context.plan.dedup?.windowSeconds, decision.status != .suppressed {
                try db.cachedStatement(
                    sql: """
                        INSERT INTO dedup_keys(subscriber_pk, event_type, channel, fingerprint, message_id, expires_at) VALUES (?, ?, ?, ?, ?, ?)
                        ON CONFLICT(subscriber_pk, event_type, channel, fingerprint) DO UPDATE
                        SET message_id = excluded.message_id, expires_at = excluded.expires_at
                        """
                ).execute(arguments: [
                    message.subscriberRowID, context.plan.key, message.channel.rawValue, fingerprint, messageID,
                    ms(context.now.addingTimeInterval(window)),
                ])
            }
        }
        return counts
    }

    /// Dedup, then the digest, then the rate limits, for one queued message.
    private static func decide(
        _ db: Database, _ decision: inout FlowDecision, _ message: PlannedMessage, _ context: PlanningContext, fingerprint: String?
    ) throws {
        let plan = context.plan
        if let fingerprint,
            let original = try Int64.fetchOne(
                db.cachedStatement(
                    sql: """
                        SELECT message_id FROM dedup_keys
                        WHERE subscriber_pk = ? AND event_type = ? AND channel = ? AND fingerprint = ? AND expires_at > ?
                        """),
                arguments: [message.subscriberRowID, plan.key, message.channel.rawValue, fingerprint, ms(context.now)])
        {
            decision.suppress(.duplicate, relatedTo: original)
            return
        }
        if let key = message.digestKey,
            let open = try Row.fetchOne(
                db.cachedStatement(
                    sql: """
                        SELECT id, message_id, flush_at FROM digests
                        WHERE subscriber_pk = ? AND event_type = ? AND channel = ? AND digest_key = ? AND status = 'open'
                        """),
                arguments: [message.subscriberRowID, plan.key, message.channel.rawValue, key])
        {
            decision.merge(into: open[0], message: open[1], flushAt: date(open[2])!)
            return
        }
        if let flushAt = message.digestFlushAt { decision.availableAt = flushAt }
        try applyRateLimits(db, &decision, message, context)
        if decision.status == .queued, let key = message.digestKey {
            try db.execute(
                sql: """
                    INSERT INTO digests(tenant_id, subscriber_pk, event_type, channel, digest_key, status, flush_at, created_at)
                    VALUES (?, ?, ?, ?, ?, 'open', ?, ?)
                    """,
                arguments: [
                    context.tenantID, message.subscriberRowID, plan.key, message.channel.rawValue, key, ms(decision.availableAt), ms(context.now),
                ])
            decision.startDigest(db.lastInsertedRowID)
        }
    }

    private static func applyRateLimits(_ db: Database, _ decision: inout FlowDecision, _ message: PlannedMessage, _ context: PlanningContext)
        throws
    {
        let plan = context.plan
        let covering = plan.appliedLimits.compactMap { limit in
            limit.bucketKey(tenantID: context.tenantID, subscriberRowID: message.subscriberRowID, eventType: plan.key, channel: message.channel)
                .map { (key: $0, limit: limit.limit) }
        }
        guard !covering.isEmpty else { return }
        let read = try db.cachedStatement(sql: "SELECT tokens, updated_at FROM rate_buckets WHERE key = ?")
        var buckets: [TokenBucket] = []
        for entry in covering {
            let row = try Row.fetchOne(read, arguments: [entry.key])
            buckets.append(
                RateLimitGate.bucket(for: entry.limit, tokens: row?[0], updatedAt: date(row?[1]), now: context.now))
        }
        let result = RateLimitGate.decide(&buckets, action: plan.onLimit ?? .defer, at: decision.availableAt)
        switch result {
        case .pass: break
        case .deferred(let until): decision.deferForRateLimit(until: until)
        case .suppressed:
            decision.suppress(.rateLimited, relatedTo: nil)
            return
        }
        let write = try db.cachedStatement(
            sql: """
                INSERT INTO rate_buckets(key, tokens, updated_at) VALUES (?, ?, ?)
                ON CONFLICT(key) DO UPDATE SET tokens = excluded.tokens, updated_at = excluded.updated_at
                """)
        for (entry, bucket) in zip(covering, buckets) {
            try write.execute(arguments: [entry.key, bucket.tokens, ms(bucket.updatedAt)])
        }
    }

    /// Flow-control state nothing will read again: dedup keys past their window, buckets idle longer than
    /// any period (a full bucket is the same as none), and digests closed a week ago.
    static func deleteExpiredFlowState(_ db: Database, now: Date, limit: Int) throws {
        let nowMS = ms(now)
        try db.execute(
            sql: """
                DELETE FROM dedup_keys WHERE (subscriber_pk, event_type, channel, fingerprint) IN (
                    SELECT subscriber_pk, event_type, channel, fingerprint FROM dedup_keys WHERE expires_at < ? LIMIT ?)
                """, arguments: [nowMS, limit])
        try db.execute(
            sql: "DELETE FROM rate_buckets WHERE key IN (SELECT key FROM rate_buckets WHERE updated_at < ? LIMIT ?)",
            arguments: [ms(now.addingTimeInterval(-32 * 86_400)), limit])
        try db.execute(
            sql: "DELETE FROM digests WHERE id IN (SELECT id FROM digests WHERE status = 'closed' AND closed_at < ? LIMIT ?)",
            arguments: [ms(now.addingTimeInterval(-7 * 86_400)), limit])
    }

    // MARK: Digests

    public func digestItems(digestID: Int64, now: Date) async throws -> [DigestItem] {
        try await pool.write { db in
            try db.execute(
                sql: "UPDATE digests SET status = 'closed', closed_at = ? WHERE id = ? AND status = 'open'", arguments: [Self.ms(now), digestID])
            return try Row.fetchAll(
                db,
                sql: """
                    SELECT m.id, e.id, e.tenant_id, t.name, e.type, e.payload, e.created_at
                    FROM messages m JOIN events e ON e.pk = m.event_pk JOIN tenants t ON t.id = e.tenant_id
                    WHERE m.digest_id = ? AND e.status != 'cancelled' AND m.status NOT IN ('cancelled', 'suppressed')
                    ORDER BY m.id
                    """, arguments: [digestID]
            ).map { row in
                DigestItem(
                    messageRowID: row[0],
                    event: EventContext(
                        id: row[1], tenantID: row[2], tenantName: row[3], type: row[4],
                        payload: Self.decodeJSON([String: JSONValue].self, row[5]) ?? [:], createdAt: Self.date(row[6])!))
            }
        }
    }
}
