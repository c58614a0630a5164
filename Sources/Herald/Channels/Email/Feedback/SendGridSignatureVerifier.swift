import Crypto
import Foundation

/// Checks SendGrid's Event Webhook signature: `X-Twilio-Email-Event-Webhook-Signature` is base64 of a DER ECDSA
/// P-256 signature with SHA-256 over the `X-Twilio-Email-Event-Webhook-Timestamp` header's value followed by the
/// raw body, under the verification key SendGrid shows (base64 of the DER SubjectPublicKeyInfo).
///
/// The timestamp is signed but not held to a window: SendGrid's own verifiers do not check it, and it retries a
/// batch it could not deliver for up to 72 hours, which a window would refuse. A replayed batch is instead
/// caught event by event (each `sg_event_id` is taken once, see ``WebhookReplayGuard``), and its hard bounces
/// and complaints would only suppress again what is suppressed.
public struct SendGridSignatureVerifier: Sendable {
    public let publicKey: P256.Signing.PublicKey

    public static let signatureHeader = "x-twilio-email-event-webhook-signature"
    public static let timestampHeader = "x-twilio-email-event-webhook-timestamp"

    /// Reads the key as SendGrid shows it; nil when it is not a P-256 public key (the configuration is then
    /// never one that verifies).
    public init?(verificationKey: String) {
        let text = verificationKey.filter { !$0.isWhitespace }
        guard text.utf8.count <= 1024, let der = Data(base64Encoded: text), let key = try? P256.Signing.PublicKey(derRepresentation: der) else {
            return nil
        }
        publicKey = key
    }

    /// Whether `signature` (the header's base64) signs `timestamp` followed by `body`.
    public func isValid(signature: String, timestamp: String, body: [UInt8]) -> Bool {
        guard signature.utf8.count <= 512, timestamp.utf8.count <= 64, let der = Data(base64Encoded: signature),
            let parsed = try? P256.Signing.ECDSASignature(derRepresentation: der)
        else { return false }
        var signed = Data(timestamp.utf8)
        signed.append(contentsOf: body)
        return publicKey.isValidSignature(parsed, for: signed)
    }
}
