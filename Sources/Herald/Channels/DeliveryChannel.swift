/// A way of delivering messages: in-app, email, webhook … The dispatcher hands each channel a batch of
/// rendered messages of its kind and records what it answers, one result per message, in order.
public protocol DeliveryChannel: Sendable {
    var kind: ChannelKind { get }
    func deliver(_ batch: [OutgoingMessage]) async -> [ChannelResult]
}

/// A claimed message with its event and rendered content, ready for a channel.
public struct OutgoingMessage: Sendable {
    public var message: ClaimedMessage
    public var event: EventContext
    public var content: RenderedContent
    /// The files stored with the event, for an email (empty for other channels and for digests); the
    /// dispatcher reads them once per event, however many recipients it has, and sets them here.
    public var attachments: [EmailAttachment] = []
    /// The event type's open and click tracking for email (its `tracking`), which overrides the tenant's
    /// field by field; nil leaves the tenant's as they are.
    public var emailTracking: EmailTracking?

    public init(message: ClaimedMessage, event: EventContext, content: RenderedContent, emailTracking: EmailTracking? = nil) {
        self.message = message
        self.event = event
        self.content = content
        self.emailTracking = emailTracking
    }
}

/// What a channel says about one message.
public enum ChannelResult: Sendable, Hashable {
    /// It reached the subscriber (in-app: stored in the inbox).
    case delivered(detail: String?)
    /// A provider accepted it (SMTP 250, HTTP 2xx).
    case sent(detail: String?)
    /// Worth retrying later: a timeout, a 4xx SMTP reply, a 5xx HTTP answer.
    case transientFailure(String)
    /// Retrying cannot help: a rejected address, a template that cannot render.
    case permanentFailure(String)
    /// The provider cannot be reached at all (connection refused, circuit open). Not the message's fault,
    /// so it is tried again after `retryAfter` seconds without using up one of its attempts.
    case deferred(String, retryAfter: Double)
    /// Not sent on purpose, decided at delivery time (a recipient outside the tenant's allowed domains).
    case suppressed(SuppressionReason, detail: String)
    /// One message sent to several destinations in one try (a subscriber's push devices): the message's
    /// result, and each destination's own entry for the attempt log.
    indirect case fannedOut(ChannelResult, attempts: [DestinationAttempt])

    /// One destination's part of a fanned-out try.
    public struct DestinationAttempt: Sendable, Hashable {
        public var outcome: DeliveryAttempt.Outcome
        public var detail: String

        public init(outcome: DeliveryAttempt.Outcome, detail: String) {
            self.outcome = outcome
            self.detail = detail
        }
    }
}
