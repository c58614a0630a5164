import Crypto
import Foundation
import NIOSSL
import _CryptoExtras

/// Checks that an ``SNSMessage`` was signed by Amazon SNS, as AWS documents: the signing certificate comes
/// from an `https` URL on an SNS host (`sns.<region>.amazonaws.com`, or `.amazonaws.com.cn`), is within its
/// validity, and its RSA key verifies the signature over the message's canonical string (SignatureVersion 1:
/// SHA1withRSA; 2: SHA256withRSA). The certificate's authenticity rests on TLS to that host, which is why the
/// host rule matters as much as the signature.
///
/// Pure: the certificate is fetched by the caller (``HeraldEngine`` through its outbound client and a cache).
///
///     guard SNSSignatureVerifier.certificateURLProblem(message.signingCertURL, trustedPrefix: nil) == nil else { … }
///     let verifier = try SNSSignatureVerifier(certificatePEM: pem, now: .now)
///     if verifier.isValid(message) { … }
public struct SNSSignatureVerifier: Sendable {
    public let publicKey: _RSA.Signing.PublicKey

    /// A signing certificate is a few kilobytes; anything much larger is not one.
    public static let maximumCertificateBytes = 64 << 10

    /// Reads the PEM certificate at the message's `SigningCertURL`. Throws `.unauthenticated` when it is no
    /// certificate, is outside its validity at `now`, or holds no RSA key of at least 2048 bits.
    public init(certificatePEM pem: String, now: Date) throws(EmailWebhookError) {
        guard pem.utf8.count <= Self.maximumCertificateBytes,
            let certificate = try? NIOSSLCertificate(bytes: Array(pem.utf8), format: .pem)
        else { throw .unauthenticated("the SNS signing certificate cannot be read") }
        let notBefore = Date(timeIntervalSince1970: TimeInterval(certificate.notValidBefore))
        let notAfter = Date(timeIntervalSince1970: TimeInterval(certificate.notValidAfter))
        guard notBefore <= now, now <= notAfter else { throw .unauthenticated("the SNS signing certificate is not valid now") }
        guard let spki = try? certificate.extractPublicKey().toSPKIBytes(), let key = try? _RSA.Signing.PublicKey(derRepresentation: spki) else {
            throw .unauthenticated("the SNS signing certificate holds no RSA key of 2048 bits or more")
        }
        publicKey = key
    }

    /// Whether the message's signature verifies under this certificate's key.
    public func isValid(_ message: SNSMessage) -> Bool {
        guard message.signature.utf8.count <= 4096, let bytes = Data(base64Encoded: message.signature) else { return false }
        let signature = _RSA.Signing.RSASignature(rawRepresentation: bytes)
        let canonical = Data(message.canonicalString.utf8)
        switch message.signatureVersion {
        case "1": return publicKey.isValidSignature(signature, for: Insecure.SHA1.hash(data: canonical), padding: .insecurePKCS1v1_5)
        case "2": return publicKey.isValidSignature(signature, for: SHA256.hash(data: canonical), padding: .insecurePKCS1v1_5)
        default: return false
        }
    }

    /// Why `url` may not be fetched for a signing certificate or a subscription confirmation, or nil when it may:
    /// it must be `https` on an SNS host with no credentials or unusual port, or start with `trustedPrefix`
    /// (the operator's `email.sns_certificate_url_prefix`, for tests against a stand-in).
    public static func urlProblem(_ url: String, trustedPrefix: String?) -> String? {
        if let trustedPrefix, !trustedPrefix.isEmpty, url.hasPrefix(trustedPrefix) { return nil }
        guard url.utf8.count <= 2048, let components = URLComponents(string: url), let host = components.host?.lowercased() else {
            return "is not a URL"
        }
        guard components.scheme?.lowercased() == "https" else { return "is not https" }
        guard components.user == nil, components.password == nil, components.port == nil || components.port == 443 else {
            return "must not carry credentials or a port"
        }
        guard isSNSHost(host) else { return "is not on an Amazon SNS host (sns.<region>.amazonaws.com)" }
        return nil
    }

    /// `sns.us-east-1.amazonaws.com`, `sns.cn-north-1.amazonaws.com.cn`.
    public static func isSNSHost(_ host: String) -> Bool {
        let labels = host.split(separator: ".", omittingEmptySubsequences: false)
        let tail: [Substring] = labels.suffix(2) == ["amazonaws", "com"] ? ["amazonaws", "com"] : ["amazonaws", "com", "cn"]
        guard labels.count == 2 + tail.count, Array(labels.suffix(tail.count)) == tail, labels[0] == "sns" else { return false }
        let region = labels[1]
        return (1...32).contains(region.count) && region.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "-" }
    }
}
