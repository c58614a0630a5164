/// What Herald made of one provider webhook it accepted, as its 200 answer says.
public struct EmailWebhookReceipt: Sendable, Hashable, Encodable {
    /// Bounces and complaints recorded against a message (and so counted toward, or put on, its tenant's
    /// suppression list).
    public var recorded: Int
    /// Events taken but not recorded: other kinds (deliveries, opens), a message Herald does not know or that is
    /// not this tenant's, or a repeated delivery of an event already taken.
    public var ignored: Int
    /// Set for an Amazon SNS subscription confirmation: whether Herald confirmed the subscription.
    public var subscriptionConfirmed: Bool?

    public init(recorded: Int = 0, ignored: Int = 0, subscriptionConfirmed: Bool? = nil) {
        self.recorded = recorded
        self.ignored = ignored
        self.subscriptionConfirmed = subscriptionConfirmed
    }

    enum CodingKeys: String, CodingKey {
        case recorded, ignored
        case subscriptionConfirmed = "subscription_confirmed"
    }
}
