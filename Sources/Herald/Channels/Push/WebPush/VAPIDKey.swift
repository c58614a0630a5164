import Crypto
import Foundation

/// A tenant's VAPID key pair (RFC 8292): the application server's identity towards every push service.
///
/// The public half is the `applicationServerKey` a page passes to `PushManager.subscribe(…)`; the push service
/// binds each subscription to it and accepts messages for that subscription only with a token signed by the
/// private half. So the key must stay the same for as long as its subscriptions live: a new key orphans every
/// existing subscription. Hence the ways to bring one in: a PEM (SEC 1 or PKCS #8, as `openssl ecparam -genkey`
/// writes it), or the raw base64url private key that web-push libraries print (`web-push generate-vapid-keys`).
public struct VAPIDKey: Sendable {
    public enum Failure: Error, CustomStringConvertible, Equatable {
        case invalidKey(String)
        case invalidClaim(String)

        public var description: String {
            switch self {
            case .invalidKey(let reason): "not a VAPID key: \(reason)"
            case .invalidClaim(let reason): "cannot sign a VAPID token: \(reason)"
            }
        }
    }

    /// RFC 8292 §2: a token's `exp` MUST NOT be more than 24 hours after the request.
    public static let maximumLifetime: TimeInterval = 24 * 3600
    /// How long the tokens Herald signs are good for: half the maximum, so a clock that runs a little behind
    /// the push service's still lands within its 24 hours.
    public static let tokenLifetime: TimeInterval = 12 * 3600

    let privateKey: P256.Signing.PrivateKey

    init(privateKey: P256.Signing.PrivateKey) {
        self.privateKey = privateKey
    }

    /// A new random key pair, for a tenant that has none yet.
    public static func generate() -> VAPIDKey {
        VAPIDKey(privateKey: P256.Signing.PrivateKey())
    }

    /// The key from a PEM private key (`-----BEGIN EC PRIVATE KEY-----` or `-----BEGIN PRIVATE KEY-----`) on P-256.
    public init(pem: String) throws {
        do {
            privateKey = try P256.Signing.PrivateKey(pemRepresentation: pem)
        } catch {
            throw Failure.invalidKey("expected a PEM P-256 private key")
        }
    }

    /// The key from its 32-byte private scalar in base64url, the form web-push libraries export
    /// (`VAPID_PRIVATE_KEY`), so a tenant can bring the key its subscriptions were made with.
    public init(privateKeyBase64URL: String) throws {
        guard let raw = WebPushSubscription.decodedBase64(privateKeyBase64URL), raw.count == 32 else {
            throw Failure.invalidKey("expected 32 bytes of base64url")
        }
        do {
            privateKey = try P256.Signing.PrivateKey(rawRepresentation: raw)
        } catch {
            throw Failure.invalidKey("not a P-256 private scalar")
        }
    }

    /// PKCS #8 PEM of the private key: how it is stored.
    public var pemRepresentation: String { privateKey.pemRepresentation }

    /// The public key as the uncompressed point (65 bytes) in base64url without padding: the page's
    /// `applicationServerKey`, and the `k=` of every `Authorization` header.
    public var publicKeyBase64URL: String { Data(privateKey.publicKey.x963Representation).base64URLEncoded() }

    /// The `aud` of tokens for a push endpoint: its origin, `scheme://host[:port]` (RFC 8292 §2), nil when the
    /// endpoint has none. The port is kept only when it is not the scheme's default, as browsers write origins.
    public static func audience(for endpoint: URL) -> String? {
        guard let components = URLComponents(url: endpoint, resolvingAgainstBaseURL: false), let scheme = components.scheme?.lowercased(),
            let host = components.host?.lowercased(), !host.isEmpty
        else { return nil }
        let bracketed = host.contains(":") && !host.hasPrefix("[") ? "[\(host)]" : host
        let defaultPort = scheme == "https" ? 443 : scheme == "http" ? 80 : nil
        guard let port = components.port, port != defaultPort else { return "\(scheme)://\(bracketed)" }
        return "\(scheme)://\(bracketed):\(port)"
    }

    /// Nil when `subject` may be a token's `sub`: a `mailto:` address or an `https:` URL where the push service's
    /// operator can reach the sender (RFC 8292 §2.1); otherwise why not.
    public static func subjectProblem(_ subject: String) -> String? {
        let lowered = subject.lowercased()
        if lowered.hasPrefix("mailto:") {
            let address = subject.dropFirst("mailto:".count)
            return address.contains("@") && !address.contains(where: \.isWhitespace) ? nil : "must be a mailto: URL with an email address"
        }
        if lowered.hasPrefix("https:") {
            return URLComponents(string: subject)?.host.map { $0.isEmpty ? "must name a host" : nil } ?? "must be an https URL with a host"
        }
        return "must be a mailto: or https: URL"
    }

    /// The `Authorization` header value for requests to `audience` (an origin, see ``audience(for:)``):
    /// `vapid t=<JWT>, k=<publicKeyBase64URL>` (RFC 8292 §3).
    ///
    /// The token is an ES256 JWT with claims `aud`, `exp` (whole seconds since 1970) and `sub`. `expiresAt` must be
    /// in the future and at most 24 hours away, or push services refuse the token.
    public func authorization(audience: String, subject: String, expiresAt: Date) throws -> String {
        "vapid t=\(try token(audience: audience, subject: subject, expiresAt: expiresAt, now: Date())), k=\(publicKeyBase64URL)"
    }

    /// The signed JWT alone.
    func token(audience: String, subject: String, expiresAt: Date, now: Date) throws -> String {
        guard let components = URLComponents(string: audience), let scheme = components.scheme, ["http", "https"].contains(scheme.lowercased()),
            let host = components.host, !host.isEmpty, components.path.isEmpty, components.query == nil, components.fragment == nil
        else { throw Failure.invalidClaim("the audience must be an origin (scheme://host[:port]), not \(audience)") }
        if let problem = Self.subjectProblem(subject) { throw Failure.invalidClaim("the subject \(problem)") }
        let lifetime = expiresAt.timeIntervalSince(now)
        guard lifetime > 0, lifetime <= Self.maximumLifetime else {
            throw Failure.invalidClaim("the expiry must be in the future and at most 24 hours away")
        }
        let claims: [String: JSONValue] = [
            "aud": .string(audience), "exp": .number(expiresAt.timeIntervalSince1970.rounded(.down)), "sub": .string(subject),
        ]
        return try JSONWebToken.make(header: ["typ": "JWT", "alg": "ES256"], claims: claims) { input in
            // JWS ES256 is the raw r || s (RFC 7518 §3.4), not the DER that X.509 uses.
            Array(try privateKey.signature(for: input).rawRepresentation)
        }
    }
}
