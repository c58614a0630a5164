import Foundation
import GRDB

extension SQLiteStore {
    public func messagesRead(tenantID: String, subscriberID: String, at: Date) async throws -> [Message] {
        try await pool.read { db in
            guard let pk = try Self.tenantSubscriberPK(db, tenantID: tenantID, id: subscriberID) else { return [] }
            return try Row.fetchAll(
                db,
                sql: """
                    SELECT \(Self.messageColumns) FROM messages m
                    JOIN events e ON e.pk = m.event_pk JOIN subscribers s ON s.pk = m.subscriber_pk
                    WHERE m.subscriber_pk = ? AND m.channel = 'in_app' AND m.status = 'delivered' AND m.read_at = ?
                    ORDER BY m.id
                    """, arguments: [pk, Self.ms(at)]
            ).map(Self.message(from:))
        }
    }

    public func claimStatusWebhooks(owner: String, limit: Int, now: Date, leaseUntil: Date) async throws -> [StatusWebhookDelivery] {
        // Most looks find nothing: answer those from a reader, so an idle server does not write once a second.
        let due = try await pool.read { db in
            try Bool.fetchOne(
                db, sql: "SELECT EXISTS (SELECT 1 FROM status_webhooks WHERE status IN ('pending', 'sending') AND available_at <= ?)",
                arguments: [Self.ms(now)]) ?? false
        }
        guard due else { return [] }
        return try await pool.write { db in
            // A 'sending' row whose lease ran out belongs to a process that died mid-send: anyone may take it.
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT id, tenant_id, url, webhook_id, type, body, attempts FROM status_webhooks
                    WHERE status IN ('pending', 'sending') AND available_at <= ? ORDER BY available_at, id LIMIT ?
                    """, arguments: [Self.ms(now), limit])
            guard !rows.isEmpty else { return [] }
            let ids: [Int64] = rows.map { $0[0] }
            try db.execute(
                sql: """
                    UPDATE status_webhooks SET status = 'sending', lease_owner = ?, available_at = ?, attempts = attempts + 1, updated_at = ?
                    WHERE id IN (\(Self.placeholders(ids.count)))
                    """,
                arguments: StatementArguments([owner, Self.ms(leaseUntil), Self.ms(now)] as [any DatabaseValueConvertible] + ids))
            return rows.compactMap { row in
                guard let event = DeliveryStatusEvent(rawValue: row[4]) else { return nil }
                return StatusWebhookDelivery(
                    rowID: row[0], tenantID: row[1], url: row[2], webhookID: row[3], event: event, body: row[5], attempts: (row[6] as Int) + 1)
            }
        }
    }
}
