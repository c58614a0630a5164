import Foundation
import PostgresNIO

extension PostgresStore {
    /// Writes the messages planned for `events` (one request's, or one fan-out chunk's) through
    /// ``PlanningSteps``, in the caller's transaction. Nodes plan one tenant's flow-controlled messages one
    /// at a time (a transaction-level advisory lock), so two batches planned at once on two nodes cannot
    /// both be "the first" of a dedup window, both open a digest, or both take a bucket's last token.
    /// Returns the finished steps: how many messages of each event went in, by status, and the runs it started.
    static func writeMessages(_ connection: PostgresConnection, _ logger: Logger, _ events: [PlanningEvent], now: Date) async throws
        -> PlanningSteps
    {
        var steps = PlanningSteps(events: events, now: now, dialect: .postgres)
        if steps.needsFlowLock, let tenantID = events.first?.tenantID, let lock = SQLDialect.postgres.flowLock(tenantID: tenantID) {
            _ = try await run(connection, logger, lock)
        }
        try await drive(&steps, connection, logger)
        return steps
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
}
