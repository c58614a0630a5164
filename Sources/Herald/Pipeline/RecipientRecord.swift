import Foundation

/// A subscriber as the planner sees it: its stored row number, fields and preference rules.
public struct RecipientRecord: Sendable {
    public var rowID: Int64
    public var subscriber: Subscriber
    public var rules: [PreferenceRule]

    public init(rowID: Int64, subscriber: Subscriber, rules: [PreferenceRule]) {
        self.rowID = rowID
        self.subscriber = subscriber
        self.rules = rules
    }
}

/// A message the planner decided on, before it is stored.
public struct PlannedMessage: Sendable, Hashable {
    public var subscriberRowID: Int64
    public var channel: ChannelKind
    public var status: MessageStatus
    public var reason: SuppressionReason?
    /// A queued message held back (quiet hours): not due before this time.
    public var heldUntil: Date?
    /// For an event type with a digest: the digest this message goes into (its key), and when that
    /// digest is sent if this message is the first of it.
    public var digestKey: String?
    public var digestFlushAt: Date?
    /// For an in-app message due at once: its rendered content, when ``InAppComposer`` delivers it as it is
    /// written.
    public var inbox: ComposedInApp?

    public init(subscriberRowID: Int64, channel: ChannelKind, status: MessageStatus, reason: SuppressionReason?) {
        self.subscriberRowID = subscriberRowID
        self.channel = channel
        self.status = status
        self.reason = reason
    }
}

extension [RecipientRecord] {
    /// These records in the order of `rowIDs` (the request's order), whatever order a read returned them
    /// in; rows not named there are dropped.
    func inRequestOrder(_ rowIDs: [Int64]) -> [RecipientRecord] {
        var byRow: [Int64: RecipientRecord] = [:]
        for record in self { byRow[record.rowID] = record }
        return rowIDs.compactMap { byRow[$0] }
    }
}
