import Foundation

/// One thing a live inbox connection is told: a new message, or that messages were read, archived or
/// seen. Every update carries the counts as the store has them after the change, so a bell that
/// shows the last counts it received never drifts from `GET /v1/inbox/count`.
public struct InboxUpdate: Sendable, Hashable, Encodable {
    public enum Kind: String, Sendable, Hashable, Encodable {
        /// Sent once when a connection opens (and after a resume), with the current counts.
        case counts = "inbox.counts"
        case created = "message.created"
        case read = "message.read"
        case archived = "message.archived"
        case readAll = "inbox.read_all"
        case seen = "inbox.seen"
        /// Keeps proxies from closing an idle stream; carries no counts.
        case heartbeat
    }

    public var kind: Kind
    public var message: InboxItem?
    public var messageID: String?
    public var counts: InboxCounts?
    /// The connection's position after this update: the SSE `id`.
    public var position: InboxPosition

    public init(kind: Kind, message: InboxItem? = nil, messageID: String? = nil, counts: InboxCounts?, position: InboxPosition) {
        self.kind = kind
        self.message = message
        self.messageID = messageID
        self.counts = counts
        self.position = position
    }

    enum CodingKeys: String, CodingKey {
        case kind = "type"
        case message
        case messageID = "message_id"
        case counts
        case position = "id"
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(kind, forKey: .kind)
        try container.encode(position.description, forKey: .position)
        try container.encodeIfPresent(message, forKey: .message)
        try container.encodeIfPresent(messageID ?? message?.id, forKey: .messageID)
        try container.encodeIfPresent(counts, forKey: .counts)
    }
}
