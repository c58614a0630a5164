import Foundation

/// A named list of subscribers in a tenant (`residents`, `on-call`): a fan-out target that can hold millions.
public struct Topic: Sendable, Codable, Hashable {
    public var key: String
    public var name: String?
    public var memberCount: Int
    public var createdAt: Date?

    public init(key: String, name: String? = nil, memberCount: Int = 0, createdAt: Date? = nil) {
        self.key = key
        self.name = name
        self.memberCount = memberCount
        self.createdAt = createdAt
    }

    enum CodingKeys: String, CodingKey {
        case key, name
        case memberCount = "member_count"
        case createdAt = "created_at"
    }
}
