import Foundation

/// What flow control made of one planned message: its status, reason, when it is due, and the digest
/// or original message it is tied to. Built up by ``FlowPlanner``, then written as one ``MessageRow``.
struct FlowDecision {
    /// The reason a queued message shows while quiet hours hold it (its `available_at` says until when).
    static let quietHoursReason = "quiet_hours"
    /// A digest's own message waiting for the digest to close, and each item merged into it.
    static let digestReason = "digest"

    var status: MessageStatus
    var reason: String?
    var availableAt: Date
    var digest: RowReference?
    /// The original (a duplicate) or the digest's own message (a merged item).
    var related: RowReference?

    init(message: PlannedMessage, dueAt: Date) {
        status = message.status
        reason = message.heldUntil == nil ? message.reason?.rawValue : Self.quietHoursReason
        availableAt = message.heldUntil ?? dueAt
    }

    mutating func suppress(_ why: SuppressionReason, relatedTo original: RowReference?) {
        status = .suppressed
        reason = why.rawValue
        related = original
        digest = nil
    }

    mutating func merge(into digest: RowReference, message: RowReference?, flushAt: Date) {
        status = .merged
        reason = Self.digestReason
        self.digest = digest
        related = message
        availableAt = flushAt
    }

    mutating func deferForRateLimit(until: Date) {
        reason = SuppressionReason.rateLimited.rawValue
        availableAt = until
    }

    mutating func startDigest(_ digest: RowReference) {
        self.digest = digest
        if reason == nil { reason = Self.digestReason }
    }
}
