/// Twilio SendGrid's v3 `mail/send`. SendGrid builds the MIME message itself from the parts Herald sends (subject,
/// text, HTML, headers, attachments), so it signs with its own DKIM key. Bounces, drops and spam reports come
/// back through its Event Webhook at `/hooks/email/sendgrid`, signed with ECDSA.
public struct SendGridConfiguration: EmailProviderAPI {
    public static let provider = "sendgrid"
    public var apiKey: String
    /// The Event Webhook's verification key as SendGrid shows it (base64 of the DER public key); nil refuses
    /// every event for this configuration, since an unsigned event could be anyone's.
    public var webhookVerificationKey: String?
    public var connection: EmailProviderConnection

    public init(
        apiKey: String, webhookVerificationKey: String? = nil,
        connection: EmailProviderConnection = EmailProviderConnection()
    ) {
        self.apiKey = apiKey
        self.webhookVerificationKey = webhookVerificationKey
        self.connection = connection
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case apiKey = "api_key"
        case webhookVerificationKey = "webhook_verification_key"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        try decoder.refuseUnknownKeys(CodingKeys.self, also: EmailProviderConnection.keys)
        apiKey = try c.decode(String.self, forKey: .apiKey)
        webhookVerificationKey = try c.decodeIfPresent(String.self, forKey: .webhookVerificationKey)
        connection = try EmailProviderConnection(from: decoder)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(apiKey, forKey: .apiKey)
        try c.encodeIfPresent(webhookVerificationKey, forKey: .webhookVerificationKey)
        try connection.encode(to: encoder)
    }

    public var defaultEndpoint: String { "https://api.sendgrid.com" }

    public var redacted: SendGridConfiguration {
        var copy = self
        copy.apiKey = EmailProviderSettings.placeholder
        return copy
    }

    public func restoringSecrets(from stored: SendGridConfiguration?) -> SendGridConfiguration {
        var copy = self
        copy.apiKey = Self.restored(apiKey, stored?.apiKey) ?? ""
        return copy
    }

    public func providerProblems(prefix: String) -> [FieldError] {
        var problems = Self.required(apiKey, "api_key", prefix: prefix, "a SendGrid API key with mail send access")
        if let key = webhookVerificationKey {
            problems += Self.required(key, "webhook_verification_key", prefix: prefix, "the Event Webhook's verification key")
        }
        return problems
    }
}
