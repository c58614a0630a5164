import Crypto
import Foundation
import _CryptoExtras

/// A private key that signs outgoing email for one DKIM selector, with the algorithm it signs for.
///
/// Operators bring keys from wherever they already make them (`openssl genrsa`, `openssl genpkey -algorithm ed25519`,
/// another mail server's key file), so `init(pem:algorithm:)` takes the usual PEM forms and explains in words why it
/// refuses one; Herald can also make a fresh key with `generate(_:)`. The key is stored as `pemRepresentation` and
/// published in DNS as `publicKeyBase64` (see `DKIMRecord`).
///
/// The description and mirror show the algorithm and size only, so a key that ends up in a log line or a test failure
/// message does not leak.
public struct DKIMPrivateKey: Sendable {
    public let algorithm: DKIMAlgorithm
    private let backing: Backing

    private enum Backing: Sendable {
        case rsa(_RSA.Signing.PrivateKey)
        case ed25519(Curve25519.Signing.PrivateKey)
    }

    /// RSA keys shorter than this are refused: RFC 8301 §3.2 tells verifiers to ignore signatures made with them.
    public static let minimumRSABits = 1024

    private init(algorithm: DKIMAlgorithm, backing: Backing) {
        self.algorithm = algorithm
        self.backing = backing
    }

    /// Reads a key for `algorithm` from PEM text.
    ///
    /// RSA: PKCS#1 (`BEGIN RSA PRIVATE KEY`, what `openssl genrsa` wrote before OpenSSL 3) or PKCS#8 (`BEGIN PRIVATE
    /// KEY`), at least 1024 bits. Ed25519: PKCS#8 (`openssl genpkey -algorithm ed25519`), or the bare 32-byte seed in
    /// base64, which is how some DKIM tools (rspamd, dkimpy) store such keys. Encrypted keys, public keys and keys of
    /// another type are refused with a reason that says what the text is instead.
    public init(pem: String, algorithm: DKIMAlgorithm) throws(DKIMKeyError) {
        let text = pem.trimmingCharacters(in: .whitespacesAndNewlines)
        if text.isEmpty { throw DKIMKeyError("is empty") }
        guard text.contains("-----BEGIN ") else {
            try self.init(bareSeed: text, algorithm: algorithm)
            return
        }
        let (label, der) = try Self.pemBlock(text)
        let found: DKIMAlgorithm
        switch label {
        case "RSA PRIVATE KEY":
            found = .rsaSHA256
        case "PRIVATE KEY":
            found = try Self.pkcs8Algorithm(der)
        case "ENCRYPTED PRIVATE KEY":
            throw DKIMKeyError("is encrypted; give the unencrypted key (openssl pkey -in key.pem -out plain.pem)")
        case "PUBLIC KEY", "RSA PUBLIC KEY":
            throw DKIMKeyError("is a public key; signing needs the private key (the public one goes in DNS)")
        case "EC PRIVATE KEY":
            throw DKIMKeyError("is an ECDSA key, which DKIM does not use; use an RSA or Ed25519 key")
        case "OPENSSH PRIVATE KEY":
            throw DKIMKeyError("is in OpenSSH's format; DKIM needs a PEM key (openssl genpkey makes one)")
        default:
            throw DKIMKeyError("is a PEM block of type '\(label)', not a private key")
        }
        guard found == algorithm else {
            let name = found == .rsaSHA256 ? "an RSA" : "an Ed25519"
            throw DKIMKeyError("is \(name) key, but the algorithm is \(algorithm.rawValue)")
        }
        switch algorithm {
        case .rsaSHA256:
            self.init(algorithm: .rsaSHA256, backing: .rsa(try Self.rsaKey(pem: text, der: der, pkcs8: label == "PRIVATE KEY")))
        case .ed25519SHA256:
            self.init(algorithm: .ed25519SHA256, backing: .ed25519(try Self.ed25519Key(pkcs8: der)))
        }
    }

    /// A new random key: 2048-bit RSA (what RFC 8301 recommends and every DNS provider can hold in one TXT record)
    /// or Ed25519.
    public static func generate(_ algorithm: DKIMAlgorithm) -> DKIMPrivateKey {
        switch algorithm {
        case .rsaSHA256:
            // Generation only fails if the system's random source does, which nothing could recover from here.
            DKIMPrivateKey(algorithm: .rsaSHA256, backing: .rsa(try! _RSA.Signing.PrivateKey(keySize: .bits2048)))
        case .ed25519SHA256:
            DKIMPrivateKey(algorithm: .ed25519SHA256, backing: .ed25519(Curve25519.Signing.PrivateKey()))
        }
    }

    /// The key as PKCS#8 PEM (`BEGIN PRIVATE KEY`) for either algorithm, which `init(pem:algorithm:)` reads back.
    public var pemRepresentation: String {
        switch backing {
        case .rsa(let key): key.pkcs8PEMRepresentation
        case .ed25519(let key): key.pemRepresentation
        }
    }

    /// The `p=` value of the DNS key record: base64 of the SubjectPublicKeyInfo DER for RSA (RFC 6376 §3.6.1), of the
    /// raw 32-byte public key for Ed25519 (RFC 8463 §4.2).
    public var publicKeyBase64: String {
        switch backing {
        case .rsa(let key): key.publicKey.derRepresentation.base64EncodedString()
        case .ed25519(let key): key.publicKey.rawRepresentation.base64EncodedString()
        }
    }

    /// The modulus size for RSA; 256 for Ed25519.
    public var keySizeInBits: Int {
        switch backing {
        case .rsa(let key): key.keySizeInBits
        case .ed25519: 256
        }
    }

    /// The signature of `data` (the canonicalized header fields, RFC 6376 §3.7) for the `b=` tag.
    ///
    /// Both algorithms sign the SHA-256 hash of `data`: RSA with PKCS#1 v1.5 padding around the SHA-256 DigestInfo,
    /// Ed25519 (PureEdDSA) over the 32 hash bytes themselves, as RFC 8463 §3 says; Ed25519 over `data` directly would
    /// not verify anywhere.
    func sign(_ data: [UInt8]) throws -> [UInt8] {
        let digest = SHA256.hash(data: data)
        switch backing {
        case .rsa(let key):
            return Array(try key.signature(for: digest, padding: .insecurePKCS1v1_5).rawRepresentation)
        case .ed25519(let key):
            return Array(try key.signature(for: Array(digest)))
        }
    }

    // MARK: Reading keys

    /// An Ed25519 key given as its base64 seed, or a clear refusal of text that is not PEM at all.
    private init(bareSeed text: String, algorithm: DKIMAlgorithm) throws(DKIMKeyError) {
        guard algorithm == .ed25519SHA256 else {
            throw DKIMKeyError("is not a PEM private key (one starts with -----BEGIN PRIVATE KEY----- or -----BEGIN RSA PRIVATE KEY-----)")
        }
        let compact = String(text.unicodeScalars.filter { !$0.properties.isWhitespace })
        guard let seed = Data(base64Encoded: compact), seed.count == 32,
            let key = try? Curve25519.Signing.PrivateKey(rawRepresentation: seed)
        else {
            throw DKIMKeyError("is neither a PEM private key nor the base64 of a 32-byte Ed25519 seed")
        }
        self.init(algorithm: .ed25519SHA256, backing: .ed25519(key))
    }

    /// The label and DER bytes of the first PEM block in `text`.
    private static func pemBlock(_ text: String) throws(DKIMKeyError) -> (label: String, der: [UInt8]) {
        let lines = text.split(omittingEmptySubsequences: true, whereSeparator: \.isNewline).map {
            $0.trimmingCharacters(in: .whitespaces)
        }
        guard let begin = lines.firstIndex(where: { $0.hasPrefix("-----BEGIN ") && $0.hasSuffix("-----") && $0.count > 16 }) else {
            throw DKIMKeyError("is not a PEM private key: its -----BEGIN line is malformed")
        }
        let label = String(lines[begin].dropFirst(11).dropLast(5))
        guard let end = lines[(begin + 1)...].firstIndex(of: "-----END \(label)-----") else {
            throw DKIMKeyError("is cut short: it has no -----END \(label)----- line")
        }
        var body = ""
        for line in lines[(begin + 1)..<end] {
            // RFC 1421 headers of OpenSSL's legacy encrypted keys (Proc-Type, DEK-Info).
            if line.contains(":") {
                if line.hasPrefix("Proc-Type:") && line.contains("ENCRYPTED") {
                    throw DKIMKeyError("is encrypted; give the unencrypted key (openssl pkey -in key.pem -out plain.pem)")
                }
                continue
            }
            body += line
        }
        guard let der = Data(base64Encoded: body), !der.isEmpty else {
            throw DKIMKeyError("is a damaged PEM block: its base64 does not decode")
        }
        return (label, Array(der))
    }

    /// The algorithm a PKCS#8 `PrivateKeyInfo` is for, from its AlgorithmIdentifier's OID.
    private static func pkcs8Algorithm(_ der: [UInt8]) throws(DKIMKeyError) -> DKIMAlgorithm {
        guard let info = derElement(der[...], tag: 0x30), let version = derElement(info.content, tag: 0x02),
            let identifier = derElement(version.rest, tag: 0x30), let oid = derElement(identifier.content, tag: 0x06)
        else { throw DKIMKeyError("is not a well-formed PKCS#8 private key") }
        switch Array(oid.content) {
        case [0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x01, 0x01]: return .rsaSHA256  // 1.2.840.113549.1.1.1 rsaEncryption
        case [0x2B, 0x65, 0x70]: return .ed25519SHA256  // 1.3.101.112 Ed25519
        case [0x2B, 0x65, 0x6E]: throw DKIMKeyError("is an X25519 key, which agrees on secrets but cannot sign; DKIM needs Ed25519")
        case [0x2B, 0x65, 0x71]: throw DKIMKeyError("is an Ed448 key, which DKIM does not use; use Ed25519 or RSA")
        case [0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x02, 0x01]: throw DKIMKeyError("is an ECDSA key, which DKIM does not use; use an RSA or Ed25519 key")
        default: throw DKIMKeyError("is a private key of a type DKIM does not use; use an RSA or Ed25519 key")
        }
    }

    private static func rsaKey(pem: String, der: [UInt8], pkcs8: Bool) throws(DKIMKeyError) -> _RSA.Signing.PrivateKey {
        // Measured first so that a short key gets its size in the reason rather than swift-crypto's bare refusal.
        if let bits = rsaModulusBits(der, pkcs8: pkcs8), bits < minimumRSABits {
            throw DKIMKeyError(
                "is an RSA key of \(bits) bits; DKIM needs at least \(minimumRSABits) (2048 is advised), as verifiers ignore shorter keys")
        }
        do {
            // The "unsafe" initializer is the one that accepts 1024-bit keys, which DKIM still allows.
            let key = try _RSA.Signing.PrivateKey(unsafePEMRepresentation: pem)
            guard key.keySizeInBits >= minimumRSABits else {
                throw DKIMKeyError("is an RSA key of \(key.keySizeInBits) bits; DKIM needs at least \(minimumRSABits) (2048 is advised)")
            }
            return key
        } catch let error as DKIMKeyError {
            throw error
        } catch {
            throw DKIMKeyError("is not a valid RSA private key")
        }
    }

    /// An Ed25519 key from PKCS#8 DER. OpenSSL writes the fixed 48-byte RFC 8410 form (a 16-byte header, then the
    /// seed), read here directly; anything longer (a version 2 key with its public half) goes to swift-crypto's parser.
    private static func ed25519Key(pkcs8 der: [UInt8]) throws(DKIMKeyError) -> Curve25519.Signing.PrivateKey {
        let header: [UInt8] = [0x30, 0x2E, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2B, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20]
        if der.count == header.count + 32, der.starts(with: header),
            let key = try? Curve25519.Signing.PrivateKey(rawRepresentation: der[header.count...])
        {
            return key
        }
        guard let key = try? Curve25519.Signing.PrivateKey(derRepresentation: der) else {
            throw DKIMKeyError("is not a valid Ed25519 private key")
        }
        return key
    }

    /// The modulus size of a PKCS#1 `RSAPrivateKey` (inside a PKCS#8 `PrivateKeyInfo` when `pkcs8`), or nil when the
    /// DER is not shaped like one (swift-crypto then gives the refusal).
    private static func rsaModulusBits(_ der: [UInt8], pkcs8: Bool) -> Int? {
        var pkcs1 = der[...]
        if pkcs8 {
            guard let info = derElement(der[...], tag: 0x30), let version = derElement(info.content, tag: 0x02),
                let identifier = derElement(version.rest, tag: 0x30), let octets = derElement(identifier.rest, tag: 0x04)
            else { return nil }
            pkcs1 = octets.content
        }
        guard let key = derElement(pkcs1, tag: 0x30), let version = derElement(key.content, tag: 0x02),
            let modulus = derElement(version.rest, tag: 0x02)
        else { return nil }
        let digits = modulus.content.drop(while: { $0 == 0 })
        guard let first = digits.first else { return 0 }
        return digits.count * 8 - first.leadingZeroBitCount
    }

    /// The DER element at the start of `bytes` if its tag is `tag`: its content and what follows it. Just enough DER
    /// to find the algorithm and modulus of a key.
    private static func derElement(_ bytes: ArraySlice<UInt8>, tag: UInt8) -> (content: ArraySlice<UInt8>, rest: ArraySlice<UInt8>)? {
        guard bytes.count >= 2, bytes.first == tag else { return nil }
        var index = bytes.startIndex + 1
        var length = Int(bytes[index])
        index += 1
        if length >= 0x80 {
            let count = length & 0x7F
            guard (1...4).contains(count), bytes.endIndex - index >= count else { return nil }
            length = bytes[index..<(index + count)].reduce(0) { $0 << 8 | Int($1) }
            index += count
        }
        guard bytes.endIndex - index >= length else { return nil }
        return (bytes[index..<(index + length)], bytes[(index + length)...])
    }
}

extension DKIMPrivateKey: CustomStringConvertible, CustomReflectable {
    public var description: String { "DKIMPrivateKey(\(algorithm.rawValue), \(keySizeInBits) bits)" }
    public var customMirror: Mirror { Mirror(self, children: ["algorithm": algorithm, "keySizeInBits": keySizeInBits]) }
}
