import Crypto
import Foundation

/// A browser's push subscription, as `PushSubscription.toJSON()` gives it to the app: the push service's
/// `endpoint` for this one browser, and the two keys RFC 8291 encrypts every message with (`keys.p256dh`,
/// the browser's P-256 public key; `keys.auth`, a 16-byte secret shared with the app).
///
/// The endpoint is a capability: whoever knows it can send to the browser (given the VAPID key it was made
/// with), so details and logs name only its host. It is encoded in the browser's own shape
/// (`{"endpoint": …, "keys": {"p256dh": …, "auth": …}}`), so an app can pass `toJSON()` on as it is;
/// `expirationTime`, which browsers include and almost always leave null, is accepted and dropped.
public struct WebPushSubscription: Sendable, Hashable, Codable {
    /// Longer than any push service's endpoint (FCM's, the longest, is about 200 characters); bounds what is stored.
    public static let maximumEndpointLength = 2048

    public var endpoint: String
    /// Base64url (padded or not; standard base64 is read too) of the uncompressed P-256 point, 65 bytes.
    public var p256dh: String
    /// Base64url of the 16-byte authentication secret.
    public var auth: String

    public init(endpoint: String, p256dh: String, auth: String) {
        self.endpoint = endpoint
        self.p256dh = p256dh
        self.auth = auth
    }

    /// Every problem with a subscription an app sent, by field (empty when it is usable). Checked without any
    /// network access, so it can answer a save at once: the endpoint's shape, and that both keys decode to what
    /// RFC 8291 needs (a point on P-256; 16 bytes).
    ///
    /// The endpoint must be `https` (RFC 8030 §8 requires push services to use it, and the message's metadata
    /// travels in the clear otherwise); plain `http` is taken only for a loopback host, where the tests' own
    /// push service listens. Where a request may really go is still the ``DestinationPolicy``'s call at send time.
    public static func problems(endpoint: String, p256dh: String, auth: String) -> [(field: String, reason: String)] {
        var problems: [(field: String, reason: String)] = []
        if let reason = endpointProblem(endpoint) { problems.append(("subscription.endpoint", reason)) }
        if let reason = userAgentKeyProblem(p256dh) { problems.append(("subscription.keys.p256dh", reason)) }
        if let reason = authSecretProblem(auth) { problems.append(("subscription.keys.auth", reason)) }
        return problems
    }

    /// The browser's public key, for the key agreement. Throws when `p256dh` is not one (see ``problems(endpoint:p256dh:auth:)``).
    func userAgentPublicKey() throws -> P256.KeyAgreement.PublicKey {
        guard let bytes = Self.decodedBase64(p256dh), bytes.count == 65, bytes.first == 0x04 else {
            throw WebPushEncryption.Failure.invalidSubscription("keys.p256dh is not an uncompressed P-256 public key")
        }
        do {
            return try P256.KeyAgreement.PublicKey(x963Representation: bytes)
        } catch {
            throw WebPushEncryption.Failure.invalidSubscription("keys.p256dh is not a point on P-256")
        }
    }

    /// The 16-byte authentication secret. Throws when `auth` is not one.
    func authSecret() throws -> [UInt8] {
        guard let bytes = Self.decodedBase64(auth), bytes.count == 16 else {
            throw WebPushEncryption.Failure.invalidSubscription("keys.auth is not 16 bytes of base64url")
        }
        return bytes
    }

    /// Base64url with or without padding, or standard base64: browsers give base64url without padding, but
    /// apps and libraries pass keys around in every form.
    static func decodedBase64(_ text: String) -> [UInt8]? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        guard !trimmed.isEmpty, let data = Data(base64URLEncoded: trimmed) else { return nil }
        return Array(data)
    }

    /// Why `endpoint` cannot be pushed to, or nil (the first check of ``problems(endpoint:p256dh:auth:)``).
    static func endpointProblem(_ endpoint: String) -> String? {
        if endpoint.isEmpty { return "is required" }
        if endpoint.utf8.count > maximumEndpointLength { return "must be at most \(maximumEndpointLength) characters" }
        guard let components = URLComponents(string: endpoint), let scheme = components.scheme?.lowercased(), URL(string: endpoint) != nil
        else { return "must be an absolute https URL" }
        guard let host = components.host, !host.isEmpty else { return "must name a host" }
        if components.user != nil || components.password != nil { return "must not carry a user name or password" }
        switch scheme {
        case "https": return nil
        case "http" where isLoopback(host): return nil
        case "http": return "must use https (http is allowed only for a loopback host)"
        default: return "must be an https URL, not \(scheme)"
        }
    }

    private static func isLoopback(_ host: String) -> Bool {
        ["127.0.0.1", "::1", "localhost"].contains(DestinationPolicy.normalized(host))
    }

    private static func userAgentKeyProblem(_ p256dh: String) -> String? {
        if p256dh.isEmpty { return "is required" }
        guard let bytes = decodedBase64(p256dh) else { return "must be base64url" }
        guard bytes.count == 65, bytes.first == 0x04 else {
            return "must be an uncompressed P-256 public key (65 bytes starting with 0x04), not \(bytes.count) bytes"
        }
        guard (try? P256.KeyAgreement.PublicKey(x963Representation: bytes)) != nil else { return "is not a point on the P-256 curve" }
        return nil
    }

    private static func authSecretProblem(_ auth: String) -> String? {
        if auth.isEmpty { return "is required" }
        guard let bytes = decodedBase64(auth) else { return "must be base64url" }
        return bytes.count == 16 ? nil : "must be 16 bytes, not \(bytes.count)"
    }

    // MARK: Codable, in the browser's shape

    private enum CodingKeys: String, CodingKey, CaseIterable {
        case endpoint, keys, expirationTime
    }

    private enum KeyCodingKeys: String, CodingKey, CaseIterable {
        case p256dh, auth
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        try decoder.refuseUnknownKeys(CodingKeys.self)
        endpoint = try container.decode(String.self, forKey: .endpoint)
        let keys = try container.nestedContainer(keyedBy: KeyCodingKeys.self, forKey: .keys)
        try container.superDecoder(forKey: .keys).refuseUnknownKeys(KeyCodingKeys.self)
        p256dh = try keys.decode(String.self, forKey: .p256dh)
        auth = try keys.decode(String.self, forKey: .auth)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(endpoint, forKey: .endpoint)
        var keys = container.nestedContainer(keyedBy: KeyCodingKeys.self, forKey: .keys)
        try keys.encode(p256dh, forKey: .p256dh)
        try keys.encode(auth, forKey: .auth)
    }
}
