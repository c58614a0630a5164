/// Postmark's `/email` API. Postmark builds the MIME message from the parts Herald sends and signs it with its own
/// DKIM key. Bounce and spam-complaint webhooks come back to `/hooks/email/postmark`, protected the way Postmark
/// documents: HTTP Basic credentials written into the webhook URL, which Herald checks.
public struct PostmarkConfiguration: EmailProviderAPI {
    public static let provider = "postmark"
    public var serverToken: String
    /// The message stream (`outbound` unless the server has another transactional or broadcast stream).
    public var messageStream: String?
    /// The Basic credentials the webhook URL carries (`https://user:password@herald.example/hooks/email/postmark`);
    /// without them every webhook for this configuration is refused.
    public var webhookUsername: String?
    public var webhookPassword: String?
    public var connection: EmailProviderConnection

    public init(
        serverToken: String, messageStream: String? = nil, webhookUsername: String? = nil, webhookPassword: String? = nil, connection: EmailProviderConnection = EmailProviderConnection()
    ) {
        self.serverToken = serverToken
        self.messageStream = messageStream
        self.webhookUsername = webhookUsername
        self.webhookPassword = webhookPassword
        self.connection = connection
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case serverToken = "server_token"
        case messageStream = "message_stream"
        case webhookUsername = "webhook_username"
        case webhookPassword = "webhook_password"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        try decoder.refuseUnknownKeys(CodingKeys.self, also: EmailProviderConnection.keys)
        serverToken = try c.decode(String.self, forKey: .serverToken)
        messageStream = try c.decodeIfPresent(String.self, forKey: .messageStream)
        webhookUsername = try c.decodeIfPresent(String.self, forKey: .webhookUsername)
        webhookPassword = try c.decodeIfPresent(String.self, forKey: .webhookPassword)
        connection = try EmailProviderConnection(from: decoder)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(serverToken, forKey: .serverToken)
        try c.encodeIfPresent(messageStream, forKey: .messageStream)
        try c.encodeIfPresent(webhookUsername, forKey: .webhookUsername)
        try c.encodeIfPresent(webhookPassword, forKey: .webhookPassword)
        try connection.encode(to: encoder)
    }

    public var defaultEndpoint: String { "https://api.postmarkapp.com" }

    public var redacted: PostmarkConfiguration {
        var copy = self
        copy.serverToken = EmailProviderSettings.placeholder
        copy.webhookPassword = Self.masked(webhookPassword)
        return copy
    }

    public func restoringSecrets(from stored: PostmarkConfiguration?) -> PostmarkConfiguration {
        var copy = self
        copy.serverToken = Self.restored(serverToken, stored?.serverToken) ?? ""
        copy.webhookPassword = Self.restored(webhookPassword, stored?.webhookPassword)
        return copy
    }

    public func providerProblems(prefix: String) -> [FieldError] {
        var problems = Self.required(serverToken, "server_token", prefix: prefix, "the Postmark server API token")
        if let stream = messageStream { problems += Self.required(stream, "message_stream", prefix: prefix, "a message stream id") }
        if (webhookUsername == nil) != (webhookPassword == nil) {
            problems.append(FieldError("\(prefix).\(webhookUsername == nil ? "webhook_username" : "webhook_password")",
                "webhook_username and webhook_password go together"))
        }
        if let user = webhookUsername {
            problems += Self.required(user, "webhook_username", prefix: prefix, "the webhook's Basic user name")
            if user.contains(":") { problems.append(FieldError("\(prefix).webhook_username", "must not contain a colon")) }
        }
        return problems
    }
}
