import Foundation
import GRDB

extension SQLiteStore {
    /// Every inbox query starts from the partial index of delivered in-app rows of one subscriber.
    private static let inboxScope = "m.subscriber_pk = ? AND m.channel = 'in_app' AND m.status = 'delivered'"

    public func inbox(tenantID: String, subscriberID: String, filter: InboxFilter, cursor: Int64?, limit: Int) async throws -> Page<InboxItem> {
        try await pool.read { db in
            guard let pk = try Self.tenantSubscriberPK(db, tenantID: tenantID, id: subscriberID) else { return Page(items: [], nextCursor: nil) }
            let condition: String
            switch filter {
            case .active: condition = "m.archived_at IS NULL"
            case .unread: condition = "m.read_at IS NULL AND m.archived_at IS NULL"
            case .read: condition = "m.read_at IS NOT NULL AND m.archived_at IS NULL"
            case .archived: condition = "m.archived_at IS NOT NULL"
            case .all: condition = "1"
            }
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT m.id, e.type, m.title, m.body, m.action_url, coalesce(m.sent_at, m.created_at), m.seen_at, m.read_at, m.archived_at
                    FROM messages m JOIN events e ON e.pk = m.event_pk
                    WHERE \(Self.inboxScope) AND \(condition) AND m.id < ? ORDER BY m.id DESC LIMIT ?
                    """, arguments: [pk, cursor ?? Int64.max, limit + 1])
            let items = rows.prefix(limit).map { row in
                InboxItem(
                    id: Message.publicID(row[0]), eventType: row[1], title: row[2] ?? "", body: row[3] ?? "", actionURL: row[4],
                    createdAt: Self.date(row[5])!, seenAt: Self.date(row[6]), readAt: Self.date(row[7]), archivedAt: Self.date(row[8]))
            }
            return Page(items: Array(items), nextCursor: rows.count > limit ? Cursor.encode(rows[limit - 1][0]) : nil)
        }
    }

    public func inboxCounts(tenantID: String, subscriberID: String) async throws -> InboxCounts {
        try await pool.read { db in
            guard let pk = try Self.tenantSubscriberPK(db, tenantID: tenantID, id: subscriberID) else {
                return InboxCounts(unread: 0, unseen: 0, total: 0)
            }
            let row = try Row.fetchOne(
                db,
                sql: """
                    SELECT count(*), coalesce(sum(m.read_at IS NULL), 0), coalesce(sum(m.seen_at IS NULL), 0)
                    FROM messages m WHERE \(Self.inboxScope) AND m.archived_at IS NULL
                    """, arguments: [pk])!
            return InboxCounts(unread: row[1], unseen: row[2], total: row[0])
        }
    }

    public func inboxSince(tenantID: String, subscriberID: String, after position: InboxPosition, limit: Int) async throws -> [InboxItem] {
        try await pool.read { db in
            guard let pk = try Self.tenantSubscriberPK(db, tenantID: tenantID, id: subscriberID) else { return [] }
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT m.id, e.type, m.title, m.body, m.action_url, coalesce(m.sent_at, m.created_at) AS at, m.seen_at, m.read_at, m.archived_at
                    FROM messages m JOIN events e ON e.pk = m.event_pk
                    WHERE \(Self.inboxScope) AND (at > ? OR (at = ? AND m.id > ?))
                    ORDER BY at, m.id LIMIT ?
                    """, arguments: [pk, position.millis, position.millis, position.rowID, limit])
            return rows.map { row in
                InboxItem(
                    id: Message.publicID(row[0]), eventType: row[1], title: row[2] ?? "", body: row[3] ?? "", actionURL: row[4],
                    createdAt: Self.date(row[5])!, seenAt: Self.date(row[6]), readAt: Self.date(row[7]), archivedAt: Self.date(row[8]))
            }
        }
    }

    public func inboxPosition(tenantID: String, subscriberID: String) async throws -> InboxPosition {
        try await pool.read { db in
            guard let pk = try Self.tenantSubscriberPK(db, tenantID: tenantID, id: subscriberID) else { return .start }
            let row = try Row.fetchOne(
                db,
                sql: """
                    SELECT coalesce(m.sent_at, m.created_at) AS at, m.id FROM messages m
                    WHERE \(Self.inboxScope) ORDER BY at DESC, m.id DESC LIMIT 1
                    """, arguments: [pk])
            guard let row else { return .start }
            return InboxPosition(millis: row[0], rowID: row[1])
        }
    }

    public func markRead(tenantID: String, subscriberID: String, messageID: Int64, now: Date) async throws -> Bool {
        try await updateInboxItem(
            tenantID: tenantID, subscriberID: subscriberID, messageID: messageID, now: now,
            set: "read_at = coalesce(read_at, ?1), seen_at = coalesce(seen_at, ?1)")
    }

    public func archive(tenantID: String, subscriberID: String, messageID: Int64, now: Date) async throws -> Bool {
        try await updateInboxItem(
            tenantID: tenantID, subscriberID: subscriberID, messageID: messageID, now: now,
            set: "archived_at = coalesce(archived_at, ?1), read_at = coalesce(read_at, ?1), seen_at = coalesce(seen_at, ?1)")
    }

    public func markAllRead(tenantID: String, subscriberID: String, now: Date) async throws -> Int {
        try await updateInbox(
            tenantID: tenantID, subscriberID: subscriberID, now: now, set: "read_at = ?1, seen_at = coalesce(seen_at, ?1)", where: "m.read_at IS NULL"
        )
    }

    public func markAllSeen(tenantID: String, subscriberID: String, now: Date) async throws -> Int {
        try await updateInbox(tenantID: tenantID, subscriberID: subscriberID, now: now, set: "seen_at = ?1", where: "m.seen_at IS NULL")
    }

    private func updateInboxItem(tenantID: String, subscriberID: String, messageID: Int64, now: Date, set: String) async throws -> Bool {
        try await pool.write { db in
            guard let pk = try Self.tenantSubscriberPK(db, tenantID: tenantID, id: subscriberID) else { return false }
            try db.execute(
                sql: "UPDATE messages AS m SET \(set) WHERE m.id = ?2 AND \(Self.inboxScope.replacingOccurrences(of: "?", with: "?3"))",
                arguments: [Self.ms(now), messageID, pk])
            return db.changesCount > 0
        }
    }

    private func updateInbox(tenantID: String, subscriberID: String, now: Date, set: String, where condition: String) async throws -> Int {
        try await pool.write { db in
            guard let pk = try Self.tenantSubscriberPK(db, tenantID: tenantID, id: subscriberID) else { return 0 }
            try db.execute(
                sql: "UPDATE messages AS m SET \(set) WHERE \(Self.inboxScope.replacingOccurrences(of: "?", with: "?2")) AND \(condition)",
                arguments: [Self.ms(now), pk])
            return db.changesCount
        }
    }
}
