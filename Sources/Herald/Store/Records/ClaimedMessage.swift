import Foundation

/// A message a dispatcher holds under lease, with what it needs to render and deliver it.
public struct ClaimedMessage: Sendable {
    public var rowID: Int64
    public var tenantID: String
    public var eventID: String
    public var channel: ChannelKind
    public var priority: Priority
    /// Attempts so far, including this one.
    public var attempt: Int
    public var subscriber: Subscriber
    /// Set on a digest's own message: it is rendered from the digest's items, not from its event alone.
    public var digestID: Int64?
    /// Where the store keeps the row, when it partitions (PostgreSQL: its event's key, which names the day):
    /// handed back with the outcome, so recording it touches one partition.
    public var partitionKey: Int64?

    public init(
        rowID: Int64, tenantID: String, eventID: String, channel: ChannelKind, priority: Priority, attempt: Int, subscriber: Subscriber,
        digestID: Int64? = nil, partitionKey: Int64? = nil
    ) {
        self.digestID = digestID
        self.partitionKey = partitionKey
        self.rowID = rowID
        self.tenantID = tenantID
        self.eventID = eventID
        self.channel = channel
        self.priority = priority
        self.attempt = attempt
        self.subscriber = subscriber
    }
}
