import Foundation

/// Where a store keeps the messages still to be sent: SQLite in the history's own rows (`queued`, and
/// `sending` under a lease), PostgreSQL in a narrow table of its own (``MessageQueue``), which a trigger fills
/// as queued messages are written. The statements both stores share ask the dialect for the little that differs.
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

    /// How many of an event's messages a dispatcher holds the lease of, where the lease is not on the history's row
    /// (PostgreSQL: the history says `queued` until the outcome); nil where it is. A scan of the few leased queue
    /// rows, not of the event's messages.
    func leasedMessages(tenantID: String, eventID: String) -> SQLQuery? {
        switch self {
        case .sqlite:
            return nil
        case .postgres:
            return """
                SELECT count(*) FROM queue q JOIN events l ON l.pk = q.event_pk
                WHERE q.lease_owner IS NOT NULL AND l.tenant_id = \(tenantID) AND l.id = \(eventID)
                """
        }
    }

    /// What a statement that takes a message out of the work (cancelling it) sets beside its status: SQLite's row
    /// drops its lease; PostgreSQL's history has none (the queue's row goes, ``dequeue(_:)``).
    var releasingLease: String {
        switch self {
        case .sqlite: ", lease_owner = NULL"
        case .postgres: ""
        }
    }
}
