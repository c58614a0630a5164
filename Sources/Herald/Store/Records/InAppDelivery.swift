import Foundation

/// An in-app message that planning wrote as delivered (``InAppComposer``), as it is announced once its
/// transaction commits.
public struct InAppDelivery: Sendable {
    public var rowID: Int64
    /// The row's partition key where the store partitions (its event's key).
    public var partitionKey: Int64?
    public var event: EventContext
    public var subscriber: Subscriber
    public var priority: Priority
    public var content: InboxContent
    public var deliveredAt: Date

    public init(
        rowID: Int64, partitionKey: Int64?, event: EventContext, subscriber: Subscriber, priority: Priority, content: InboxContent, deliveredAt: Date
    ) {
        self.rowID = rowID
        self.partitionKey = partitionKey
        self.event = event
        self.subscriber = subscriber
        self.priority = priority
        self.content = content
        self.deliveredAt = deliveredAt
    }
}
