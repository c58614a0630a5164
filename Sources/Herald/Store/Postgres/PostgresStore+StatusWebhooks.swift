import Foundation
import PostgresNIO

extension PostgresStore {
    public func messagesRead(tenantID: String, subscriberID: String, at: Date) async throws -> [Message] {
        try await read { connection in
            guard let pk = try await Self.tenantSubscriberPK(connection, logger, tenantID: tenantID, id: subscriberID) else { return [] }
            return try await connection.rows(
                """
                SELECT \(unescaped: Self.messageColumns) FROM messages m \(unescaped: Self.messageJoins)
                WHERE m.subscriber_pk = \(pk) AND m.channel = 'in_app' AND m.status = 'delivered' AND m.read_at = \(Self.ms(at))
                ORDER BY m.id
                """, logger
            ).map(Self.message(from:))
        }
    }

    public func claimStatusWebhooks(owner: String, limit: Int, now: Date, leaseUntil: Date) async throws -> [StatusWebhookDelivery] {
        // Most looks find nothing: answer those without a transaction.
        let nowMS = Self.ms(now)
        let due: Bool = try await read { connection in
            try await connection.rows(
                "SELECT EXISTS (SELECT 1 FROM status_webhooks WHERE status IN ('pending', 'sending') AND available_at <= \(nowMS))", logger
            )[0][0]
        }
        guard due else { return [] }
        return try await write { connection in
            // A 'sending' row whose lease ran out belongs to a process that died mid-send: anyone may take it.
            let rows = try await connection.rows(
                """
                WITH due AS (
                    SELECT id, available_at FROM status_webhooks WHERE status IN ('pending', 'sending') AND available_at <= \(nowMS)
                    ORDER BY available_at, id LIMIT \(limit) FOR UPDATE SKIP LOCKED
                )
                UPDATE status_webhooks w SET status = 'sending', lease_owner = \(owner), available_at = \(Self.ms(leaseUntil)),
                    attempts = w.attempts + 1, updated_at = \(nowMS)
                FROM due WHERE w.id = due.id
                RETURNING w.id, w.tenant_id, w.url, w.webhook_id, w.type, w.body, w.attempts, due.available_at
                """, logger)
            return try rows.compactMap { row -> (Int64, Int64, StatusWebhookDelivery)? in
                guard let event = DeliveryStatusEvent(rawValue: try row[4]) else { return nil }
                let delivery = StatusWebhookDelivery(
                    rowID: try row[0], tenantID: try row[1], url: try row[2], webhookID: try row[3], event: event, body: try row[5],
                    attempts: try row[6])
                return (try row[7], delivery.rowID, delivery)
            }.sorted { ($0.0, $0.1) < ($1.0, $1.1) }.map(\.2)
        }
    }
}
