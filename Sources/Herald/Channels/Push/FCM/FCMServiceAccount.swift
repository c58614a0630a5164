import Crypto
import Foundation
import _CryptoExtras

/// A Google service account, as the JSON key file Firebase's console hands out ("Generate new private key"): who
/// Herald is to Google when it asks for an access token to send through FCM HTTP v1, and which project it sends for.
///
/// Only the fields Herald uses are kept; the file's others (`client_id`, `auth_uri`, the certificate URLs,
/// `universe_domain`) are read past, so the file can be pasted whole. The private key is a secret: ``redacted``
/// masks it, and ``problems(prefix:)`` never quotes it.
public struct FCMServiceAccount: Sendable, Hashable, Codable {
    /// `service_account`; any other kind of Google credential cannot sign its own assertion.
    public var type: String
    /// The Firebase project the messages are sent for (`projects/{project_id}/messages:send`).
    public var projectID: String
    /// The ID of the key (the assertion's `kid`).
    public var privateKeyID: String
    /// The key itself: a PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`) holding an RSA key.
    public var privateKeyPEM: String
    /// The account's address, the assertion's issuer.
    public var clientEmail: String
    /// Where assertions are exchanged for access tokens (Google's is `https://oauth2.googleapis.com/token`).
    public var tokenURI: String

    public static let defaultTokenURI = "https://oauth2.googleapis.com/token"
    /// What ``redacted`` shows in place of the private key.
    public static let redactedKey = "********"

    public init(
        type: String = "service_account", projectID: String, privateKeyID: String, privateKeyPEM: String, clientEmail: String,
        tokenURI: String = FCMServiceAccount.defaultTokenURI
    ) {
        self.type = type
        self.projectID = projectID
        self.privateKeyID = privateKeyID
        self.privateKeyPEM = privateKeyPEM
        self.clientEmail = clientEmail
        self.tokenURI = tokenURI
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case type
        case projectID = "project_id"
        case privateKeyID = "private_key_id"
        case privateKeyPEM = "private_key"
        case clientEmail = "client_email"
        case tokenURI = "token_uri"
    }

    /// Missing fields decode as empty (and `token_uri` as Google's), so ``problems(prefix:)`` can name every one
    /// that is missing at once rather than a decoding error naming the first.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        type = try container.decodeIfPresent(String.self, forKey: .type) ?? ""
        projectID = try container.decodeIfPresent(String.self, forKey: .projectID) ?? ""
        privateKeyID = try container.decodeIfPresent(String.self, forKey: .privateKeyID) ?? ""
        privateKeyPEM = try container.decodeIfPresent(String.self, forKey: .privateKeyPEM) ?? ""
        clientEmail = try container.decodeIfPresent(String.self, forKey: .clientEmail) ?? ""
        tokenURI = try container.decodeIfPresent(String.self, forKey: .tokenURI) ?? Self.defaultTokenURI
    }

    /// Reads the key file's JSON text.
    public init(json: String) throws {
        self = try JSONDecoder().decode(FCMServiceAccount.self, from: Data(json.utf8))
    }

    /// The same account with its private key replaced by `********`.
    public var redacted: FCMServiceAccount {
        var copy = self
        copy.privateKeyPEM = Self.redactedKey
        return copy
    }

    /// The signing key, read from ``privateKeyPEM`` (RSA of at least 2048 bits, as Google issues).
    public func signingKey() throws -> _RSA.Signing.PrivateKey {
        try _RSA.Signing.PrivateKey(pemRepresentation: privateKeyPEM.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    /// What is wrong, named `<prefix>.<field>` (`fcm.service_account.private_key`). The private key's reason says
    /// what was expected, never what was given.
    public func problems(prefix: String = "fcm.service_account") -> [FieldError] {
        var problems: [FieldError] = []
        if type != "service_account" {
            problems.append(FieldError("\(prefix).type", "must be service_account: the JSON key file of a Google service account"))
        }
        if !Self.isProjectID(projectID) {
            problems.append(
                FieldError("\(prefix).project_id", "must be the Firebase project's ID (lower-case letters, digits and hyphens, as in my-app-1234)"))
        }
        if privateKeyID.isEmpty { problems.append(FieldError("\(prefix).private_key_id", "must not be empty")) }
        if (try? signingKey()) == nil {
            problems.append(
                FieldError(
                    "\(prefix).private_key",
                    "must be the key file's private key: a PEM RSA private key (-----BEGIN PRIVATE KEY-----) of at least 2048 bits"))
        }
        let email = clientEmail.split(separator: "@", omittingEmptySubsequences: false)
        if email.count != 2 || email.contains(where: \.isEmpty) || clientEmail.contains(where: \.isWhitespace) {
            problems.append(FieldError("\(prefix).client_email", "must be the service account's email address"))
        }
        if let problem = DestinationPolicy.syntaxProblem(tokenURI) { problems.append(FieldError("\(prefix).token_uri", problem)) }
        return problems
    }

    /// Google project IDs: lower-case letters, digits and hyphens, and for old domain-scoped projects a
    /// `domain.com:` prefix. Anything else could change the meaning of the URL path it is put in.
    static func isProjectID(_ text: String) -> Bool {
        !text.isEmpty && text.utf8.count <= 100
            && text.unicodeScalars.allSatisfy {
                $0.isASCII && ($0.properties.isLowercase || ("0"..."9").contains($0) || "-.:".unicodeScalars.contains($0))
            }
    }
}
