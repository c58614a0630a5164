import Crypto
import Foundation

/// Checks a Mailgun webhook's signature: hex HMAC-SHA256 under the account's webhook signing key over the
/// timestamp followed by the token, compared in constant time. Mailgun also asks that an old timestamp be
/// refused (``isFresh(_:now:)``: within ``window`` seconds of now either way, for clock skew) and a token seen
/// before; the engine does that with a ``WebhookReplayGuard`` once the signature holds.
public struct MailgunSignatureVerifier: Sendable {
    public let signingKey: SymmetricKey

    /// How far a webhook's timestamp may be from now.
    public static let window: TimeInterval = 600

    public init(signingKey: String) {
        self.signingKey = SymmetricKey(data: Data(signingKey.utf8))
    }

    /// Whether the signature is this key's HMAC of timestamp + token.
    public func isValid(_ webhook: MailgunWebhook) -> Bool {
        guard webhook.signature.utf8.count == 64, let given = Self.bytes(hex: webhook.signature), webhook.token.utf8.count <= 256,
            webhook.timestamp.utf8.count <= 20
        else { return false }
        return HMAC<SHA256>.isValidAuthenticationCode(given, authenticating: Data((webhook.timestamp + webhook.token).utf8), using: signingKey)
    }

    /// Whether the webhook's timestamp is within ``window`` of `now`.
    public static func isFresh(_ webhook: MailgunWebhook, now: Date) -> Bool {
        guard let seconds = Double(webhook.timestamp), seconds.isFinite else { return false }
        return abs(now.timeIntervalSince1970 - seconds) <= window
    }

    /// Bytes of a hex string, or nil when it is not one.
    static func bytes(hex: String) -> [UInt8]? {
        let digits = Array(hex.utf8)
        guard digits.count % 2 == 0 else { return nil }
        func value(_ digit: UInt8) -> UInt8? {
            switch digit {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit - UInt8(ascii: "A") + 10
            default: nil
            }
        }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(digits.count / 2)
        for index in stride(from: 0, to: digits.count, by: 2) {
            guard let high = value(digits[index]), let low = value(digits[index + 1]) else { return nil }
            bytes.append(high << 4 | low)
        }
        return bytes
    }
}
