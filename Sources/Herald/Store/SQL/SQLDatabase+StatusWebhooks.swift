import Foundation

/// The queue of delivery-status webhooks, once for both stores. Claiming rows is the one part each
/// store does its own way (its `+StatusWebhooks` file): PostgreSQL skips rows other nodes hold, SQLite
/// has one writer.
extension SQLDatabase {
    public func enqueueStatusWebhooks(_ deliveries: [StatusWebhookDelivery], now: Date) async throws {
        let rows = deliveries.map { delivery in
            [
                SQLValue(delivery.tenantID), SQLValue(delivery.url), SQLValue(delivery.webhookID), SQLValue(delivery.event.rawValue),
                SQLValue(delivery.body), SQLValue(now),
            ]
        }
        try await writeAll(
            SQLQuery.batches(rows, in: dialect).map { batch in
                """
                INSERT INTO status_webhooks(tenant_id, url, webhook_id, type, body, status, available_at, created_at, updated_at)
                SELECT column1, column2, column3, column4, column5, \(literal: StatusWebhookDelivery.State.pending.rawValue), column6, column6, column6
                FROM (VALUES \(rows: batch)) AS v WHERE true
                """
            })
    }

    public func finishStatusWebhooks(_ results: [StatusWebhookResult], owner: String, now: Date) async throws {
        let rows = results.map { result in
            let (state, due, refund): (StatusWebhookDelivery.State, Date, Int) =
                switch result.state {
                case .delivered: (.delivered, now, 0)
                case .failed: (.failed, now, 0)
                case .retry(let at, let refundsAttempt): (.pending, at, refundsAttempt ? 1 : 0)
                }
            return [SQLValue(result.rowID), SQLValue(state.rawValue), SQLValue(due), SQLValue(refund), SQLValue(result.detail)]
        }
        // Only rows this owner still holds: one whose lease ran out may have been taken and sent by another.
        try await writeAll(
            SQLQuery.batches(rows, in: dialect).map { batch in
                """
                UPDATE status_webhooks AS w SET status = r.column2, available_at = r.column3, attempts = w.attempts - r.column4,
                    last_error = r.column5, lease_owner = NULL, updated_at = \(now)
                FROM (VALUES \(rows: batch)) AS r
                WHERE w.id = r.column1 AND w.status = \(literal: StatusWebhookDelivery.State.sending.rawValue) AND w.lease_owner = \(owner)
                """
            })
    }

    public func statusWebhookCounts(tenantID: String) async throws -> [String: [String: Int]] {
        var counts: [String: [String: Int]] = [:]
        for row in try await readRows("SELECT url, status, count(*) FROM status_webhooks WHERE tenant_id = \(tenantID) GROUP BY url, status") {
            guard let url = row[0].text, let stored = row[1].text, let count = row[2].integer else { continue }
            // A row being sent is still pending as far as the tenant is concerned.
            let state = stored == StatusWebhookDelivery.State.sending.rawValue ? StatusWebhookDelivery.State.pending.rawValue : stored
            counts[url, default: [:]][state, default: 0] += Int(count)
        }
        return counts
    }

    public func deleteFinishedStatusWebhooks(before: Date, limit: Int) async throws -> Int {
        try await writeRows(
            """
            DELETE FROM status_webhooks WHERE id IN (
                SELECT id FROM status_webhooks
                WHERE status IN (\(literal: StatusWebhookDelivery.State.delivered.rawValue), \(literal: StatusWebhookDelivery.State.failed.rawValue))
                AND updated_at < \(before) LIMIT \(limit))
            RETURNING id
            """
        ).count
    }
}
