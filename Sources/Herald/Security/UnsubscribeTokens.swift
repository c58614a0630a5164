import Crypto
import Foundation

/// The signed token in every email's unsubscribe link: it names the tenant, the subscriber and the event
/// type, so the link works without a login and cannot be turned against anyone else's preferences.
///
/// Unsubscribe links must keep working for as long as the email sits in a mailbox, so these tokens do
/// not expire. They are short: a compact claims string and a 128-bit truncated HMAC-SHA256.
/// Format: `base64url("tenant\nsubscriber\nevent_type") "." base64url(HMAC[0..<16])`.
public struct UnsubscribeTokens: Sendable {
    public struct Claims: Sendable, Hashable {
        public var tenantID: String
        public var subscriberID: String
        public var eventType: String

        public init(tenantID: String, subscriberID: String, eventType: String) {
            self.tenantID = tenantID
            self.subscriberID = subscriberID
            self.eventType = eventType
        }
    }

    private let key: SymmetricKey

    public init(secret: String) {
        self.key = SymmetricKey(data: SHA256.hash(data: Data("herald-unsubscribe-token:\(secret)".utf8)))
    }

    public func issue(_ claims: Claims) -> String {
        let body = Data([claims.tenantID, claims.subscriberID, claims.eventType].joined(separator: "\n").utf8)
        return body.base64URLEncoded() + "." + signature(body).base64URLEncoded()
    }

    /// The claims of an untampered token, or nil for a forged or altered one.
    public func verify(_ token: String) -> Claims? {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 2, let body = Data(base64URLEncoded: String(parts[0])), let given = Data(base64URLEncoded: String(parts[1])),
            given.count == 16, constantTimeEqual(given, signature(body))
        else { return nil }
        let fields = String(decoding: body, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        guard fields.count == 3, fields.allSatisfy({ !$0.isEmpty }) else { return nil }
        return Claims(tenantID: fields[0], subscriberID: fields[1], eventType: fields[2])
    }

    private func signature(_ body: Data) -> Data {
        Data(HMAC<SHA256>.authenticationCode(for: body, using: key)).prefix(16)
    }

    private func constantTimeEqual(_ a: Data, _ b: Data) -> Bool {
        guard a.count == b.count else { return false }
        return zip(a, b).reduce(UInt8(0)) { $0 | ($1.0 ^ $1.1) } == 0
    }
}
