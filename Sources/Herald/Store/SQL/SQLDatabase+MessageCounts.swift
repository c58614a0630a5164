import Foundation

/// An event's messages counted by status, once for both stores.
extension SQLDatabase {
    /// One pass over the event's messages with a count per status, rather than `GROUP BY status`: SQLite groups
    /// by sorting every row first, which for a million-member event held ~50 MB of the process's memory for
    /// each `GET /v1/events/{id}` (and for every progress poll of a fan-out). Statuses with no message are left out;
    /// a message being sent counts as `sending`, as the message list shows it.
    public func messageCounts(tenantID: String, eventID: String) async throws -> [String: Int] {
        let statuses = MessageStatus.allCases
        let counts: SQLQuery = statuses.enumerated().reduce(into: "") { query, status in
            query = "\(query)\(sql: status.offset == 0 ? "" : ", ")count(*) FILTER (WHERE \(sql: dialect.readStatus) = \(literal: status.element.rawValue))"
        }
        guard
            let row = try await readRows(
                """
                SELECT \(counts) FROM messages m JOIN events e ON e.pk = m.event_pk \(sql: dialect.queueJoin)
                WHERE e.tenant_id = \(tenantID) AND e.id = \(eventID)
                """
            ).first
        else { return [:] }
        var byStatus: [String: Int] = [:]
        for (status, value) in zip(statuses, row) {
            if let count = value.integer, count > 0 { byStatus[status.rawValue] = Int(count) }
        }
        return byStatus
    }
}
