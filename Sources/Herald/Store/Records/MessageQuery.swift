import Foundation

/// Filters for the activity log.
public struct MessageQuery: Sendable, Hashable {
    public var eventID: String?
    public var subscriberID: String?
    public var channel: ChannelKind?
    public var status: MessageStatus?
    public var since: Date?
    public var until: Date?
    public var cursor: Int64?
    public var limit: Int

    public init(
        eventID: String? = nil, subscriberID: String? = nil, channel: ChannelKind? = nil, status: MessageStatus? = nil, since: Date? = nil,
        until: Date? = nil, cursor: Int64? = nil, limit: Int = 50
    ) {
        self.eventID = eventID
        self.subscriberID = subscriberID
        self.channel = channel
        self.status = status
        self.since = since
        self.until = until
        self.cursor = cursor
        self.limit = limit
    }
}
