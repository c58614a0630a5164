/// The signing algorithm of a DKIM key: the `a=` tag of a signature, and through `keyType` the `k=` tag of the key's
/// DNS record.
///
/// Both are offered because receivers differ: every verifier knows rsa-sha256 (RFC 6376), while ed25519-sha256
/// (RFC 8463) has short keys and signatures but is not yet checked everywhere. A domain that wants both publishes two
/// selectors and signs twice.
public enum DKIMAlgorithm: String, Sendable, Codable, Hashable, CaseIterable {
    case rsaSHA256 = "rsa-sha256"
    case ed25519SHA256 = "ed25519-sha256"

    /// The `k=` value of the DNS key record (`rsa`, `ed25519`): the record names the key type, not the hash.
    public var keyType: String {
        switch self {
        case .rsaSHA256: "rsa"
        case .ed25519SHA256: "ed25519"
        }
    }
}
