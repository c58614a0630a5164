import Foundation

/// An email message just after an open or click was recorded: whose it is, for the status webhook, and its
/// counts as they now stand.
public struct EmailEngagement: Sendable, Hashable {
    public var tenantID: String
    public var rowID: Int64
    public var eventID: String
    public var eventType: String
    public var subscriberID: String
    public var priority: Priority
    public var status: MessageStatus
    public var openedAt: Date?
    public var openCount: Int
    public var clickedAt: Date?
    public var clickCount: Int

    public init(
        tenantID: String, rowID: Int64, eventID: String, eventType: String, subscriberID: String, priority: Priority, status: MessageStatus,
        openedAt: Date?, openCount: Int, clickedAt: Date?, clickCount: Int
    ) {
        self.tenantID = tenantID
        self.rowID = rowID
        self.eventID = eventID
        self.eventType = eventType
        self.subscriberID = subscriberID
        self.priority = priority
        self.status = status
        self.openedAt = openedAt
        self.openCount = openCount
        self.clickedAt = clickedAt
        self.clickCount = clickCount
    }
}
