import Crypto
import Foundation

/// Tokens a tenant's backend obtains for one of its users, so a browser can read that user's inbox and
/// nothing else. HMAC-SHA256 signed, expiring, bound to tenant and subscriber, and to the subscriber's
/// creation time: a token outlives neither its subscriber's deletion nor passes to a new subscriber
/// later created under the same id (``HeraldEngine/isCurrent(_:)`` checks it on every use).
///
/// Format: `base64url(claims JSON) "." base64url(HMAC(claims))`.
public struct SubscriberTokens: Sendable {
    public struct Claims: Codable, Sendable, Hashable {
        public var tenantID: String
        public var subscriberID: String
        public var expiresAt: Int64
        /// What the token may do; nil is everything a subscriber can (inbox and preferences).
        public var scope: Scope?
        /// When the subscriber the token was issued to was created, in milliseconds since 1970: which
        /// subscriber of that id it is. Tokens from before this claim existed have none and are refused.
        public var subscriberCreatedAt: Int64?

        /// The credential this token is, and so what it grants.
        public var kind: CredentialKind {
            switch scope {
            case nil: .subscriberToken
            case .preferences: .preferencesToken
            }
        }

        enum CodingKeys: String, CodingKey {
            case tenantID = "t"
            case subscriberID = "s"
            case expiresAt = "e"
            case scope = "p"
            case subscriberCreatedAt = "c"
        }
    }

    /// A narrower token, for pages opened from a link rather than by the app.
    public enum Scope: String, Codable, Sendable, Hashable {
        /// Only the preference centre: the page behind an email's preference link, which someone the
        /// email was forwarded to could open, must not show the inbox.
        case preferences
    }

    private let key: SymmetricKey

    public init(secret: String) {
        self.key = SymmetricKey(data: SHA256.hash(data: Data("herald-subscriber-token:\(secret)".utf8)))
    }

    /// A token for `subscriber` (as stored, with its creation time) of `tenantID`.
    public func issue(tenantID: String, subscriber: Subscriber, expiresAt: Date, scope: Scope? = nil) -> String {
        let claims = Claims(
            tenantID: tenantID, subscriberID: subscriber.id, expiresAt: Int64(expiresAt.timeIntervalSince1970), scope: scope,
            subscriberCreatedAt: Self.incarnation(of: subscriber))
        let body = JSONCoding.encode(claims)
        let signature = Data(HMAC<SHA256>.authenticationCode(for: body, using: key))
        return body.base64URLEncoded() + "." + signature.base64URLEncoded()
    }

    /// Which subscriber of an id this is: its creation time in milliseconds (the unit both stores keep).
    public static func incarnation(of subscriber: Subscriber) -> Int64? {
        subscriber.createdAt.map(Timestamp.millis)
    }

    /// The claims of a valid, unexpired token, or nil.
    public func verify(_ token: String, now: Date = Date()) -> Claims? {
        let parts = token.split(separator: ".")
        guard parts.count == 2, let body = Data(base64URLEncoded: String(parts[0])),
            let signature = Data(base64URLEncoded: String(parts[1])),
            HMAC<SHA256>.isValidAuthenticationCode(signature, authenticating: body, using: key),
            let claims = try? JSONCoding.decoder.decode(Claims.self, from: body),
            Double(claims.expiresAt) > now.timeIntervalSince1970
        else { return nil }
        return claims
    }
}
