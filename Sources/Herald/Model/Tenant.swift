import Foundation

/// The isolation boundary: an estate, an organisation. Nothing crosses from one tenant to another.
public struct Tenant: Sendable, Codable, Hashable {
    public var id: String
    public var name: String
    public var createdAt: Date

    public init(id: String, name: String, createdAt: Date) {
        self.id = id
        self.name = name
        self.createdAt = createdAt
    }

    enum CodingKeys: String, CodingKey {
        case id, name
        case createdAt = "created_at"
    }
}

/// An API key's public description. The secret itself is shown once, at creation, and stored only as a hash.
public struct APIKeyInfo: Sendable, Codable, Hashable {
    public var id: String
    public var name: String?
    /// The first characters of the key, so an operator can tell keys apart.
    public var prefix: String
    public var createdAt: Date
    public var revokedAt: Date?

    public init(id: String, name: String?, prefix: String, createdAt: Date, revokedAt: Date?) {
        self.id = id
        self.name = name
        self.prefix = prefix
        self.createdAt = createdAt
        self.revokedAt = revokedAt
    }

    enum CodingKeys: String, CodingKey {
        case id, name, prefix
        case createdAt = "created_at"
        case revokedAt = "revoked_at"
    }
}

/// A newly made key: the only time its secret exists outside the caller's hands.
public struct IssuedAPIKey: Sendable, Codable, Hashable {
    public var key: String
    public var info: APIKeyInfo

    public init(key: String, info: APIKeyInfo) {
        self.key = key
        self.info = info
    }

    enum CodingKeys: String, CodingKey { case key }

    /// Encoded flat: `{"key": "hk_…", "id": …, "prefix": …, "created_at": …}`.
    public init(from decoder: any Decoder) throws {
        self.key = try decoder.container(keyedBy: CodingKeys.self).decode(String.self, forKey: .key)
        self.info = try APIKeyInfo(from: decoder)
    }

    public func encode(to encoder: any Encoder) throws {
        try info.encode(to: encoder)
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(key, forKey: .key)
    }
}
