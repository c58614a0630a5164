import Foundation

/// Cancelling events, once for both stores: one transaction finds the events and cancels their messages
/// that have not gone out, their pending fan-out, and their items in digests still collecting. A digest's
/// own message stays when the digest holds other events' items; it goes out without this event's.
extension SQLDatabase {
    public func cancelEvent(tenantID: String, id: String, now: Date) async throws -> Int? {
        let result = try await cancel(events: "tenant_id = \(tenantID) AND id = \(id)", now: now)
        return result.events.isEmpty ? nil : result.messages
    }

    public func cancelEvents(tenantID: String, cancellationKey: String, now: Date) async throws -> CancellationResult {
        try await cancel(
            events: """
                tenant_id = \(tenantID) AND cancellation_key = \(cancellationKey) AND status != \(literal: Event.Status.cancelled.rawValue)
                """, now: now)
    }

    /// Cancels the events `selection` picks (a condition on `events`), in one transaction.
    private func cancel(events selection: SQLQuery, now: Date) async throws -> CancellationResult {
        let cancelled = MessageStatus.cancelled.rawValue
        let events: SQLQuery = "SELECT pk FROM events WHERE \(selection)"
        let results = try await writeAll([
            // First, before the events are locked: on PostgreSQL this waits for a runner advancing one of these runs
            // (whose messages need the event row), so what it planned is cancelled below with the rest.
            WorkflowWake.cancel(events: events, now: now),
            "SELECT id FROM events WHERE \(selection) ORDER BY pk\(sql: dialect.lockingRows)",
            // Again with the events locked: runs a fan-out chunk committed in between.
            WorkflowWake.cancel(events: events, now: now),
            // A message leased to a dispatcher whose lease ran out is waiting too: the dispatcher died, nothing went out.
            """
            UPDATE messages SET status = \(literal: cancelled)\(sql: dialect.releasingLease), updated_at = \(now)
            WHERE event_pk IN (\(events))
            AND (\(dialect.isWaiting(now: now))
                 OR (status = \(literal: MessageStatus.merged.rawValue) AND EXISTS (
                     SELECT 1 FROM digests d WHERE d.id = messages.digest_id AND d.status = 'open')))
            AND NOT (status != \(literal: MessageStatus.merged.rawValue) AND digest_id IS NOT NULL AND EXISTS (
                SELECT 1 FROM messages i WHERE i.digest_id = messages.digest_id AND i.id != messages.id
                AND i.status = \(literal: MessageStatus.merged.rawValue)))
            RETURNING id
            """,
            // A digest whose own message was cancelled takes no more items: the next one starts a new digest.
            """
            UPDATE digests SET status = 'closed', closed_at = \(now)
            WHERE status = 'open' AND message_id IN (
                SELECT id FROM messages WHERE event_pk IN (\(events)) AND status = \(literal: cancelled))
            """,
            "UPDATE fanout_jobs SET status = 'cancelled' WHERE event_pk IN (\(events)) AND status = 'pending'",
        ] + [dialect.dequeue("SELECT id FROM messages WHERE event_pk IN (\(events)) AND status = \(literal: cancelled)")].compactMap { $0 } + [
            // Last: the selection may depend on the events' status.
            "UPDATE events SET status = \(literal: Event.Status.cancelled.rawValue) WHERE pk IN (\(events))"
        ])
        return CancellationResult(events: results[1].compactMap { $0.first?.text }, messages: results[3].count)
    }
}
