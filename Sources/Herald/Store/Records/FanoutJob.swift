import Foundation

/// A topic fan-out job: the event, the topic, and how far through the members it has got.
public struct FanoutJob: Sendable, Hashable {
    public var id: Int64
    public var tenantID: String
    public var eventID: String
    public var topicRowID: Int64
    /// The last subscriber row number planned; members are walked in row order.
    public var cursor: Int64
    /// The event's type, so the worker can hand the store its templates (``InAppComposer``).
    public var eventType: String?
    /// The event's priority: the dispatcher lanes a chunk's messages are for (a chunk of low-priority members does
    /// not wake the critical lane, whose claim would go ahead of the next chunk; see ``UrgentWrites``).
    public var priority: Priority

    public init(
        id: Int64, tenantID: String, eventID: String, topicRowID: Int64, cursor: Int64, eventType: String? = nil, priority: Priority = .medium
    ) {
        self.priority = priority
        self.eventType = eventType
        self.id = id
        self.tenantID = tenantID
        self.eventID = eventID
        self.topicRowID = topicRowID
        self.cursor = cursor
    }
}
