/// An email provider whose bounce and complaint webhooks Herald takes, named as in the webhook's path
/// (`/hooks/email/sendgrid`) and in the settings (`{"sendgrid": …}` in a chain).
public enum EmailWebhookProvider: String, Sendable, Hashable, CaseIterable {
    /// Amazon SES, whose notifications come through an Amazon SNS topic.
    case ses
    case sendgrid
    case postmark
    case mailgun

    /// The provider's name in feedback details (`Amazon SES: Permanent/General bounce: …`), so a suppression
    /// says where it came from.
    public var displayName: String {
        switch self {
        case .ses: "Amazon SES"
        case .sendgrid: "SendGrid"
        case .postmark: "Postmark"
        case .mailgun: "Mailgun"
        }
    }

    /// Whether `configuration` is a link of this provider.
    public func matches(_ configuration: EmailTransportConfiguration) -> Bool {
        configuration.kind == rawValue
    }
}
