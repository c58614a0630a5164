import Foundation
import PostgresNIO

extension PostgresStore {
    /// Every inbox query starts from the partial index of delivered in-app rows of one subscriber
    /// (`$1` is the subscriber's row).
    private static let inboxScope = "m.subscriber_pk = $1 AND m.channel = 'in_app' AND m.status = 'delivered'"

    private static let inboxColumns = """
        m.id, e.type, m.title, m.body, m.action_url, coalesce(m.sent_at, m.created_at), m.seen_at, m.read_at, m.archived_at
        """

    private static func inboxItem(from row: SQLRow) throws -> InboxItem {
        InboxItem(
            id: Message.publicID(try row[0]), eventType: try row[1], title: try row[2] ?? "", body: try row[3] ?? "", actionURL: try row[4],
            createdAt: date(try row[5])!, seenAt: date(try row[6]), readAt: date(try row[7]), archivedAt: date(try row[8]))
    }

    public func inbox(tenantID: String, subscriberID: String, filter: InboxFilter, cursor: Int64?, limit: Int) async throws -> Page<InboxItem> {
        try await read { connection in
            guard let pk = try await Self.tenantSubscriberPK(connection, logger, tenantID: tenantID, id: subscriberID) else {
                return Page(items: [], nextCursor: nil)
            }
            let condition: String
            switch filter {
            case .active: condition = "m.archived_at IS NULL"
            case .unread: condition = "m.read_at IS NULL AND m.archived_at IS NULL"
            case .read: condition = "m.read_at IS NOT NULL AND m.archived_at IS NULL"
            case .archived: condition = "m.archived_at IS NOT NULL"
            case .all: condition = "TRUE"
            }
            var binds = PostgresBindings()
            binds.append(pk)
            binds.append(cursor ?? Int64.max)
            binds.append(limit + 1)
            let rows = try await connection.rows(
                PostgresQuery(
                    unsafeSQL: """
                        SELECT \(Self.inboxColumns) FROM messages m JOIN events e ON e.pk = m.event_pk
                        WHERE \(Self.inboxScope) AND \(condition) AND m.id < $2 ORDER BY m.id DESC LIMIT $3
                        """, binds: binds), logger)
            let items = try rows.prefix(limit).map(Self.inboxItem(from:))
            return Page(items: items, nextCursor: rows.count > limit ? Cursor.encode(try rows[limit - 1][0]) : nil)
        }
    }

    public func inboxCounts(tenantID: String, subscriberID: String) async throws -> InboxCounts {
        try await read { connection in
            guard let pk = try await Self.tenantSubscriberPK(connection, logger, tenantID: tenantID, id: subscriberID) else {
                return InboxCounts(unread: 0, unseen: 0, total: 0)
            }
            var binds = PostgresBindings()
            binds.append(pk)
            let row = try await connection.rows(
                PostgresQuery(
                    unsafeSQL: """
                        SELECT count(*), count(*) FILTER (WHERE m.read_at IS NULL), count(*) FILTER (WHERE m.seen_at IS NULL)
                        FROM messages m WHERE \(Self.inboxScope) AND m.archived_at IS NULL
                        """, binds: binds), logger)[0]
            return InboxCounts(unread: try row[1], unseen: try row[2], total: try row[0])
        }
    }

    public func inboxSince(tenantID: String, subscriberID: String, after position: InboxPosition, limit: Int) async throws -> [InboxItem] {
        try await read { connection in
            guard let pk = try await Self.tenantSubscriberPK(connection, logger, tenantID: tenantID, id: subscriberID) else { return [] }
            var binds = PostgresBindings()
            binds.append(pk)
            binds.append(position.millis)
            binds.append(position.rowID)
            binds.append(limit)
            return try await connection.rows(
                PostgresQuery(
                    unsafeSQL: """
                        SELECT \(Self.inboxColumns) FROM messages m JOIN events e ON e.pk = m.event_pk
                        WHERE \(Self.inboxScope) AND (coalesce(m.sent_at, m.created_at), m.id) > ($2, $3)
                        ORDER BY coalesce(m.sent_at, m.created_at), m.id LIMIT $4
                        """, binds: binds), logger
            ).map(Self.inboxItem(from:))
        }
    }

    public func inboxPosition(tenantID: String, subscriberID: String) async throws -> InboxPosition {
        try await read { connection in
            guard let pk = try await Self.tenantSubscriberPK(connection, logger, tenantID: tenantID, id: subscriberID) else { return .start }
            var binds = PostgresBindings()
            binds.append(pk)
            guard
                let row = try await connection.rows(
                    PostgresQuery(
                        unsafeSQL: """
                            SELECT coalesce(m.sent_at, m.created_at) AS at, m.id FROM messages m
                            WHERE \(Self.inboxScope) ORDER BY at DESC, m.id DESC LIMIT 1
                            """, binds: binds), logger
                ).first
            else { return .start }
            return InboxPosition(millis: try row[0], rowID: try row[1])
        }
    }

    public func markRead(tenantID: String, subscriberID: String, messageID: Int64, now: Date) async throws -> Bool {
        try await updateInbox(
            tenantID: tenantID, subscriberID: subscriberID, now: now, set: "read_at = coalesce(read_at, $2), seen_at = coalesce(seen_at, $2)",
            messageID: messageID) > 0
    }

    public func archive(tenantID: String, subscriberID: String, messageID: Int64, now: Date) async throws -> Bool {
        try await updateInbox(
            tenantID: tenantID, subscriberID: subscriberID, now: now,
            set: "archived_at = coalesce(archived_at, $2), read_at = coalesce(read_at, $2), seen_at = coalesce(seen_at, $2)",
            messageID: messageID) > 0
    }

    public func markAllRead(tenantID: String, subscriberID: String, now: Date) async throws -> Int {
        try await updateInbox(
            tenantID: tenantID, subscriberID: subscriberID, now: now, set: "read_at = $2, seen_at = coalesce(seen_at, $2)",
            where: "m.read_at IS NULL")
    }

    public func markAllSeen(tenantID: String, subscriberID: String, now: Date) async throws -> Int {
        try await updateInbox(tenantID: tenantID, subscriberID: subscriberID, now: now, set: "seen_at = $2", where: "m.seen_at IS NULL")
    }

    /// Updates the subscriber's delivered in-app rows (`$1` the subscriber, `$2` now, `$3` the one message
    /// when given); returns how many changed.
    private func updateInbox(
        tenantID: String, subscriberID: String, now: Date, set: String, where condition: String = "TRUE", messageID: Int64? = nil
    ) async throws -> Int {
        try await write { connection in
            guard let pk = try await Self.tenantSubscriberPK(connection, logger, tenantID: tenantID, id: subscriberID) else { return 0 }
            var binds = PostgresBindings()
            binds.append(pk)
            binds.append(Self.ms(now))
            var target = condition
            if let messageID {
                binds.append(messageID)
                target += " AND m.id = $3"
            }
            return try await connection.count(
                PostgresQuery(
                    unsafeSQL: "UPDATE messages AS m SET \(set) WHERE \(Self.inboxScope) AND \(target) RETURNING m.id", binds: binds), logger)
        }
    }
}
