/// The in-app inbox. Delivery is the store write that makes the message visible in the subscriber's
/// inbox, done in the same batch transaction as every other outcome, so a message is in an inbox
/// exactly once even if the process dies mid-batch.
public struct InAppChannel: DeliveryChannel {
    public let kind = ChannelKind.inApp

    /// What the attempt log says of a message put in the inbox.
    static let deliveredDetail = "stored in inbox"

    public init() {}

    public func deliver(_ batch: [OutgoingMessage]) async -> [ChannelResult] {
        batch.map { outgoing in
            Self.isDeliverable(outgoing.content)
                ? .delivered(detail: Self.deliveredDetail)
                : .permanentFailure("the in-app title rendered empty; check the template and payload")
        }
    }

    /// Whether rendered content can go in an inbox: it has a title. The one rule for the dispatcher's
    /// delivery and for delivery at planning (``InAppComposer``).
    static func isDeliverable(_ content: RenderedContent) -> Bool {
        !(content["title"] ?? "").isEmpty
    }

    /// The inbox fields of a rendered in-app message.
    static func inboxContent(_ content: RenderedContent) -> InboxContent {
        let action = content["action_url"].flatMap { $0.isEmpty ? nil : $0 }
        return InboxContent(title: content["title"] ?? "", body: content["body"] ?? "", actionURL: action)
    }
}
