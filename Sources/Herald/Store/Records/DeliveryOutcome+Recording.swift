import Foundation

/// What of an outcome goes where. A successful try is held by the message's own row (`sent_detail`,
/// `sent_started_at`, `sent_duration_ms`), so the common case, a message delivered at its first try, writes no
/// attempt row at all; a failure, a retry and each further entry of a push to several devices are attempt
/// rows. ``Message/attemptLog(_:heldTry:)`` puts the two back together.
extension DeliveryOutcome {
    /// The try is a success the message's row holds.
    var isHeldByMessage: Bool {
        (status == .sent || status == .delivered) && moreAttempts.isEmpty
    }

    /// The attempt rows the outcome writes, in order.
    var attemptRows: [DeliveryAttempt] {
        (isHeldByMessage ? [] : [attempt]) + moreAttempts
    }
}
