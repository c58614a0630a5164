import Foundation

/// A Standard Webhooks signing secret: `whsec_` followed by the base64 of 24 to 64 random bytes.
///
/// The receiver holds the same text and checks each delivery with any Standard Webhooks library
/// (`standardwebhooks` in Python, `svix` …), so the format is the library's, not Herald's own.
/// Outside the answer that creates it, a secret is only ever shown redacted (``redacted``).
public struct WebhookSecret: Sendable, Hashable, CustomStringConvertible {
    public static let prefix = "whsec_"
    /// What a redacted secret ends with; a settings document read back with it keeps the stored secret.
    public static let redactionMark = "********"
    /// Base64 characters kept in a redacted secret, enough to tell a tenant's secrets apart.
    static let keptCharacters = 6

    /// The whole text, `whsec_…`.
    public let text: String
    /// The key bytes the HMAC uses.
    public let key: [UInt8]

    /// Parses a secret; nil when it is not `whsec_` plus base64 of 24 to 64 bytes (see ``problem(in:)``).
    public init?(_ text: String) {
        guard Self.problem(in: text) == nil, let key = Self.keyBytes(text) else { return nil }
        self.text = text
        self.key = key
    }

    /// A new random secret of 32 bytes.
    public static func generate() -> WebhookSecret {
        var random = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: 0...255, using: &random) }
        return WebhookSecret(prefix + Data(bytes).base64EncodedString())!
    }

    /// Why `text` is not a usable secret, or nil when it is.
    public static func problem(in text: String) -> String? {
        guard text.hasPrefix(prefix) else { return "must start with whsec_ (a Standard Webhooks secret)" }
        guard let key = keyBytes(text) else { return "must be whsec_ followed by base64" }
        guard (24...64).contains(key.count) else { return "must hold 24 to 64 bytes of key after whsec_, not \(key.count)" }
        return nil
    }

    private static func keyBytes(_ text: String) -> [UInt8]? {
        var base64 = String(text.dropFirst(prefix.count))
        // Some tools drop the padding; the Standard Webhooks libraries accept it either way.
        while base64.count % 4 != 0 { base64.append("=") }
        return Data(base64Encoded: base64).map(Array.init)
    }

    /// `whsec_AbCdEf********`: enough to recognise, nothing to sign with.
    public var redacted: String { Self.redact(text) }

    static func redact(_ text: String) -> String {
        String(text.prefix(prefix.count + keptCharacters)) + redactionMark
    }

    /// Whether `text` is a redacted secret, as GET answers show them.
    public static func isRedacted(_ text: String) -> Bool { text.hasSuffix(redactionMark) }

    public var description: String { redacted }
}
