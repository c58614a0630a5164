import Foundation

/// Something a subscriber did to their inbox, as observers hear of it.
public struct InboxChange: Sendable, Hashable {
    public enum Kind: String, Sendable, Hashable {
        case read
        case readAll = "read_all"
        case archived
        case seen
    }

    public var tenantID: String
    public var subscriberID: String
    public var kind: Kind
    /// The message read or archived (public id); nil for read-all and seen.
    public var messageID: String?
    public var at: Date

    public init(tenantID: String, subscriberID: String, kind: Kind, messageID: String? = nil, at: Date = Date()) {
        self.tenantID = tenantID
        self.subscriberID = subscriberID
        self.kind = kind
        self.messageID = messageID
        self.at = at
    }
}
