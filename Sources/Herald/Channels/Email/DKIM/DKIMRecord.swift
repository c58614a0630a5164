/// The DNS TXT record that publishes a DKIM public key, for an operator to add to their zone.
///
/// Receivers look the key up at `<selector>._domainkey.<domain>`; until the record exists every signature fails, so
/// Herald shows it ready to paste rather than leaving the operator to assemble the name and tags.
public struct DKIMRecord: Sendable, Hashable, Codable {
    /// `<selector>._domainkey.<domain>`, without a trailing dot.
    public var name: String
    /// Always `TXT`.
    public var type: String
    /// The record's text as one string: `v=DKIM1; k=rsa; p=MIIB…`.
    public var value: String

    /// The record for `key` published under `selector` of `domain` (validated by `DKIMSigner`).
    public init(domain: String, selector: String, key: DKIMPrivateKey) {
        name = "\(selector)._domainkey.\(domain)"
        type = "TXT"
        value = "v=DKIM1; k=\(key.algorithm.keyType); p=\(key.publicKeyBase64)"
    }

    /// Character-strings of at most 255 bytes whose concatenation is `value`: a TXT record holds its text as such
    /// strings, and a 2048-bit RSA key (about 400 characters) does not fit in one. Receivers join them without
    /// separators (RFC 6376 §3.6.2.2). The tags come first and the key is cut into full strings after them.
    public var characterStrings: [String] {
        var strings: [String] = []
        var rest = Substring(value)
        if let keyStart = rest.range(of: "p=")?.lowerBound, keyStart > rest.startIndex, rest.utf8.count > 255 {
            strings.append(String(rest[..<keyStart]))
            rest = rest[keyStart...]
        }
        while !rest.isEmpty {
            // The value is ASCII (tags and base64), so 255 characters are 255 bytes.
            strings.append(String(rest.prefix(255)))
            rest = rest.dropFirst(255)
        }
        return strings
    }

    /// `value` as a zone file writes it: quoted character-strings separated by spaces,
    /// `"v=DKIM1; k=rsa; " "p=MIIB…" "…"`.
    public var zoneFileValue: String {
        characterStrings.map { "\"" + $0 + "\"" }.joined(separator: " ")
    }
}
