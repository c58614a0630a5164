/// Where finished emails go: an SMTP server, or the outbox folder when none is configured.
public protocol EmailTransport: Sendable {
    /// Sends each email; answers one outcome per email, in order. Never throws: a failure is an outcome.
    func send(_ emails: [OutboundEmail]) async -> [EmailSendOutcome]
    /// A short description for logs and test answers (`smtp://mail.example.com:587`, `outbox /var/herald/outbox`).
    var name: String { get }
}

/// One rendered email with its envelope.
public struct OutboundEmail: Sendable {
    /// The envelope sender (MAIL FROM), which receives bounces.
    public var sender: String
    /// The envelope recipient (RCPT TO).
    public var recipient: String
    /// The Message-ID, without angle brackets; stable across retries of the same message.
    public var messageID: String
    /// The whole RFC 5322 message, CRLF line ends.
    public var bytes: [UInt8]
    /// The message before encoding, for a provider API that builds the MIME itself from parts (SendGrid,
    /// Postmark); nil for an email that exists only as bytes.
    public var message: EmailMessage?
    /// Names a provider echoes on its bounce and complaint events (`herald_message`, `herald_tenant`), so a
    /// webhook can be traced to the message and tenant it is about.
    public var tags: [String: String]
    /// The priority of the message it carries, so a transport sends critical email first and never lets it wait
    /// for a connection behind bulk email.
    public var priority: Priority

    public init(
        sender: String, recipient: String, messageID: String, bytes: [UInt8], message: EmailMessage? = nil, tags: [String: String] = [:],
        priority: Priority = .medium
    ) {
        self.sender = sender
        self.recipient = recipient
        self.messageID = messageID
        self.bytes = bytes
        self.message = message
        self.tags = tags
        self.priority = priority
    }
}

/// What happened to one email.
public enum EmailSendOutcome: Sendable, Hashable {
    /// The server took it (its reply), or the outbox file was written (its path).
    case accepted(String)
    /// Worth another try later: a 4xx reply, a lost connection, a server that is down.
    case transientFailure(String)
    /// Trying again cannot help: a 5xx reply for this recipient.
    case permanentFailure(String)
    /// The server cannot be reached right now; try again after `retryAfter` seconds. Not this email's fault.
    case deferred(String, retryAfter: Double)
}
