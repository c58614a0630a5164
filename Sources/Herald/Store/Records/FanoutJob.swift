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

    public init(id: Int64, tenantID: String, eventID: String, topicRowID: Int64, cursor: Int64, eventType: String? = nil) {
        self.eventType = eventType
        self.id = id
        self.tenantID = tenantID
        self.eventID = eventID
        self.topicRowID = topicRowID
        self.cursor = cursor
    }
}
