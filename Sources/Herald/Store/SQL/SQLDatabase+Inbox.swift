import Foundation

/// The in-app inbox, once for both stores: each call is one statement that finds the subscriber and
/// their rows together, so an unknown subscriber simply has an empty inbox.
extension SQLDatabase {
    /// Every inbox query starts from the partial index of one subscriber's delivered in-app rows. A row
    /// past its expiry is not in the inbox even before retention removes it (on PostgreSQL, a day's rows
    /// wait for their partition to be dropped whole).
    private func inboxScope(tenantID: String, subscriberID: String, alias: String = "m") -> SQLQuery {
        inboxScope(subscriber: "(SELECT pk FROM subscribers WHERE tenant_id = \(tenantID) AND id = \(subscriberID))", alias: alias)
    }

    /// The same, for a subscriber row (`subscriber`: its key, or a query of it).
    private func inboxScope(subscriber: SQLQuery, alias: String) -> SQLQuery {
        """
        \(sql: alias).subscriber_pk = \(subscriber)
        AND \(sql: alias).channel = \(literal: ChannelKind.inApp.rawValue) AND \(sql: alias).status = \(literal: MessageStatus.delivered.rawValue)
        AND \(sql: alias).expires_at > \(Date())
        """
    }

    private static var itemColumns: String {
        "m.id, e.type, m.title, m.body, m.action_url, coalesce(m.sent_at, m.created_at), m.seen_at, m.read_at, m.archived_at, m.clicked_at"
    }

    private static func item(_ row: [SQLValue]) -> InboxItem {
        var item = InboxItem(
            id: Message.publicID(row[0].integer ?? 0), eventType: row[1].text ?? "", title: row[2].text ?? "", body: row[3].text ?? "",
            actionURL: row[4].text, createdAt: row[5].date ?? Date(timeIntervalSince1970: 0), seenAt: row[6].date, readAt: row[7].date,
            archivedAt: row[8].date)
        item.clickedAt = row[9].date
        return item
    }

    public func inbox(tenantID: String, subscriberID: String, filter: InboxFilter, cursor: Int64?, limit: Int) async throws -> Page<InboxItem> {
        let condition: String
        switch filter {
        case .active: condition = "p.archived_at IS NULL"
        case .unread: condition = "p.read_at IS NULL AND p.archived_at IS NULL"
        case .read: condition = "p.read_at IS NOT NULL AND p.archived_at IS NULL"
        case .archived: condition = "p.archived_at IS NOT NULL"
        case .all: condition = "1 = 1"
        }
        // The subscriber's key first, then their rows by it as a value: known when the statement is planned, it lets
        // PostgreSQL see a busy reader's rows in its statistics and take their newest page from each partition's
        // index in order (a merge that stops at the page: 0.14 ms), where as a subquery's result it expected a row
        // or two and sorted every one of them (10,000 for a busy reader: 2.7 ms).
        guard
            let subscriber = try await readRows("SELECT pk FROM subscribers WHERE tenant_id = \(tenantID) AND id = \(subscriberID)")
                .first?[0].integer
        else { return Page(items: [], nextCursor: nil) }
        // The page's rows are chosen from the inbox index alone (it holds every column the filters read), and
        // only they are then read whole and joined to their events: otherwise a planner that expects few rows
        // for the subscriber joins all of them (10,000 for a busy reader) before keeping the newest page.
        let rows = try await readRows(
            """
            SELECT \(sql: Self.itemColumns) FROM (
                SELECT p.id, p.event_pk FROM messages p
                WHERE \(inboxScope(subscriber: "\(subscriber)", alias: "p")) AND \(sql: condition) AND p.id < \(cursor ?? Int64.max)
                ORDER BY p.id DESC LIMIT \(limit + 1)
            ) page
            JOIN messages m ON m.id = page.id AND m.event_pk = page.event_pk JOIN events e ON e.pk = m.event_pk
            ORDER BY m.id DESC
            """)
        return Page(
            items: rows.prefix(limit).map(Self.item), nextCursor: rows.count > limit ? rows[limit - 1][0].integer.map(Cursor.encode) : nil)
    }

    public func inboxCounts(tenantID: String, subscriberID: String) async throws -> InboxCounts {
        let row = try await readRows(
            """
            SELECT count(*), coalesce(sum(CASE WHEN m.read_at IS NULL THEN 1 ELSE 0 END), 0),
                   coalesce(sum(CASE WHEN m.seen_at IS NULL THEN 1 ELSE 0 END), 0)
            FROM messages m WHERE \(inboxScope(tenantID: tenantID, subscriberID: subscriberID)) AND m.archived_at IS NULL
            """
        ).first
        return InboxCounts(
            unread: Int(row?[1].integer ?? 0), unseen: Int(row?[2].integer ?? 0), total: Int(row?[0].integer ?? 0))
    }

    public func inboxSince(tenantID: String, subscriberID: String, after position: InboxPosition, limit: Int) async throws -> [InboxItem] {
        try await readRows(
            """
            SELECT \(sql: Self.itemColumns) FROM messages m JOIN events e ON e.pk = m.event_pk
            WHERE \(inboxScope(tenantID: tenantID, subscriberID: subscriberID))
            AND (coalesce(m.sent_at, m.created_at), m.id) > (\(position.millis), \(position.rowID))
            ORDER BY coalesce(m.sent_at, m.created_at), m.id LIMIT \(limit)
            """
        ).map(Self.item)
    }

    public func inboxPosition(tenantID: String, subscriberID: String) async throws -> InboxPosition {
        guard
            let row = try await readRows(
                """
                SELECT coalesce(m.sent_at, m.created_at), m.id FROM messages m
                WHERE \(inboxScope(tenantID: tenantID, subscriberID: subscriberID))
                ORDER BY coalesce(m.sent_at, m.created_at) DESC, m.id DESC LIMIT 1
                """
            ).first, let millis = row[0].integer, let rowID = row[1].integer
        else { return .start }
        return InboxPosition(millis: millis, rowID: rowID)
    }

    public func markRead(tenantID: String, subscriberID: String, messageID: Int64, now: Date) async throws -> Bool {
        try await updateInbox(
            tenantID: tenantID, subscriberID: subscriberID, set: "read_at = coalesce(read_at, \(now)), seen_at = coalesce(seen_at, \(now))",
            where: "m.id = \(messageID)", now: now, wakes: [.read, .seen]) > 0
    }

    /// The subscriber followed the message's link (the inbox item's action): clicked, and so read and seen.
    public func markClicked(tenantID: String, subscriberID: String, messageID: Int64, now: Date) async throws -> Bool {
        try await updateInbox(
            tenantID: tenantID, subscriberID: subscriberID,
            set: "clicked_at = coalesce(clicked_at, \(now)), read_at = coalesce(read_at, \(now)), seen_at = coalesce(seen_at, \(now))",
            where: "m.id = \(messageID)", now: now, wakes: [.clicked, .read, .seen]) > 0
    }

    public func archive(tenantID: String, subscriberID: String, messageID: Int64, now: Date) async throws -> Bool {
        try await updateInbox(
            tenantID: tenantID, subscriberID: subscriberID,
            set: "archived_at = coalesce(archived_at, \(now)), read_at = coalesce(read_at, \(now)), seen_at = coalesce(seen_at, \(now))",
            where: "m.id = \(messageID)", now: now, wakes: [.read, .seen]) > 0
    }

    public func markAllRead(tenantID: String, subscriberID: String, now: Date) async throws -> Int {
        try await updateInbox(
            tenantID: tenantID, subscriberID: subscriberID, set: "read_at = \(now), seen_at = coalesce(seen_at, \(now))", where: "m.read_at IS NULL",
            now: now, wakes: [.read, .seen])
    }

    public func markAllSeen(tenantID: String, subscriberID: String, now: Date) async throws -> Int {
        try await updateInbox(tenantID: tenantID, subscriberID: subscriberID, set: "seen_at = \(now)", where: "m.seen_at IS NULL", now: now, wakes: [.seen])
    }

    /// Updates the subscriber's delivered in-app rows that match `condition`, and in the same transaction
    /// wakes their workflow runs waiting for what this is (`wakes`); returns how many rows changed.
    private func updateInbox(
        tenantID: String, subscriberID: String, set: SQLQuery, where condition: SQLQuery, now: Date, wakes: [WaitSpec.Until]
    ) async throws -> Int {
        let update: SQLQuery = """
            UPDATE messages AS m SET \(set) WHERE \(inboxScope(tenantID: tenantID, subscriberID: subscriberID)) AND \(condition) RETURNING id
            """
        let subscriber: SQLQuery = "SELECT pk FROM subscribers WHERE tenant_id = \(tenantID) AND id = \(subscriberID)"
        return try await writeAll([update] + WorkflowWake.inbox(subscriber: subscriber, kinds: wakes, now: now)).first?.count ?? 0
    }
}
