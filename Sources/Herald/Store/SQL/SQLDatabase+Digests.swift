import Foundation

/// Closing a digest and reading its items, once for both stores.
extension SQLDatabase {
    /// Closes the digest (a later item starts a new one) and returns its items in the order they came,
    /// without those cancelled or suppressed. Called again for the same digest (a retry), it returns the
    /// same items.
    public func digestItems(digestID: Int64, now: Date) async throws -> [DigestItem] {
        let results = try await writeAll([
            "UPDATE digests SET status = 'closed', closed_at = \(now) WHERE id = \(digestID) AND status = 'open'",
            """
            SELECT m.id, e.id, e.tenant_id, t.name, e.type, e.payload, e.created_at
            FROM messages m JOIN events e ON e.pk = m.event_pk JOIN tenants t ON t.id = e.tenant_id
            WHERE m.digest_id = \(digestID) AND e.status != \(literal: Event.Status.cancelled.rawValue)
            AND m.status NOT IN (\(literal: MessageStatus.cancelled.rawValue), \(literal: MessageStatus.suppressed.rawValue))
            ORDER BY m.id
            """,
        ])
        return results[1].compactMap { row in
            guard let messageID = row[0].integer, let eventID = row[1].text, let tenantID = row[2].text, let type = row[4].text,
                let createdAt = row[6].date
            else { return nil }
            let payload = row[5].text.flatMap { try? JSONCoding.decoder.decode([String: JSONValue].self, from: Data($0.utf8)) } ?? [:]
            return DigestItem(
                messageRowID: messageID,
                event: EventContext(
                    id: eventID, tenantID: tenantID, tenantName: row[3].text ?? "", type: type, payload: payload, createdAt: createdAt))
        }
    }
}
