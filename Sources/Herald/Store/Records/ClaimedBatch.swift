import Foundation

/// A batch of claimed messages and their events.
public struct ClaimedBatch: Sendable {
    public var messages: [ClaimedMessage]
    public var events: [String: EventContext]

    public init(messages: [ClaimedMessage], events: [String: EventContext]) {
        self.messages = messages
        self.events = events
    }
}
