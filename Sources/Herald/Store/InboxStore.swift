import Foundation

/// The in-app inbox: a subscriber's delivered in-app messages, their read, seen and archived marks.
public protocol InboxStore: Sendable {
    func inbox(tenantID: String, subscriberID: String, filter: InboxFilter, cursor: Int64?, limit: Int) async throws -> Page<InboxItem>
    func inboxCounts(tenantID: String, subscriberID: String) async throws -> InboxCounts
    /// Inbox items delivered after `position`, oldest first (archived ones included): what a live
    /// connection has not been sent yet.
    func inboxSince(tenantID: String, subscriberID: String, after position: InboxPosition, limit: Int) async throws -> [InboxItem]
    /// The position of the newest delivered inbox item (``InboxPosition/start`` for an empty inbox).
    func inboxPosition(tenantID: String, subscriberID: String) async throws -> InboxPosition
    func markRead(tenantID: String, subscriberID: String, messageID: Int64, now: Date) async throws -> Bool
    func markClicked(tenantID: String, subscriberID: String, messageID: Int64, now: Date) async throws -> Bool
    func markAllRead(tenantID: String, subscriberID: String, now: Date) async throws -> Int
    func markAllSeen(tenantID: String, subscriberID: String, now: Date) async throws -> Int
    func archive(tenantID: String, subscriberID: String, messageID: Int64, now: Date) async throws -> Bool
    /// The subscriber's in-app messages whose `read_at` is exactly `at`: those a read or read-all made then.
    func messagesRead(tenantID: String, subscriberID: String, at: Date) async throws -> [Message]
}
