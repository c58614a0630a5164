import Foundation

/// The suppression list and email feedback, once for both stores.
extension SQLDatabase {
    private static var suppressionColumns: String { "address, reason, message_id, detail, created_at" }

    private static func suppression(_ row: [SQLValue]) -> Suppression? {
        guard let address = row[0].text, let reason = row[1].text.flatMap(Suppression.Reason.init(rawValue:)) else { return nil }
        return Suppression(
            address: address, reason: reason, messageID: row[2].integer.map(Message.publicID), detail: row[3].text,
            createdAt: row[4].date ?? Date(timeIntervalSince1970: 0))
    }

    public func suppressions(tenantID: String, after cursor: String?, limit: Int) async throws -> Page<Suppression> {
        let rows = try await readRows(
            """
            SELECT \(sql: Self.suppressionColumns) FROM suppressions
            WHERE tenant_id = \(tenantID) AND lifted_at IS NULL AND address > \(cursor ?? "")
            ORDER BY address LIMIT \(limit + 1)
            """)
        let items = rows.prefix(limit).compactMap(Self.suppression)
        return Page(items: items, nextCursor: rows.count > limit ? items.last?.address : nil)
    }

    public func activeSuppressions(tenantID: String, addresses: [String]) async throws -> [String: Suppression] {
        var found: [String: Suppression] = [:]
        for batch in SQLQuery.batches(Array(Set(addresses.map { $0.lowercased() })).map { [SQLValue($0)] }, in: dialect) {
            let rows = try await readRows(
                """
                SELECT \(sql: Self.suppressionColumns) FROM suppressions
                WHERE tenant_id = \(tenantID) AND lifted_at IS NULL AND address IN (SELECT column1 FROM (VALUES \(rows: batch)) AS v WHERE true)
                """)
            for entry in rows.compactMap(Self.suppression) { found[entry.address] = entry }
        }
        return found
    }

    public func suppress(tenantID: String, _ entry: Suppression, messageRow: Int64?) async throws {
        try await writeAll([Self.upsert(tenantID: tenantID, entry, messageRow: messageRow, when: nil)])
    }

    /// Adds or re-activates an entry, or, with a `condition`, only when that holds. The conditional form
    /// selects its values, so they must not be NULL: PostgreSQL would read an untyped NULL there as text.
    private static func upsert(tenantID: String, _ entry: Suppression, messageRow: Int64?, when condition: SQLQuery?) -> SQLQuery {
        let values: SQLQuery =
            if let condition {
                "SELECT \(tenantID), \(entry.address), \(entry.reason.rawValue), \(messageRow), \(entry.detail), \(entry.createdAt) WHERE \(condition)"
            } else {
                "VALUES (\(tenantID), \(entry.address), \(entry.reason.rawValue), \(messageRow), \(entry.detail), \(entry.createdAt))"
            }
        return """
            INSERT INTO suppressions(tenant_id, address, reason, message_id, detail, created_at) \(values)
            ON CONFLICT (tenant_id, address) DO UPDATE SET reason = excluded.reason, message_id = excluded.message_id,
                detail = excluded.detail, created_at = excluded.created_at, lifted_at = NULL
            """
    }

    public func liftSuppression(tenantID: String, address: String, now: Date) async throws -> Bool {
        try await !writeRows(
            """
            UPDATE suppressions SET lifted_at = \(now)
            WHERE tenant_id = \(tenantID) AND address = \(address.lowercased()) AND lifted_at IS NULL RETURNING address
            """
        ).isEmpty
    }

    public func bouncedMessage(row: Int64) async throws -> BouncedMessage? {
        guard
            let row = try await readRows(
                """
                SELECT m.tenant_id, m.id, s.id, s.email, e.id, e.type, m.channel, m.priority, m.status
                FROM messages m JOIN events e ON e.pk = m.event_pk JOIN subscribers s ON s.pk = m.subscriber_pk
                WHERE m.id = \(row)
                """
            ).first,
            let tenantID = row[0].text, let rowID = row[1].integer, let subscriberID = row[2].text, let eventID = row[4].text,
            let eventType = row[5].text, let channel = row[6].text.flatMap(ChannelKind.init(rawValue:)),
            let priority = row[7].integer.flatMap({ Priority(rank: Int(truncatingIfNeeded: $0)) }),
            let status = row[8].text.flatMap(MessageStatus.init(rawValue:))
        else { return nil }
        return BouncedMessage(
            tenantID: tenantID, rowID: rowID, subscriberID: subscriberID, address: row[3].text, eventID: eventID, eventType: eventType,
            channel: channel, priority: priority, status: status)
    }

    public func recordEmailFeedback(
        _ feedback: EmailFeedback, tenantID: String, messageRow: Int64, softBounceThreshold: Int, softSince: Date
    ) async throws -> Bool {
        let insert: SQLQuery = """
            INSERT INTO email_feedback(tenant_id, message_id, address, kind, status, detail, created_at)
            VALUES (\(tenantID), \(messageRow), \(feedback.address), \(feedback.kind.rawValue), \(feedback.status), \(feedback.detail), \(feedback.createdAt))
            """
        let entry: Suppression
        let condition: SQLQuery?
        switch feedback.kind {
        case .hardBounce, .complaint:
            entry = Suppression(
                address: feedback.address, reason: feedback.kind == .complaint ? .complained : .bounced, messageID: Message.publicID(messageRow),
                detail: feedback.detail ?? feedback.status, createdAt: feedback.createdAt)
            condition = nil
        case .softBounce:
            entry = Suppression(
                address: feedback.address, reason: .bounced, messageID: Message.publicID(messageRow),
                detail: "\(softBounceThreshold) soft bounces; the last: \(feedback.detail ?? feedback.status ?? "no detail")",
                createdAt: feedback.createdAt)
            // Soft bounces since `softSince` and since the address was last lifted, counting the one just inserted.
            condition = """
                (SELECT count(*) FROM email_feedback f
                 WHERE f.tenant_id = \(tenantID) AND f.address = \(feedback.address) AND f.kind = \(EmailFeedback.Kind.softBounce.rawValue)
                 AND f.created_at >= \(softSince)
                 AND f.created_at > coalesce((SELECT lifted_at FROM suppressions WHERE tenant_id = \(tenantID) AND address = \(feedback.address)), 0)
                ) >= \(softBounceThreshold)
                AND NOT EXISTS (SELECT 1 FROM suppressions WHERE tenant_id = \(tenantID) AND address = \(feedback.address) AND lifted_at IS NULL)
                """
        }
        let results = try await writeAll([
            insert, Self.upsert(tenantID: tenantID, entry, messageRow: messageRow, when: condition),
            "SELECT 1 FROM suppressions WHERE tenant_id = \(tenantID) AND address = \(feedback.address) AND lifted_at IS NULL",
        ])
        return !(results.last ?? []).isEmpty
    }

    public func emailFeedback(messageRow: Int64) async throws -> [EmailFeedback] {
        try await readRows(
            "SELECT kind, address, status, detail, created_at FROM email_feedback WHERE message_id = \(messageRow) ORDER BY id"
        ).compactMap { row in
            guard let kind = row[0].text.flatMap(EmailFeedback.Kind.init(rawValue:)), let address = row[1].text else { return nil }
            return EmailFeedback(kind: kind, address: address, status: row[2].text, detail: row[3].text, createdAt: row[4].date ?? Date())
        }
    }

    public func emailFeedbackCounts(tenantID: String, since: Date) async throws -> [EmailFeedback.Kind: Int] {
        var counts: [EmailFeedback.Kind: Int] = [:]
        for row in try await readRows(
            "SELECT kind, count(*) FROM email_feedback WHERE tenant_id = \(tenantID) AND created_at >= \(since) GROUP BY kind")
        {
            guard let kind = row[0].text.flatMap(EmailFeedback.Kind.init(rawValue:)), let count = row[1].integer else { continue }
            counts[kind] = Int(truncatingIfNeeded: count)
        }
        return counts
    }
}
