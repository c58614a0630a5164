import Foundation

/// Email open and click tracking, as the `/t/o/…` and `/t/c/…` routes ask for it. The token is the whole
/// authority (``EmailTrackingTokens``): one that fails verification records nothing and leads nowhere.
extension HeraldEngine {
    /// Where a tracked link leads, or nil when its token is forged or altered. With `record` (a `GET`), the
    /// click is counted on the message, a workflow run waiting `until: clicked` is woken in the same
    /// transaction, and `message.clicked` is queued. A click that cannot be recorded (the database is away)
    /// is logged and still redirected: the reader wanted the page, not Herald's statistics.
    public func followTrackedLink(token: String, record: Bool) async -> String? {
        guard let (row, url) = trackingTokens.click(token) else { return nil }
        guard record else { return url }
        let now = clock.now()
        do {
            if let engagement = try await store.recordEmailClick(messageRow: row, now: now) {
                await announce(engagement, .clicked, url: url, at: now)
            }
        } catch {
            logger.error("could not record an email click", metadata: ["message": "\(Message.publicID(row))", "error": "\(error)"])
        }
        return url
    }

    /// Whether an open pixel's token is good; with `record` (a `GET`), the open is counted, a run waiting
    /// `until: opened` is woken, and the first open queues `message.opened`.
    public func recordTrackedOpen(token: String, record: Bool) async -> Bool {
        guard let row = trackingTokens.open(token) else { return false }
        guard record else { return true }
        let now = clock.now()
        do {
            if let engagement = try await store.recordEmailOpen(messageRow: row, now: now) {
                await announce(engagement, .opened, url: nil, at: now)
            }
        } catch {
            logger.error("could not record an email open", metadata: ["message": "\(Message.publicID(row))", "error": "\(error)"])
        }
        return true
    }

    /// After the open or click is committed: the workflow runner looks at once (the runs are already due),
    /// and the status webhook is queued.
    private func announce(_ engagement: EmailEngagement, _ event: DeliveryStatusEvent, url: String?, at now: Date) async {
        workflowWakeup.ring()
        for observer in observers {
            if let recorder = observer as? StatusWebhookRecorder { await recorder.emailEngaged(engagement, event: event, url: url, at: now) }
        }
    }
}
