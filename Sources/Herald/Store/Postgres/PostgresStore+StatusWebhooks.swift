import Foundation
import PostgresNIO

extension PostgresStore {
    public func messagesRead(tenantID: String, subscriberID: String, at: Date) async throws -> [Message] {
        try await read { connection in
            guard let pk = try await Self.tenantSubscriberPK(connection, logger, tenantID: tenantID, id: subscriberID) else { return [] }
            return try await connection.rows(
                """
                SELECT \(unescaped: Self.messageColumns) FROM messages m
                JOIN events e ON e.pk = m.event_pk JOIN subscribers s ON s.pk = m.subscriber_pk
                WHERE m.subscriber_pk = \(pk) AND m.channel = 'in_app' AND m.status = 'delivered' AND m.read_at = \(Self.ms(at))
                ORDER BY m.id
                """, logger
            ).map(Self.message(from:))
        }
    }

    public func enqueueStatusWebhooks(_ deliveries: [StatusWebhookDelivery], now: Date) async throws {
        guard !deliveries.isEmpty else { return }
        try await write { connection in
            var shared = PostgresBindings()
            shared.append(Self.ms(now))
            let perStatement = SQLValues.rowsPerStatement(columns: 5)
            for start in stride(from: 0, to: deliveries.count, by: perStatement) {
                var values = SQLValues(types: ["text", "text", "text", "text", "text"], after: shared)
                for delivery in deliveries[start..<min(start + perStatement, deliveries.count)] {
                    values.append { row in
                        row.bind(delivery.tenantID)
                        row.bind(delivery.url)
                        row.bind(delivery.webhookID)
                        row.bind(delivery.event.rawValue)
                        row.bind(delivery.body)
                    }
                }
                try await connection.run(
                    PostgresQuery(
                        unsafeSQL: """
                            INSERT INTO status_webhooks(tenant_id, url, webhook_id, type, body, status, available_at, created_at, updated_at)
                            SELECT v.tenant_id, v.url, v.webhook_id, v.type, v.body, 'pending', $1, $1, $1
                            FROM (VALUES \(values.sql)) AS v(tenant_id, url, webhook_id, type, body)
                            """, binds: values.bindings), logger)
            }
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

    public func finishStatusWebhooks(_ results: [StatusWebhookResult], owner: String, now: Date) async throws {
        guard !results.isEmpty else { return }
        try await write { connection in
            let nowMS = Self.ms(now)
            var shared = PostgresBindings()
            shared.append(nowMS)
            shared.append(owner)
            var values = SQLValues(types: ["bigint", "text", "bigint", "integer", "text"], after: shared)
            for result in results {
                let (status, due, refund): (String, Int64, Int) =
                    switch result.state {
                    case .delivered: ("delivered", nowMS, 0)
                    case .failed: ("failed", nowMS, 0)
                    case .retry(let at, let refundsAttempt): ("pending", Self.ms(at), refundsAttempt ? 1 : 0)
                    }
                values.append { row in
                    row.bind(result.rowID)
                    row.bind(status)
                    row.bind(due)
                    row.bind(refund)
                    row.bind(result.detail)
                }
            }
            try await connection.run(
                PostgresQuery(
                    unsafeSQL: """
                        UPDATE status_webhooks w SET status = r.status, available_at = r.available_at, attempts = w.attempts - r.refund,
                            last_error = r.detail, lease_owner = NULL, updated_at = $1
                        FROM (VALUES \(values.sql)) AS r(id, status, available_at, refund, detail)
                        WHERE w.id = r.id AND w.status = 'sending' AND w.lease_owner = $2
                        """, binds: values.bindings), logger)
        }
    }

    public func statusWebhookCounts(tenantID: String) async throws -> [String: [String: Int]] {
        try await read { connection in
            var counts: [String: [String: Int]] = [:]
            for row in try await connection.rows(
                "SELECT url, status, count(*) FROM status_webhooks WHERE tenant_id = \(tenantID) GROUP BY url, status", logger)
            {
                // A row being sent is still pending as far as the tenant is concerned.
                let stored: String = try row[1]
                let status = stored == "sending" ? "pending" : stored
                counts[try row[0], default: [:]][status, default: 0] += try row[2] as Int
            }
            return counts
        }
    }

    public func deleteFinishedStatusWebhooks(before: Date, limit: Int) async throws -> Int {
        try await write { connection in
            try await connection.count(
                """
                DELETE FROM status_webhooks WHERE id IN (
                    SELECT id FROM status_webhooks WHERE status IN ('delivered', 'failed') AND updated_at < \(Self.ms(before)) LIMIT \(limit))
                RETURNING id
                """, logger)
        }
    }
}
