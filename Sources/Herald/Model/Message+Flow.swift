extension Message {
    /// Fills in what flow control did, from the stored row: until when a queued message is held, and
    /// which message a duplicate or a digest item points at.
    mutating func describeFlow(relatedID: Int64?, inDigest: Bool) {
        if status == .queued, let availableAt, reason != nil || (attempts == 0 && availableAt > createdAt) { heldUntil = availableAt }
        if status == .merged, let availableAt { heldUntil = availableAt }
        guard let relatedID else {
            if inDigest, status != .merged { digestMessageId = id }
            return
        }
        switch reason {
        case SuppressionReason.duplicate.rawValue: duplicateOf = Message.publicID(relatedID)
        default: digestMessageId = Message.publicID(relatedID)
        }
    }
}
