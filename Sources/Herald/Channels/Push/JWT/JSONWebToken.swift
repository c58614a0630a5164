import Foundation

/// Compact JSON Web Tokens (RFC 7519, JWS compact serialization of RFC 7515) for the push providers: Web Push's
/// VAPID (ES256, RFC 8292), APNs provider tokens (ES256) and FCM's OAuth assertion (RS256).
///
/// Only the framing lives here: base64url without padding of the header and the claims, the signing input
/// `header.claims`, and the signature the caller's closure makes over it. Which algorithm signs, and in which
/// shape (ES256 wants the raw 64-byte `r || s`, not DER), is each provider's business, so the token needs no key
/// types of its own. Header and claims go through `JSONEncoder`, never through string literals, so a `sub` or `aud`
/// with a quote in it cannot break the JSON.
enum JSONWebToken {
    enum Failure: Error, CustomStringConvertible {
        case unencodable(String)

        var description: String {
            switch self {
            case .unencodable(let reason): "cannot encode the token: \(reason)"
            }
        }
    }

    /// `base64url(header) "." base64url(claims) "." base64url(sign(signing input))`.
    static func make(header: [String: String], claims: [String: JSONValue], sign: ([UInt8]) throws -> [UInt8]) throws -> String {
        let input = try signingInput(header: header, claims: claims)
        let signature = try sign(Array(input.utf8))
        return input + "." + base64URL(signature)
    }

    /// `base64url(header) "." base64url(claims)`: the bytes a JWS signature covers.
    static func signingInput(header: [String: String], claims: [String: JSONValue]) throws -> String {
        base64URL(try json(header)) + "." + base64URL(try json(claims))
    }

    /// Base64url without padding (RFC 7515 §2), as every JWT part is written.
    static func base64URL(_ bytes: some Sequence<UInt8>) -> String {
        Data(bytes).base64URLEncoded()
    }

    /// Compact JSON with sorted keys and unescaped slashes (`"https://…"` reads as written).
    private static func json(_ value: some Encodable) throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        do {
            return Array(try encoder.encode(value))
        } catch {
            throw Failure.unencodable("\(error)")
        }
    }
}
