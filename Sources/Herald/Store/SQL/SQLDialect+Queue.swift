import Foundation

/// Where a store keeps the messages still to be sent: SQLite in the history's own rows (`queued`, and
/// `sending` under a lease), PostgreSQL in a narrow table of its own (``MessageQueue``). The statements both
/// stores share ask the dialect for the little that differs.
extension SQLDialect {
    /// The condition on `messages` of a message that waits to be sent and is not being sent at `now`: queued,
    /// or leased to a dispatcher whose lease has run out (it died; nothing went out).
    func isWaiting(now: Date) -> SQLQuery {
        switch self {
        case .sqlite:
            return "(status = 'queued' OR (status = 'sending' AND available_at <= \(now)))"
        case .postgres:
            return """
                (status = 'queued' AND NOT EXISTS (
                    SELECT 1 FROM queue q WHERE q.message_id = messages.id AND q.lease_owner IS NOT NULL AND q.available_at > \(now)))
                """
        }
    }

    /// The statement that takes the messages `ids` selects (a query of `messages.id`) out of the queue, where
    /// the queue is a table apart; nil where the history's row is the queue's.
    func dequeue(_ ids: SQLQuery) -> SQLQuery? {
        switch self {
        case .sqlite: nil
        case .postgres: "DELETE FROM queue WHERE message_id IN (\(ids))"
        }
    }

    /// `insert` (an `INSERT INTO messages …` without `RETURNING`) as the statement planning runs: it answers
    /// the inserted rows' id, event, subscriber and status when `returning`, and nothing otherwise. Where the
    /// queue is a table apart and the rows include queued ones (`queues`), it also writes their queue rows.
    func queueing(insert: String, queues: Bool, returning: Bool) -> String {
        let columns = "id, event_pk, subscriber_pk, status"
        guard self == .postgres, queues else { return insert + (returning ? " RETURNING " + columns : "") }
        return """
            WITH inserted AS (\(insert) RETURNING \(columns), priority, available_at),
            queued AS (
                INSERT INTO queue(message_id, event_pk, priority, available_at)
                SELECT id, event_pk, priority, available_at FROM inserted WHERE status = 'queued')
            SELECT \(columns) FROM inserted\(returning ? "" : " WHERE false")
            """
    }
}
