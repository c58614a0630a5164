import Foundation

/// An event's messages counted by status, once for both stores.
extension SQLDatabase {
    /// One pass over the event's messages with a count per status, rather than `GROUP BY status`: SQLite groups
    /// by sorting every row first, which for a million-member event held ~50 MB of the process's memory for
    /// each `GET /v1/events/{id}` (and for every progress poll of a fan-out). Statuses with no message are left out;
    /// a message being sent counts as `sending`, as the message list shows it.
    public func messageCounts(tenantID: String, eventID: String) async throws -> [String: Int] {
        let statuses = MessageStatus.allCases
        let columns: SQLQuery = statuses.enumerated().reduce(into: "") { query, status in
            query = "\(query)\(sql: status.offset == 0 ? "" : ", ")count(*) FILTER (WHERE m.status = \(literal: status.element.rawValue))"
        }
        // The leases in the same statement: one snapshot, so the two counts agree.
        let leased = dialect.leasedMessages(tenantID: tenantID, eventID: eventID).map { query -> SQLQuery in ", (\(query))" } ?? ""
        guard
            let row = try await readRows(
                """
                SELECT \(columns)\(leased) FROM messages m JOIN events e ON e.pk = m.event_pk
                WHERE e.tenant_id = \(tenantID) AND e.id = \(eventID)
                """
            ).first
        else { return [:] }
        var counts = Dictionary(uniqueKeysWithValues: zip(statuses, row.map { Int($0.integer ?? 0) }))
        if let leases = row.dropFirst(statuses.count).first?.integer {
            counts[.queued, default: 0] -= Int(leases)
            counts[.sending, default: 0] += Int(leases)
        }
        return Dictionary(uniqueKeysWithValues: counts.filter { $0.value > 0 }.map { ($0.key.rawValue, $0.value) })
    }
}
