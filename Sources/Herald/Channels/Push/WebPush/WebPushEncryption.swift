import Crypto
import Foundation

/// Message encryption for Web Push (RFC 8291) in the `aes128gcm` content coding (RFC 8188): what makes a push
/// service a blind relay. Only the browser holding the subscription's private key and `auth` secret can read
/// the payload; the push service sees the size and the headers, nothing else.
///
/// A fresh ephemeral key pair and salt per message (RFC 8291 §3.2 forbids reusing a key pair across
/// subscriptions, and a salt across messages). The body is the RFC 8188 header, `salt(16) | rs(4, big-endian) |
/// idlen(1) = 65 | keyid = the ephemeral public key (65 bytes, uncompressed)`, then one record,
/// `AES-128-GCM(plaintext | 0x02)`: 0x02 marks the last (here, only) record, and no padding is added.
///
/// Web Push payloads are limited to 4096 bytes of body (RFC 8030 §7.2 lets a push service refuse more with 413;
/// browsers' services do at 4096), so with the 86-byte header, the delimiter and the 16-byte tag a plaintext may
/// take at most ``maximumPlaintextBytes`` = 3993 bytes, and is refused beyond that rather than split.
enum WebPushEncryption {
    enum Failure: Error, CustomStringConvertible, Equatable {
        case payloadTooLarge(Int)
        case invalidSubscription(String)
        case invalidParameter(String)

        var description: String {
            switch self {
            case .payloadTooLarge(let size):
                "the payload is \(size) bytes; Web Push takes at most \(WebPushEncryption.maximumPlaintextBytes) bytes (4096 once encrypted)"
            case .invalidSubscription(let reason): "the subscription cannot be encrypted for: \(reason)"
            case .invalidParameter(let reason): reason
            }
        }
    }

    /// The longest body push services take (RFC 8291 §4: a push service MUST accept 4096 bytes, and may refuse more).
    static let maximumBodyBytes = 4096
    /// `salt(16) + rs(4) + idlen(1) + keyid(65)`.
    static let headerBytes = 86
    /// The GCM tag.
    static let tagBytes = 16
    /// What is left of ``maximumBodyBytes`` for the plaintext: 4096 − 86 − 16 − 1 (the delimiter) = 3993.
    static let maximumPlaintextBytes = maximumBodyBytes - headerBytes - tagBytes - 1

    /// The `aes128gcm` body for `plaintext`, readable only by `subscription`'s browser.
    ///
    /// `salt` and `serverKey` are for tests (RFC 8291 Appendix A fixes both); left nil, each message gets fresh
    /// random ones, as it must.
    static func encrypt(
        _ plaintext: [UInt8], for subscription: WebPushSubscription, recordSize: Int = 4096, salt: [UInt8]? = nil,
        serverKey: P256.KeyAgreement.PrivateKey? = nil
    ) throws -> [UInt8] {
        guard plaintext.count <= maximumPlaintextBytes else { throw Failure.payloadTooLarge(plaintext.count) }
        // One record holds the plaintext, its delimiter and the tag (RFC 8188 §2: rs is at least 18).
        guard recordSize >= plaintext.count + 1 + tagBytes, recordSize <= Int(UInt32.max) else {
            throw Failure.invalidParameter("a record of \(recordSize) bytes cannot hold a \(plaintext.count)-byte payload in one record")
        }
        let salt = salt ?? randomBytes(16)
        guard salt.count == 16 else { throw Failure.invalidParameter("the salt must be 16 bytes, not \(salt.count)") }
        let userAgentKey = try subscription.userAgentPublicKey()
        let authSecret = try subscription.authSecret()
        let serverKey = serverKey ?? P256.KeyAgreement.PrivateKey()

        let userAgentPublic = Array(userAgentKey.x963Representation)
        let serverPublic = Array(serverKey.publicKey.x963Representation)
        let sharedSecret = try serverKey.sharedSecretFromKeyAgreement(with: userAgentKey)
        let ecdhSecret = sharedSecret.withUnsafeBytes { Array($0) }
        let (key, nonce) = deriveKeyAndNonce(
            ecdhSecret: ecdhSecret, authSecret: authSecret, userAgentPublic: userAgentPublic, serverPublic: serverPublic, salt: salt)

        let sealed = try AES.GCM.seal(plaintext + [0x02], using: SymmetricKey(data: key), nonce: try AES.GCM.Nonce(data: nonce))
        var body: [UInt8] = []
        body.reserveCapacity(headerBytes + plaintext.count + 1 + tagBytes)
        body += salt
        let size = UInt32(recordSize)
        body += [UInt8(size >> 24), UInt8((size >> 16) & 0xFF), UInt8((size >> 8) & 0xFF), UInt8(size & 0xFF)]
        body.append(UInt8(serverPublic.count))
        body += serverPublic
        body += sealed.ciphertext
        body += sealed.tag
        return body
    }

    /// RFC 8291 §3.3–3.4 and RFC 8188 §2.2–2.3, step by step (each HKDF here has one block of output, so
    /// HKDF-Expand is a single HMAC over `info || 0x01`):
    ///
    /// ```
    /// PRK_key = HMAC-SHA-256(auth_secret, ecdh_secret)
    /// IKM     = HMAC-SHA-256(PRK_key, "WebPush: info" || 0x00 || ua_public || as_public || 0x01)
    /// PRK     = HMAC-SHA-256(salt, IKM)
    /// CEK     = HMAC-SHA-256(PRK, "Content-Encoding: aes128gcm" || 0x00 || 0x01)[0..<16]
    /// NONCE   = HMAC-SHA-256(PRK, "Content-Encoding: nonce" || 0x00 || 0x01)[0..<12]
    /// ```
    ///
    /// The nonce is used as it is: it is XORed with the record's sequence number, which for the only record is 0.
    static func deriveKeyAndNonce(
        ecdhSecret: [UInt8], authSecret: [UInt8], userAgentPublic: [UInt8], serverPublic: [UInt8], salt: [UInt8]
    ) -> (key: [UInt8], nonce: [UInt8]) {
        let keyPRK = hmac(key: authSecret, ecdhSecret)
        let keyInfo = Array("WebPush: info".utf8) + [0x00] + userAgentPublic + serverPublic
        let ikm = hmac(key: keyPRK, keyInfo + [0x01])
        let prk = hmac(key: salt, ikm)
        let key = hmac(key: prk, Array("Content-Encoding: aes128gcm".utf8) + [0x00, 0x01]).prefix(16)
        let nonce = hmac(key: prk, Array("Content-Encoding: nonce".utf8) + [0x00, 0x01]).prefix(12)
        return (Array(key), Array(nonce))
    }

    private static func hmac(key: [UInt8], _ message: [UInt8]) -> [UInt8] {
        Array(HMAC<SHA256>.authenticationCode(for: message, using: SymmetricKey(data: key)))
    }

    private static func randomBytes(_ count: Int) -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        return (0..<count).map { _ in UInt8.random(in: 0...255, using: &generator) }
    }
}
