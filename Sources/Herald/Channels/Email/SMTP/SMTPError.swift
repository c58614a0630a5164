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
    /// The TLS handshake failed: most often a certificate that is not trusted (self-signed, expired, wrong name).
    case tlsFailed(String)
    /// A step took longer than the configured timeout.
    case timeout(step: String)
    /// The connection closed or could not be made.
    case connectionFailed(String)
    /// Connecting failed moments ago, so the pool does not try again before `retryAfter` seconds pass
    /// (a circuit breaker: a server that is down is not hammered by every batch).
    case serverUnavailable(String, retryAfter: Double)
    /// The message is larger than the server's SIZE limit.
    case messageTooLarge(size: Int, limit: Int)

    /// Whether trying again later may help: timeouts, lost connections and 4xx replies.
    public var isTransient: Bool {
        switch self {
        case .rejected(_, let reply): reply.kind == .transientNegative
        case .timeout, .connectionFailed, .serverUnavailable, .tlsFailed: true
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
        case .tlsFailed(let detail):
            "the TLS handshake failed (\(detail)); if the server uses a self-signed or private certificate, add it to trusted_certificates_pem"
        case .connectionFailed(let detail): "connection failed: \(detail)"
        case .serverUnavailable(let detail, let retryAfter):
            "the server is unavailable (\(detail)); next try in \(String(format: "%.1f", retryAfter)) s"
        case .messageTooLarge(let size, let limit): "the message is \(size) bytes; the server accepts at most \(limit)"
        }
    }
}
