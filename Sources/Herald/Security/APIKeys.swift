import Crypto
import Foundation

/// Tenant API keys: random secrets shown once, stored as SHA-256 hashes.
///
/// A plain hash (not a slow password hash) is right here: keys are 192 random bits, so there is nothing
/// to brute-force, and every API request looks one up.
public enum APIKeys {
    public static let prefix = "hk_"

    /// A new key and the parts of it the store keeps.
    public static func issue(name: String?) -> (key: String, material: IssuedKeyMaterial) {
        let key = prefix + Identifier.secret(bytes: 24)
        let material = IssuedKeyMaterial(id: Identifier.make("key"), hash: hash(key), prefix: String(key.prefix(10)), name: name)
        return (key, material)
    }

    public static func hash(_ key: String) -> String {
        SHA256.hash(data: Data(key.utf8)).hexString
    }
}
