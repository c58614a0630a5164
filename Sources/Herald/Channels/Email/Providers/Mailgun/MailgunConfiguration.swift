/// Mailgun's `messages.mime` API, which takes the MIME message Herald built, so its DKIM signature arrives intact.
/// Failures and complaints come back through Mailgun's webhooks at `/hooks/email/mailgun`, signed with HMAC-SHA256
/// under the account's webhook signing key.
public struct MailgunConfiguration: EmailProviderAPI {
    public static let provider = "mailgun"
    public var apiKey: String
    /// The sending domain configured at Mailgun, such as `mg.example.com`.
    public var domain: String
    /// The HTTP webhook signing key; without it every webhook for this configuration is refused.
    public var webhookSigningKey: String?
    public var connection: EmailProviderConnection

    public init(
        apiKey: String, domain: String, webhookSigningKey: String? = nil,
        connection: EmailProviderConnection = EmailProviderConnection()
    ) {
        self.apiKey = apiKey
        self.domain = domain
        self.webhookSigningKey = webhookSigningKey
        self.connection = connection
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case apiKey = "api_key"
        case domain
        case webhookSigningKey = "webhook_signing_key"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        try decoder.refuseUnknownKeys(CodingKeys.self, also: EmailProviderConnection.keys)
        apiKey = try c.decode(String.self, forKey: .apiKey)
        domain = try c.decode(String.self, forKey: .domain)
        webhookSigningKey = try c.decodeIfPresent(String.self, forKey: .webhookSigningKey)
        connection = try EmailProviderConnection(from: decoder)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(apiKey, forKey: .apiKey)
        try c.encode(domain, forKey: .domain)
        try c.encodeIfPresent(webhookSigningKey, forKey: .webhookSigningKey)
        try connection.encode(to: encoder)
    }

    /// Mailgun's US region; an EU domain sets `endpoint: https://api.eu.mailgun.net`.
    public var defaultEndpoint: String { "https://api.mailgun.net" }

    public var redacted: MailgunConfiguration {
        var copy = self
        copy.apiKey = EmailProviderSettings.placeholder
        copy.webhookSigningKey = Self.masked(webhookSigningKey)
        return copy
    }

    public func restoringSecrets(from stored: MailgunConfiguration?) -> MailgunConfiguration {
        var copy = self
        copy.apiKey = Self.restored(apiKey, stored?.apiKey) ?? ""
        copy.webhookSigningKey = Self.restored(webhookSigningKey, stored?.webhookSigningKey)
        return copy
    }

    public func providerProblems(prefix: String) -> [FieldError] {
        var problems = Self.required(apiKey, "api_key", prefix: prefix, "a Mailgun API key")
        if let reason = DestinationPolicy.hostSyntaxProblem(domain) { problems.append(FieldError("\(prefix).domain", reason)) }
        if let key = webhookSigningKey { problems += Self.required(key, "webhook_signing_key", prefix: prefix, "the webhook signing key") }
        return problems
    }
}
