import Foundation

/// Each tenant's email suppression list and the bounces and complaints that feed it.
public protocol SuppressionStore: Sendable {
    /// The tenant's active entries in address order, after `cursor` (an address), up to `limit`.
    func suppressions(tenantID: String, after cursor: String?, limit: Int) async throws -> Page<Suppression>
    /// The active entries among `addresses` (lowercased), keyed by address.
    func activeSuppressions(tenantID: String, addresses: [String]) async throws -> [String: Suppression]
    /// Adds or replaces an entry (a lifted one becomes active again).
    func suppress(tenantID: String, _ entry: Suppression, messageRow: Int64?) async throws
    /// Lifts an active entry; false when there was none.
    func liftSuppression(tenantID: String, address: String, now: Date) async throws -> Bool
    /// What a bounce needs of the message its return path names; nil when it no longer exists.
    func bouncedMessage(row: Int64) async throws -> BouncedMessage?
    /// Records feedback against message `row` and, in the same transaction, suppresses the address when
    /// it is a hard bounce or a complaint, or the soft bounces since `softSince` (this one included)
    /// reach `softBounceThreshold`. Answers whether the address is now suppressed.
    func recordEmailFeedback(
        _ feedback: EmailFeedback, tenantID: String, messageRow: Int64, softBounceThreshold: Int, softSince: Date
    ) async throws -> Bool
    /// The feedback recorded against a message, oldest first.
    func emailFeedback(messageRow: Int64) async throws -> [EmailFeedback]
    /// How many bounces and complaints the tenant's email drew since `since`, by kind.
    func emailFeedbackCounts(tenantID: String, since: Date) async throws -> [EmailFeedback.Kind: Int]
}

/// A sent email as a bounce sees it: whose it was and where it went.
public struct BouncedMessage: Sendable, Hashable {
    public var tenantID: String
    public var rowID: Int64
    public var subscriberID: String
    /// The subscriber's address now (what the suppression list keys on).
    public var address: String?
    public var eventID: String
    public var eventType: String
    public var channel: ChannelKind
    public var priority: Priority
    public var status: MessageStatus

    public init(
        tenantID: String, rowID: Int64, subscriberID: String, address: String?, eventID: String, eventType: String, channel: ChannelKind,
        priority: Priority, status: MessageStatus
    ) {
        self.tenantID = tenantID
        self.rowID = rowID
        self.subscriberID = subscriberID
        self.address = address
        self.eventID = eventID
        self.eventType = eventType
        self.channel = channel
        self.priority = priority
        self.status = status
    }
}
