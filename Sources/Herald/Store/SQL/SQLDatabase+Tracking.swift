import Foundation

/// Email opens and clicks, once for both stores: each is one transaction of a counting update, the wake of the
/// workflow runs waiting for it, and a read of what the status webhook says.
extension SQLDatabase {
    public func recordEmailOpen(messageRow: Int64, now: Date) async throws -> EmailEngagement? {
        try await recordEngagement(
            messageRow: messageRow, set: "open_count = open_count + 1, opened_at = coalesce(opened_at, \(now))", wakes: .opened, now: now)
    }

    public func recordEmailClick(messageRow: Int64, now: Date) async throws -> EmailEngagement? {
        try await recordEngagement(
            messageRow: messageRow, set: "click_count = click_count + 1, clicked_at = coalesce(clicked_at, \(now))", wakes: .clicked, now: now)
    }

    public func emailEngagementCounts(tenantID: String, since: Date) async throws -> EmailEngagementCounts {
        let row = try await readRows(
            """
            SELECT count(*), coalesce(sum(CASE WHEN opened_at IS NULL THEN 0 ELSE 1 END), 0), coalesce(sum(open_count), 0),
                   coalesce(sum(CASE WHEN clicked_at IS NULL THEN 0 ELSE 1 END), 0), coalesce(sum(click_count), 0)
            FROM messages m
            WHERE \(dialect.messages(ofTenant: tenantID, alias: "m")) AND created_at >= \(since) AND channel = \(literal: ChannelKind.email.rawValue)
            AND status IN (\(literal: MessageStatus.sent.rawValue), \(literal: MessageStatus.delivered.rawValue))
            """
        ).first
        func count(_ index: Int) -> Int { Int(truncatingIfNeeded: row?[index].integer ?? 0) }
        return EmailEngagementCounts(sent: count(0), opened: count(1), opens: count(2), clicked: count(3), clicks: count(4))
    }

    /// Counts one open or click of an email message, wakes the runs of its recipient waiting for `wakes` (the
    /// statements an inbox read uses, so an email click ends a wait `until: clicked` exactly as an inbox click
    /// does), and reads the message back, all in one transaction.
    private func recordEngagement(messageRow: Int64, set: SQLQuery, wakes: WaitSpec.Until, now: Date) async throws -> EmailEngagement? {
        let email: SQLQuery = "id = \(messageRow) AND channel = \(literal: ChannelKind.email.rawValue)"
        let update: SQLQuery = "UPDATE messages SET \(set) WHERE \(email) RETURNING id"
        let subscriber: SQLQuery = "SELECT subscriber_pk FROM messages WHERE \(email)"
        let read: SQLQuery = """
            SELECT m.tenant_id, e.id, e.type, s.id, m.priority, m.status, m.opened_at, m.open_count, m.clicked_at, m.click_count
            FROM messages m JOIN events e ON e.pk = m.event_pk LEFT JOIN subscribers s ON s.pk = m.subscriber_pk
            WHERE m.id = \(messageRow)
            """
        let results = try await writeAll([update] + WorkflowWake.inbox(subscriber: subscriber, kinds: [wakes], now: now) + [read])
        guard results.first?.isEmpty == false, let row = results.last?.first, let tenantID = row[0].text, let eventID = row[1].text,
            let eventType = row[2].text, let priority = row[4].integer.flatMap({ Priority(rank: Int(truncatingIfNeeded: $0)) }),
            let status = row[5].text.flatMap(MessageStatus.init(rawValue:))
        else { return nil }
        return EmailEngagement(
            tenantID: tenantID, rowID: messageRow, eventID: eventID, eventType: eventType, subscriberID: row[3].text ?? "", priority: priority,
            status: status, openedAt: row[6].date, openCount: Int(truncatingIfNeeded: row[7].integer ?? 0), clickedAt: row[8].date,
            clickCount: Int(truncatingIfNeeded: row[9].integer ?? 0))
    }
}
