/// Why an SMTP conversation failed. A reply the server gave is kept whole, so attempt records show it.
public enum SMTPError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The server said no to something the session needs (greeting, EHLO, AUTH, STARTTLS …).
    case rejected(step: String, reply: SMTPReply)
    /// The server sent something that is not an SMTP reply.
    case malformedReply(String)
    /// The server sent bytes before the TLS handshake that it had no business sending (a STARTTLS injection).
    case unexpectedDataBeforeTLS
    /// The configuration asks for something the server does not offer (STARTTLS, an AUTH mechanism).
    case unsupported(String)
    /// A step took longer than the configured timeout.
    case timeout(step: String)
    /// The connection closed or could not be made.
    case connectionFailed(String)
    /// The message is larger than the server's SIZE limit.
    case messageTooLarge(size: Int, limit: Int)

    /// Whether trying again later may help: timeouts, lost connections and 4xx replies.
    public var isTransient: Bool {
        switch self {
        case .rejected(_, let reply): reply.kind == .transientNegative
        case .timeout, .connectionFailed: true
        case .malformedReply, .unexpectedDataBeforeTLS, .unsupported, .messageTooLarge: false
        }
    }

    public var description: String {
        switch self {
        case .rejected(let step, let reply): "the server refused \(step): \(reply)"
        case .malformedReply(let text): "the server sent a malformed reply: \(text)"
        case .unexpectedDataBeforeTLS: "the server sent data after its STARTTLS reply and before the TLS handshake"
        case .unsupported(let what): what
        case .timeout(let step): "timed out waiting for \(step)"
        case .connectionFailed(let detail): "connection failed: \(detail)"
        case .messageTooLarge(let size, let limit): "the message is \(size) bytes; the server accepts at most \(limit)"
        }
    }
}
