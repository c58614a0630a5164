extension StatusWebhookDelivery {
    /// Where a row of the status-webhook queue stands: waiting (`pending`, due at `available_at`), claimed
    /// (`sending`, until its lease runs out at `available_at`), or finished.
    enum State: String, Sendable {
        case pending
        case sending
        case delivered
        case failed
    }
}
