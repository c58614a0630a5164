/// A change in a message's life that a tenant can be told about by a signed webhook
/// (`status_endpoints` in ``WebhookSettings``). The raw value is the envelope's `type`.
public enum DeliveryStatusEvent: String, Sendable, Codable, CaseIterable, Hashable {
    /// A provider accepted the message (SMTP 250, an SMS API's 2xx).
    case sent = "message.sent"
    /// The message reached the subscriber: stored in the inbox, or a webhook receiver answered 2xx.
    case delivered = "message.delivered"
    /// The message ended failed: refused, unrenderable, or its attempts ran out (`dead_lettered`).
    case failed = "message.failed"
    /// The subscriber read the in-app message (one message, or each message a read-all touched).
    case read = "message.read"
    /// A sent email came back: a delivery status notification to its return path (hard or soft).
    case bounced = "message.bounced"
    /// The recipient reported a sent email as spam (an ARF complaint to its return path).
    case complained = "message.complained"
    /// A tracked email was opened for the first time (its pixel loaded; once per message, since mail privacy
    /// proxies and repeat views load it again and again).
    case opened = "message.opened"
    /// A tracked link of an email was followed: one per click, repeats included, each with the link's URL.
    case clicked = "message.clicked"
    /// A recipient's workflow run ended: every step taken, cut short by what a wait waited for (a read),
    /// or stopped (the event cancelled, the subscriber deleted).
    case workflowCompleted = "workflow.completed"

    /// The event a committed delivery outcome announces, if any; a retry still queued announces nothing.
    public init?(outcome status: MessageStatus) {
        switch status {
        case .sent: self = .sent
        case .delivered: self = .delivered
        case .failed, .deadLettered: self = .failed
        default: return nil
        }
    }
}
