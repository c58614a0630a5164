/// The live inbox: a stream of updates for one subscriber, through a verified token's claims.
extension HeraldEngine {
    /// Opens a live stream. `lastEventID` (the SSE `Last-Event-ID`, or a WebSocket client's `after`)
    /// resumes after the item it names; a malformed one is refused rather than silently ignored.
    public func inboxUpdates(_ claims: SubscriberTokens.Claims, lastEventID: String?) async throws -> InboxSubscription {
        var resume: InboxPosition?
        if let lastEventID, !lastEventID.isEmpty {
            guard let position = InboxPosition(lastEventID) else {
                throw HeraldError.invalid("Last-Event-ID", "'\(lastEventID)' is not an id this stream sent")
            }
            resume = position
        }
        return try await inboxHub.open(tenantID: claims.tenantID, subscriberID: claims.subscriberID, resumeAfter: resume)
    }
}
