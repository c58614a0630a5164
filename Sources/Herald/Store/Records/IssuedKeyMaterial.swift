/// A new API key's stored parts: id, hash and display prefix (never the secret).
public struct IssuedKeyMaterial: Sendable, Hashable {
    public var id: String
    public var hash: String
    public var prefix: String
    public var name: String?

    public init(id: String, hash: String, prefix: String, name: String?) {
        self.id = id
        self.hash = hash
        self.prefix = prefix
        self.name = name
    }
}
