import Crypto
import Foundation

/// Signs a webhook request the Standard Webhooks way (https://www.standardwebhooks.com), so a receiver
/// can check it with the official libraries instead of code of its own.
///
/// Three headers: `webhook-id` (the same on every retry, so a receiver can drop duplicates),
/// `webhook-timestamp` (Unix seconds of this attempt, so a receiver can refuse replays) and
/// `webhook-signature`: `v1,<base64 HMAC-SHA256(key, "id.timestamp.body")>`, one per secret,
/// separated by spaces. Several secrets are how a key is rotated: the receiver switches to the new one
/// while the old one still verifies.
public enum WebhookSigner {
    /// The signature header value for `body` under every secret, in order.
    public static func signature(id: String, timestamp: Int, body: [UInt8], secrets: [WebhookSecret]) -> String {
        var signed = Array("\(id).\(timestamp).".utf8)
        signed.append(contentsOf: body)
        return secrets.map { secret in
            let code = HMAC<SHA256>.authenticationCode(for: signed, using: SymmetricKey(data: secret.key))
            return "v1," + Data(code).base64EncodedString()
        }.joined(separator: " ")
    }

    /// The three Standard Webhooks headers plus the content type.
    public static func headers(id: String, timestamp: Date, body: [UInt8], secrets: [WebhookSecret]) -> [(String, String)] {
        let seconds = Int(timestamp.timeIntervalSince1970.rounded(.down))
        return [
            ("Content-Type", "application/json"),
            ("webhook-id", id),
            ("webhook-timestamp", String(seconds)),
            ("webhook-signature", signature(id: id, timestamp: seconds, body: body, secrets: secrets)),
        ]
    }
}
