/// Why a DKIM private key was refused (not PEM, too short an RSA key, an Ed25519 key given as RSA …).
///
/// `reason` is written to follow a field name in an API problem detail ("privateKey is an RSA key of 512 bits …"),
/// and it never quotes the key: a reply or a log line must not leak the secret it was asked to store.
public struct DKIMKeyError: Error, Sendable, Hashable, CustomStringConvertible {
    /// A sentence fragment without a subject, such as "is not a PEM private key".
    public let reason: String

    public init(_ reason: String) {
        self.reason = reason
    }

    public var description: String { "DKIM private key \(reason)" }
}
