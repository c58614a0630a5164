import Crypto
import Foundation

/// An APNs signing key (token-based provider authentication): the `.p8` file Apple lets a developer download once,
/// with the Key ID it was issued under and the Team ID of the account. One key signs for every app of the team, in
/// both environments, and does not expire, which is why Herald takes it rather than per-app TLS certificates.
///
/// The private key is a secret: ``redacted`` masks it, and ``problems(prefix:)`` never quotes it, not even a part of
/// it, in a refusal that might be logged or shown to someone else.
public struct APNsCredentials: Sendable, Hashable, Codable {
    /// The 10-character Key ID of the signing key (the `kid` of every provider token).
    public var keyID: String
    /// The 10-character Team ID of the developer account (the `iss` of every provider token).
    public var teamID: String
    /// The `.p8` file's text: a PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`) holding a P-256 key.
    public var privateKeyPEM: String

    public init(keyID: String, teamID: String, privateKeyPEM: String) {
        self.keyID = keyID
        self.teamID = teamID
        self.privateKeyPEM = privateKeyPEM
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case keyID = "key_id"
        case teamID = "team_id"
        case privateKeyPEM = "private_key"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        try decoder.refuseUnknownKeys(CodingKeys.self)
        keyID = try container.decode(String.self, forKey: .keyID)
        teamID = try container.decode(String.self, forKey: .teamID)
        privateKeyPEM = try container.decode(String.self, forKey: .privateKeyPEM)
    }

    /// What ``redacted`` shows in place of the private key.
    public static let redactedKey = "********"

    /// The same credentials with the private key replaced by `********`.
    public var redacted: APNsCredentials {
        var copy = self
        copy.privateKeyPEM = Self.redactedKey
        return copy
    }

    /// The signing key, read from ``privateKeyPEM`` (surrounding whitespace, as a paste brings, is ignored).
    public func signingKey() throws -> P256.Signing.PrivateKey {
        try P256.Signing.PrivateKey(pemRepresentation: privateKeyPEM.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    /// What is wrong, named `<prefix>.key_id`, `<prefix>.team_id` and `<prefix>.private_key`. The reasons describe
    /// what was expected, never what was given, for the private key.
    public func problems(prefix: String = "apns") -> [FieldError] {
        var problems: [FieldError] = []
        if !Self.isAppleIdentifier(keyID) {
            problems.append(FieldError("\(prefix).key_id", "must be the 10-character Key ID of the signing key (letters and digits)"))
        }
        if !Self.isAppleIdentifier(teamID) {
            problems.append(FieldError("\(prefix).team_id", "must be the 10-character Team ID of the developer account (letters and digits)"))
        }
        if (try? signingKey()) == nil {
            problems.append(
                FieldError(
                    "\(prefix).private_key",
                    "must be the text of the .p8 file Apple issued with the key: a PEM private key (-----BEGIN PRIVATE KEY-----) on the P-256 curve"
                ))
        }
        return problems
    }

    /// Apple's Key IDs and Team IDs: ten ASCII letters or digits.
    static func isAppleIdentifier(_ text: String) -> Bool {
        text.utf8.count == 10 && text.unicodeScalars.allSatisfy { $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0)) }
    }
}
