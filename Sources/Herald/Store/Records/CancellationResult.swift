/// What cancelling by a cancellation key stopped: the events it matched and their messages that had not gone out.
public struct CancellationResult: Sendable, Hashable, Codable {
    public var events: [String]
    public var messages: Int

    public init(events: [String], messages: Int) {
        self.events = events
        self.messages = messages
    }

    enum CodingKeys: String, CodingKey {
        case events = "event_ids"
        case messages = "cancelled"
    }
}
