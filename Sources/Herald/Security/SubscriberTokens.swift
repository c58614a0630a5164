import Crypto
import Foundation

/// Tokens a tenant's backend obtains for one of its users, so a browser can read that user's inbox and
/// nothing else. HMAC-SHA256 signed, expiring, bound to tenant and subscriber.
///
/// Format: `base64url(claims JSON) "." base64url(HMAC(claims))`.
public struct SubscriberTokens: Sendable {
    public struct Claims: Codable, Sendable, Hashable {
        public var tenantID: String
        public var subscriberID: String
        public var expiresAt: Int64
        /// What the token may do; nil is everything a subscriber can (inbox and preferences).
        public var scope: Scope?

        enum CodingKeys: String, CodingKey {
            case tenantID = "t"
            case subscriberID = "s"
            case expiresAt = "e"
            case scope = "p"
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

    public func issue(tenantID: String, subscriberID: String, expiresAt: Date, scope: Scope? = nil) -> String {
        let claims = Claims(tenantID: tenantID, subscriberID: subscriberID, expiresAt: Int64(expiresAt.timeIntervalSince1970), scope: scope)
        let body = JSONCoding.encode(claims)
        let signature = Data(HMAC<SHA256>.authenticationCode(for: body, using: key))
        return body.base64URLEncoded() + "." + signature.base64URLEncoded()
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
