import Foundation
import NIOCore

/// A command the client sends. Each is one line and gets exactly one reply.
public enum SMTPCommand: Sendable, Hashable {
    case ehlo(String)
    case helo(String)
    case startTLS
    /// `AUTH PLAIN` with the initial response (RFC 4616): base64 of `\0user\0password`.
    case authPlain(username: String, password: String)
    case authLogin
    /// A base64 line answering a 334 challenge (AUTH LOGIN's username and password).
    case authResponse(String)
    case mailFrom(String, size: Int?)
    case rcptTo(String)
    case data
    case rset
    case noop
    case quit

    /// The command line, without CRLF.
    public var line: String {
        switch self {
        case .ehlo(let name): "EHLO \(name)"
        case .helo(let name): "HELO \(name)"
        case .startTLS: "STARTTLS"
        case .authPlain(let username, let password): "AUTH PLAIN " + Self.base64("\u{0}\(username)\u{0}\(password)")
        case .authLogin: "AUTH LOGIN"
        case .authResponse(let text): Self.base64(text)
        case .mailFrom(let address, let size): "MAIL FROM:<\(address)>" + (size.map { " SIZE=\($0)" } ?? "")
        case .rcptTo(let address): "RCPT TO:<\(address)>"
        case .data: "DATA"
        case .rset: "RSET"
        case .noop: "NOOP"
        case .quit: "QUIT"
        }
    }

    /// The line as a transcript shows it: credentials are never printed.
    public var redactedLine: String {
        switch self {
        case .authPlain: "AUTH PLAIN ********"
        case .authResponse: "********"
        default: line
        }
    }

    func write(into buffer: inout ByteBuffer) {
        buffer.writeString(line)
        buffer.writeStaticString("\r\n")
    }

    static func base64(_ text: String) -> String {
        Data(text.utf8).base64EncodedString()
    }
}
