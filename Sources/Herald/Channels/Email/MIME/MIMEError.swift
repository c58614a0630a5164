/// Why an email could not be turned into bytes. Each case names the field at fault, because the email channel reports
/// these as permanent failures: retrying the same message cannot fix them.
public enum MIMEError: Error, Sendable, Hashable, CustomStringConvertible {
    /// A header value holds something that would change the message's structure (a line break) or that no header may carry.
    case unsafeHeader(name: String, reason: String)
    /// An extra header's name is not printable ASCII without spaces or colons.
    case invalidHeaderName(String, reason: String)
    /// An extra header would repeat one the encoder writes itself (`From`, `Subject`, `Content-Type` …) or must never
    /// be written (`Bcc`).
    case reservedHeader(String)
    case invalidAddress(String, reason: String)
    case invalidMessageID(String, reason: String)
    case noRecipients
    /// A boundary given by the caller is malformed or occurs in one of the encoded parts.
    case invalidBoundary(String, reason: String)

    public var description: String {
        switch self {
        case .unsafeHeader(let name, let reason): "header \(name) \(reason)"
        case .invalidHeaderName(let name, let reason): "header name '\(name)' \(reason)"
        case .reservedHeader(let name): "header \(name) is written by Herald itself and cannot be given as an extra header"
        case .invalidAddress(let address, let reason): "address '\(address)' \(reason)"
        case .invalidMessageID(let id, let reason): "Message-ID '\(id)' \(reason)"
        case .noRecipients: "the message has no recipient"
        case .invalidBoundary(let boundary, let reason): "MIME boundary '\(boundary)' \(reason)"
        }
    }
}
