/// One message received by the inbound listener: the SMTP envelope and the message as sent.
///
/// The envelope is what the sending server said, not what the message's headers say; for a bounce the
/// reverse path is empty and the recipient is the VERP address naming the original message, which is
/// why both are kept apart from the bytes.
public struct InboundMail: Sendable, Hashable {
    /// The `MAIL FROM` path; empty for the null reverse path `<>`, which bounces use (RFC 5321 §4.5.5).
    public var reversePath: String
    /// The `RCPT TO` addresses the engine accepted, in the order given, each once.
    public var recipients: [String]
    /// The name the client gave in HELO or EHLO (unverified).
    public var heloName: String
    /// The client's IP address, as the socket reports it.
    public var peerAddress: String
    /// The message: headers and body, dot-unstuffed, its lines ended as the client sent them (CRLF on
    /// the wire; a bare LF inside a line is kept as it came and never ends the data).
    public var message: [UInt8]

    public init(reversePath: String, recipients: [String], heloName: String, peerAddress: String, message: [UInt8]) {
        self.reversePath = reversePath
        self.recipients = recipients
        self.heloName = heloName
        self.peerAddress = peerAddress
        self.message = message
    }
}
