import Foundation

/// The result of one delivery attempt, as the store records it.
public struct DeliveryOutcome: Sendable {
    public var rowID: Int64
    /// The new state: `sent`, `delivered`, `failed`, `dead_lettered`, or `queued` for a retry.
    public var status: MessageStatus
    public var reason: String?
    /// For a retry: when to try again.
    public var retryAt: Date?
    public var attempt: DeliveryAttempt
    public var inbox: InboxContent?
    /// The try does not count against the message's attempts (the provider was unreachable).
    public var refundsAttempt: Bool
    /// Further entries of the same try for the attempt log: a push to several devices records one per device
    /// (`attempt` is the first device's).
    public var moreAttempts: [DeliveryAttempt] = []
    /// The claimed message's ``ClaimedMessage/partitionKey``; nil when not known (the store looks it up).
    public var partitionKey: Int64?
    /// The claimed message's priority, when the dispatcher knows it: a critical outcome's write goes ahead of
    /// long ones (``UrgentWrites``).
    public var priority: Priority?

    public init(
        rowID: Int64, status: MessageStatus, reason: String?, retryAt: Date?, attempt: DeliveryAttempt, inbox: InboxContent?,
        refundsAttempt: Bool = false
    ) {
        self.rowID = rowID
        self.status = status
        self.reason = reason
        self.retryAt = retryAt
        self.attempt = attempt
        self.inbox = inbox
        self.refundsAttempt = refundsAttempt
    }
}
