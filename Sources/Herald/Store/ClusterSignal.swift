import Foundation

/// What one node tells the others sharing its database: new work is due (so idle dispatchers look at
/// once instead of at their next poll), and which live inboxes changed (so a subscriber connected to
/// another node is pushed what this one stored).
public struct ClusterSignal: Sendable, Hashable, Codable {
    public var work: Bool
    /// Inboxes that were delivered new in-app messages.
    public var delivered: [InboxHub.Key]
    /// Reads, archives and "seen" marks.
    public var changes: [InboxChange]

    public init(work: Bool = false, delivered: [InboxHub.Key] = [], changes: [InboxChange] = []) {
        self.work = work
        self.delivered = delivered
        self.changes = changes
    }

    public var isEmpty: Bool { !work && delivered.isEmpty && changes.isEmpty }

    enum CodingKeys: String, CodingKey {
        case work = "w"
        case delivered = "d"
        case changes = "c"
    }

    /// The signal cut into pieces whose JSON stays under `limit` bytes (PostgreSQL's NOTIFY takes 8,000).
    func pieces(limit: Int = 7_000) -> [ClusterSignal] {
        var pieces: [ClusterSignal] = []
        var current = ClusterSignal(work: work)
        var size = 64
        func add(_ cost: Int, _ apply: (inout ClusterSignal) -> Void) {
            if size + cost > limit, !current.isEmpty {
                pieces.append(current)
                current = ClusterSignal()
                size = 64
            }
            apply(&current)
            size += cost
        }
        for key in delivered { add(key.tenantID.utf8.count + key.subscriberID.utf8.count + 40) { $0.delivered.append(key) } }
        for change in changes {
            add(change.tenantID.utf8.count + change.subscriberID.utf8.count + (change.messageID?.utf8.count ?? 0) + 120) {
                $0.changes.append(change)
            }
        }
        if !current.isEmpty { pieces.append(current) }
        return pieces
    }
}

extension InboxHub.Key: Codable {
    enum CodingKeys: String, CodingKey {
        case tenantID = "t"
        case subscriberID = "s"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            tenantID: try container.decode(String.self, forKey: .tenantID), subscriberID: try container.decode(String.self, forKey: .subscriberID))
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(tenantID, forKey: .tenantID)
        try container.encode(subscriberID, forKey: .subscriberID)
    }
}

extension InboxChange: Codable {
    enum CodingKeys: String, CodingKey {
        case tenantID = "t"
        case subscriberID = "s"
        case kind = "k"
        case messageID = "m"
        case at = "a"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        guard let kind = Kind(rawValue: try container.decode(String.self, forKey: .kind)) else {
            throw DecodingError.dataCorruptedError(forKey: .kind, in: container, debugDescription: "unknown inbox change")
        }
        self.init(
            tenantID: try container.decode(String.self, forKey: .tenantID), subscriberID: try container.decode(String.self, forKey: .subscriberID),
            kind: kind, messageID: try container.decodeIfPresent(String.self, forKey: .messageID),
            at: Timestamp.date(millis: try container.decode(Int64.self, forKey: .at)))
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(tenantID, forKey: .tenantID)
        try container.encode(subscriberID, forKey: .subscriberID)
        try container.encode(kind.rawValue, forKey: .kind)
        try container.encodeIfPresent(messageID, forKey: .messageID)
        try container.encode(Timestamp.millis(at), forKey: .at)
    }
}
