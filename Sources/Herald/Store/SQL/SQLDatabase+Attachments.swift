import Foundation

/// The files stored with events (`event_attachments`), once for both stores: written in the transaction
/// that stores the event, read for its emails and for `GET /v1/events/{id}`. Rows go when their event goes
/// (`ON DELETE CASCADE`), so retention removes them with it.
extension SQLDatabase {
    /// The statements that store `attachments` with the event at `eventPK`, one row each, in order; run in
    /// the transaction that inserts the event. The bytes are stored as base64, the one text type both
    /// databases store alike.
    static func attachmentInserts(eventPK: Int64, _ attachments: [EmailAttachment], dialect: SQLDialect) -> [SQLStatement] {
        attachments.enumerated().map { position, attachment in
            let query: SQLQuery = """
                INSERT INTO event_attachments(event_pk, position, filename, content_type, size, content)
                VALUES (\(eventPK), \(position), \(attachment.filename), \(attachment.contentType), \(attachment.content.count),
                    \(attachment.content.base64EncodedString()))
                """
            return query.statement(in: dialect)
        }
    }

    /// How many bytes of files each of `eventIDs` has, for those that have any: one read per batch of
    /// ids, without the files themselves, so a dispatcher can plan how many emails to build at once.
    public func attachmentSizes(eventIDs: [String]) async throws -> [String: Int] {
        var sizes: [String: Int] = [:]
        for batch in SQLQuery.batches(Array(Set(eventIDs)).map { [SQLValue($0)] }, in: dialect) {
            let rows = try await readRows(
                """
                SELECT e.id, a.size FROM event_attachments a JOIN events e ON e.pk = a.event_pk
                WHERE e.id IN (SELECT column1 FROM (VALUES \(rows: batch)) AS v WHERE true)
                """)
            for row in rows {
                guard let id = row[0].text, let size = row[1].integer else { continue }
                sizes[id, default: 0] += Int(clamping: size)
            }
        }
        return sizes
    }

    /// The files of an event, in order, with their bytes.
    public func eventAttachments(eventID: String) async throws -> [EmailAttachment] {
        try await readRows(
            """
            SELECT a.filename, a.content_type, a.content FROM event_attachments a JOIN events e ON e.pk = a.event_pk
            WHERE e.id = \(eventID) ORDER BY a.position
            """
        ).compactMap { row in
            guard let filename = row[0].text, let type = row[1].text, let text = row[2].text, let content = Data(base64Encoded: text) else {
                return nil
            }
            return EmailAttachment(filename: filename, contentType: type, content: content)
        }
    }

    /// The names, types and sizes of a tenant's event's files, in order; empty for an event of another tenant.
    public func attachmentSummaries(tenantID: String, eventID: String) async throws -> [AttachmentSummary] {
        try await readRows(
            """
            SELECT a.filename, a.content_type, a.size FROM event_attachments a JOIN events e ON e.pk = a.event_pk
            WHERE e.tenant_id = \(tenantID) AND e.id = \(eventID) ORDER BY a.position
            """
        ).compactMap { row in
            guard let filename = row[0].text, let type = row[1].text, let size = row[2].integer else { return nil }
            return AttachmentSummary(filename: filename, contentType: type, size: Int(clamping: size))
        }
    }
}
