import Foundation
import GRDB

extension SQLiteStore {
    /// Writes the messages planned for `events` (one request's, or one fan-out chunk's) through
    /// ``PlanningSteps``, in the caller's transaction: SQLite's single writer makes the state read here
    /// the state written. Returns the finished steps: how many messages of each event went in, by status, and runs it started.
    static func writeMessages(_ db: Database, _ events: [PlanningEvent], now: Date) throws -> PlanningSteps {
        var steps = PlanningSteps(events: events, now: now, dialect: .sqlite)
        try drive(&steps, db)
        return steps
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
}
