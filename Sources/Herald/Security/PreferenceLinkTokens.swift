import Crypto
import Foundation

/// The signed token in a preference-centre link (`/preferences?token=…`), for email footers and the
/// unsubscribe page: it names a tenant and a subscriber, so the link opens that subscriber's settings
/// without a login, and nobody else's.
///
/// Like unsubscribe links, these do not expire (the email stays in the mailbox), and they are signed
/// with their own key, so an unsubscribe token is never a preference token or the other way round.
/// The page they open gets a short-lived subscriber token scoped to preferences only.
/// Format: `base64url("tenant\nsubscriber") "." base64url(HMAC-SHA256[0..<16])`.
public struct PreferenceLinkTokens: Sendable {
    public struct Claims: Sendable, Hashable {
        public var tenantID: String
        public var subscriberID: String

        public init(tenantID: String, subscriberID: String) {
            self.tenantID = tenantID
            self.subscriberID = subscriberID
        }
    }

    private let key: SymmetricKey

    public init(secret: String) {
        self.key = SymmetricKey(data: SHA256.hash(data: Data("herald-preference-link:\(secret)".utf8)))
    }

    public func issue(_ claims: Claims) -> String {
        let body = Data([claims.tenantID, claims.subscriberID].joined(separator: "\n").utf8)
        return body.base64URLEncoded() + "." + signature(body).base64URLEncoded()
    }

    /// The claims of an untampered token, or nil.
    public func verify(_ token: String) -> Claims? {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 2, let body = Data(base64URLEncoded: String(parts[0])), let given = Data(base64URLEncoded: String(parts[1])),
            given.count == 16
        else { return nil }
        let expected = signature(body)
        guard zip(given, expected).reduce(UInt8(0), { $0 | ($1.0 ^ $1.1) }) == 0 else { return nil }
        let fields = String(decoding: body, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        guard fields.count == 2, fields.allSatisfy({ !$0.isEmpty }) else { return nil }
        return Claims(tenantID: fields[0], subscriberID: fields[1])
    }

    private func signature(_ body: Data) -> Data {
        Data(HMAC<SHA256>.authenticationCode(for: body, using: key)).prefix(16)
    }
}
