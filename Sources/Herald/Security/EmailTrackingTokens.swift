import Crypto
import Foundation

/// The signed tokens of email open and click tracking: `/t/o/<token>` names a message, `/t/c/<token>` a
/// message and the link's original URL.
///
/// The URL travels inside the token rather than in a table, so a tracked link needs no row of its own and
/// keeps working for as long as the email sits in a mailbox; the 128-bit truncated HMAC-SHA256 (with a key of
/// its own, derived from the server's secret like the unsubscribe and bounce keys) covers the URL, so nobody
/// can turn a link from Herald into a redirect to somewhere else: change one character and it is refused.
/// The kind (`o`, `c`) is signed too, so an open token is never a click token.
///
/// Format: `base64url("c<row>\n<url>" or "o<row>") "." base64url(HMAC[0..<16])`.
public struct EmailTrackingTokens: Sendable {
    /// Longer links are left as they are in the email (untracked): they would make a token too long for
    /// some clients to keep in one piece.
    public static let maximumURLBytes = 2048
    /// A token longer than the longest one this server issues is refused before it is decoded.
    public static let maximumTokenLength = 2 + (1 + 19 + 1 + maximumURLBytes) * 4 / 3 + 1 + 22

    private let key: SymmetricKey

    public init(secret: String) {
        self.key = SymmetricKey(data: SHA256.hash(data: Data("herald-email-tracking:\(secret)".utf8)))
    }

    /// The token of a click on `url` in message row `messageRow`, or nil when `url` cannot be tracked
    /// (not http or https, too long, control characters: see ``redirectTarget(_:)``).
    public func clickToken(messageRow: Int64, url: String) -> String? {
        guard messageRow > 0, let target = Self.redirectTarget(url) else { return nil }
        return issue(Data("c\(messageRow)\n\(target)".utf8))
    }

    /// The token of the open pixel of message row `messageRow`.
    public func openToken(messageRow: Int64) -> String {
        issue(Data("o\(messageRow)".utf8))
    }

    /// The message row and URL of an untampered click token, or nil for anything else.
    public func click(_ token: String) -> (messageRow: Int64, url: String)? {
        guard let body = verify(token), body.first == UInt8(ascii: "c"), let newline = body.firstIndex(of: UInt8(ascii: "\n")),
            let row = Self.row(body[body.index(after: body.startIndex)..<newline])
        else { return nil }
        let url = String(decoding: body[body.index(after: newline)...], as: UTF8.self)
        // Checked again, though it was checked when signed: a redirect never goes anywhere but http or https.
        guard let target = Self.redirectTarget(url), target == url else { return nil }
        return (row, url)
    }

    /// The message row of an untampered open token, or nil.
    public func open(_ token: String) -> Int64? {
        guard let body = verify(token), body.first == UInt8(ascii: "o") else { return nil }
        return Self.row(body.dropFirst())
    }

    /// `url` as a tracked link redirects to it, or nil when it cannot be one: surrounding whitespace
    /// removed, spaces and non-ASCII characters percent-encoded (as a browser would before following it),
    /// and only an absolute `http` or `https` URL with a host, without control characters, and of at most
    /// ``maximumURLBytes``. What comes out is safe in a `Location` header as it is.
    public static func redirectTarget(_ url: String) -> String? {
        let whitespace: Set<UInt8> = [0x20, 0x09, 0x0A, 0x0C, 0x0D]
        var bytes = Array(url.utf8)
        while let last = bytes.last, whitespace.contains(last) { bytes.removeLast() }
        let start = bytes.firstIndex { !whitespace.contains($0) } ?? bytes.endIndex
        guard bytes.count - start <= maximumURLBytes else { return nil }
        var encoded: [UInt8] = []
        encoded.reserveCapacity(bytes.count - start)
        let hex = Array("0123456789ABCDEF".utf8)
        for byte in bytes[start...] {
            switch byte {
            case 0x00..<0x20, 0x7F: return nil
            case 0x20, 0x80...:
                encoded += [UInt8(ascii: "%"), hex[Int(byte >> 4)], hex[Int(byte & 0x0F)]]
            default: encoded.append(byte)
            }
            if encoded.count > maximumURLBytes { return nil }
        }
        let text = String(decoding: encoded, as: UTF8.self)
        let lowered = text.lowercased()
        let scheme = lowered.hasPrefix("https://") ? 8 : lowered.hasPrefix("http://") ? 7 : 0
        guard scheme > 0 else { return nil }
        let authority = encoded[scheme...].prefix { $0 != UInt8(ascii: "/") && $0 != UInt8(ascii: "?") && $0 != UInt8(ascii: "#") }
        guard !authority.isEmpty, !authority.contains(UInt8(ascii: "\\")) else { return nil }
        return text
    }

    private func issue(_ body: Data) -> String {
        body.base64URLEncoded() + "." + signature(body).base64URLEncoded()
    }

    /// The signed body of a token whose signature holds, after bounding its length and shape.
    private func verify(_ token: String) -> Data? {
        guard token.utf8.count <= Self.maximumTokenLength,
            token.utf8.allSatisfy({ $0.isBase64URL || $0 == UInt8(ascii: ".") })
        else { return nil }
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 2, let body = Data(base64URLEncoded: String(parts[0])), let given = Data(base64URLEncoded: String(parts[1])),
            given.count == 16, Self.constantTimeEqual(given, signature(body)),
            // Only the one spelling this server writes: base64 leaves spare bits in a last character, and a
            // token that differs from the issued one in any character is not that token.
            body.base64URLEncoded() == parts[0], given.base64URLEncoded() == parts[1]
        else { return nil }
        return body
    }

    private func signature(_ body: Data) -> Data {
        Data(HMAC<SHA256>.authenticationCode(for: body, using: key)).prefix(16)
    }

    /// A row number as the tokens write it: 1 to 19 ASCII digits, positive.
    private static func row(_ digits: Data.SubSequence) -> Int64? {
        guard (1...19).contains(digits.count), digits.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }),
            let row = Int64(String(decoding: digits, as: UTF8.self)), row > 0
        else { return nil }
        return row
    }

    private static func constantTimeEqual(_ a: Data, _ b: Data) -> Bool {
        guard a.count == b.count else { return false }
        return zip(a, b).reduce(UInt8(0)) { $0 | ($1.0 ^ $1.1) } == 0
    }
}

extension UInt8 {
    /// A character of the base64url alphabet (`A–Z a–z 0–9 - _`).
    fileprivate var isBase64URL: Bool {
        (0x41...0x5A).contains(self) || (0x61...0x7A).contains(self) || (0x30...0x39).contains(self) || self == 0x2D || self == 0x5F
    }
}
