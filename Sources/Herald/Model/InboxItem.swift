import Foundation

/// An in-app message as its subscriber sees it.
public struct InboxItem: Sendable, Codable, Hashable {
    public var id: String
    public var eventType: String
    public var title: String
    public var body: String
    public var actionURL: String?
    public var createdAt: Date
    public var seenAt: Date?
    public var readAt: Date?
    public var archivedAt: Date?
    /// When the subscriber followed the item's link (`POST /v1/inbox/{id}/click`).
    public var clickedAt: Date?

    public init(
        id: String, eventType: String, title: String, body: String, actionURL: String?, createdAt: Date, seenAt: Date?, readAt: Date?,
        archivedAt: Date?
    ) {
        self.id = id
        self.eventType = eventType
        self.title = title
        self.body = body
        self.actionURL = actionURL
        self.createdAt = createdAt
        self.seenAt = seenAt
        self.readAt = readAt
        self.archivedAt = archivedAt
    }

    enum CodingKeys: String, CodingKey {
        case id
        case eventType = "event_type"
        case title, body
        case actionURL = "action_url"
        case createdAt = "created_at"
        case seenAt = "seen_at"
        case readAt = "read_at"
        case archivedAt = "archived_at"
        case clickedAt = "clicked_at"
    }
}

/// The numbers a bell shows.
public struct InboxCounts: Sendable, Codable, Hashable {
    public var unread: Int
    public var unseen: Int
    public var total: Int

    public init(unread: Int, unseen: Int, total: Int) {
        self.unread = unread
        self.unseen = unseen
        self.total = total
    }
}

/// Which inbox items a list shows.
public enum InboxFilter: String, Sendable, Codable, CaseIterable {
    /// Everything not archived: what a bell shows by default.
    case active
    case unread, read, archived
    /// Everything, archived included.
    case all
}
